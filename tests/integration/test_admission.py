#!/usr/bin/env python3
"""Admission and receipt durability of the real cscd, driven over the real
protocol by real non-root users: submits past max_executions or
max_executions_per_peer wait in a queue (FIFO within a uid, round-robin
across uids) instead of being refused; `busy` only once max_queued wait; a
queued client that leaves is dropped without a trace (no decision, no
receipt); status shows the depth per uid. Then the group commit of receipts:
every receipt a client holds is in receipts.jsonl when the client gets it,
and after the daemon is killed with SIGKILL while many finish."""
import json, os, signal, sys, threading, time

sys.path.insert(0, os.path.dirname(__file__))
import cscproto  # noqa: E402
from cscproto import Conn, Daemon, Tally, contract, encode, ensure_user  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the admission tests need root (they act as several real users)")
    sys.exit(77)
UID, GID = ensure_user("csc-test")
UID3, GID3 = ensure_user("csc-test3")


PREFIX = "admission-"   # contract ids have at least 8 characters


def sleeper(cid, sec="1"):
    return contract([{"argv": ["sleep", sec]}], cid=PREFIX + cid)


def send_submit(d, cid, uid=UID, gid=GID, sec="1"):
    c = Conn(d.sock, uid, gid, timeout=60)
    c.send({"type": "submit", "contract": sleeper(cid, sec)})
    return c


def wait_running(d, n, timeout=20):
    """Polls status until n executions run (so the next submit arrives after them)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = status(d)
        if s["executions_running"] == n:
            return s
        time.sleep(0.02)
    raise AssertionError("never %d executions running: %r" % (n, s["executions_running"]))


def status(d, uid=None, gid=None):
    c = Conn(d.sock, uid, gid)
    c.send({"type": "status"})
    s = c.recv()
    c.close()
    assert s["type"] == "status", s
    return s


def wait_queued(d, n, timeout=20):
    """Polls status (as root: every uid) until n submits wait."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = status(d)
        if s["admission"]["queued"] == n:
            return s
        time.sleep(0.02)
    raise AssertionError("queue depth never reached %d: %r" % (n, s["admission"]))


def collect(conns):
    """Reads every connection to its receipt (or error) in threads: {index: frames}."""
    out = {}

    def run(i, c):
        try:
            out[i] = c.recv_until_receipt()
        except Exception as e:   # noqa: BLE001
            out[i] = [{"type": "exception", "error": repr(e)}]
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return out


def receipt_order(d):
    return [line["receipt"]["contract_id"][len(PREFIX):] for line in d.receipts()]


def finish(d):
    d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def ten_submits_of_one_uid_wait_in_fifo_order():
    """max_executions 2, ten `sleep 1` of one uid: none is refused, all
    succeed, and they start in the order they arrived (in waves of two, a
    second apart: the decision frame is sent when a submit starts)."""
    d = Daemon(config_extra="max_executions: 2\n")
    try:
        conns = []
        for i in range(10):
            conns.append(send_submit(d, "fifo-%04d" % i))
            if i < 2:
                wait_running(d, i + 1)
            else:
                wait_queued(d, i - 1)   # arrival order is fixed: i is queued before i+1 is sent
        frames = collect(conns)
        for i in range(10):
            f = frames[i]
            assert f[-1]["type"] == "receipt" and f[-1]["receipt"]["status"] == "success", (i, f[-1])
            assert f[0]["type"] == "decision", (i, f[0])
        started = [next(fr["_t"] for fr in frames[i] if fr["type"] == "started") for i in range(10)]
        for i in range(10):
            for j in range(10):
                if j // 2 > i // 2:
                    assert started[i] < started[j], ("not FIFO", i, j, started)
        assert status(d)["outcomes"]["busy"] == 0
        assert status(d)["admission"]["queued"] == 0
        for c in conns:
            c.close()
    finally:
        finish(d)


def two_uids_take_turns():
    """max_executions 1: uid A has a0 running and a1..a3 waiting, then uid B
    queues b0..b2. They run a0, a1, b0, a2, b1, a3, b2: B is not starved
    behind A's line, and A (first in the round) keeps its turn."""
    d = Daemon(config_extra="max_executions: 1\n")
    try:
        conns = [send_submit(d, "rr-a0", sec="0.3")]
        wait_running(d, 1)
        n = 0
        for i in range(1, 4):
            conns.append(send_submit(d, "rr-a%d" % i, sec="0.3"))
            n += 1
            wait_queued(d, n)
        for i in range(3):
            conns.append(send_submit(d, "rr-b%d" % i, UID3, GID3, sec="0.3"))
            n += 1
            wait_queued(d, n)
        frames = collect(conns)
        assert all(f[-1]["type"] == "receipt" for f in frames.values()), frames
        order = receipt_order(d)
        want = ["rr-a0", "rr-a1", "rr-b0", "rr-a2", "rr-b1", "rr-a3", "rr-b2"]
        assert order == want, order
        for c in conns:
            c.close()
    finally:
        finish(d)


def per_uid_cap_waits_and_status_shows_depth():
    """max_executions_per_peer 1: uid A's second and third submits wait
    while uid B's starts at once (a uid at its cap does not hold the others
    up). Status shows A's depth: every uid to root, only its own to A, none
    of A's to B."""
    d = Daemon(config_extra="max_executions: 4\nmax_executions_per_peer: 1\n")
    try:
        conns = [send_submit(d, "cap-a0", sec="2")]
        wait_running(d, 1)
        conns.append(send_submit(d, "cap-a1", sec="0.2"))
        wait_queued(d, 1)
        conns.append(send_submit(d, "cap-a2", sec="0.2"))
        s = wait_queued(d, 2)
        assert s["admission"]["by_uid"] == [{"uid": UID, "queued": 2}], s["admission"]
        assert s["executions_running"] == 1, s
        mine = status(d, UID, GID)["admission"]
        assert mine["queued"] == 2 and mine["by_uid"] == [{"uid": UID, "queued": 2}], mine
        other = status(d, UID3, GID3)["admission"]
        assert other["queued"] == 2 and other["by_uid"] == [], other
        b = send_submit(d, "cap-b0", UID3, GID3, sec="0.2")
        fb = b.recv_until_receipt()
        assert fb[-1]["type"] == "receipt" and fb[-1]["receipt"]["status"] == "success", fb[-1]
        assert status(d)["admission"]["queued"] == 2, "B ran while A still waited"
        frames = collect(conns)
        assert all(f[-1]["type"] == "receipt" and f[-1]["receipt"]["status"] == "success"
                   for f in frames.values()), frames
        assert receipt_order(d) == ["cap-b0", "cap-a0", "cap-a1", "cap-a2"], receipt_order(d)
        st = status(d)
        assert st["admission"]["queued"] == 0 and st["admission"]["queued_total"] == 2, st["admission"]
        for c in conns + [b]:
            c.close()
    finally:
        finish(d)


def full_queue_answers_busy():
    """max_executions 1, max_queued 3: one runs, three wait, the fifth is
    refused with `busy` at once (naming max_queued); the others all run."""
    d = Daemon(config_extra="max_executions: 1\nmax_queued: 3\n")
    try:
        conns = [send_submit(d, "full-0", sec="1")]
        wait_running(d, 1)
        for i in range(1, 4):
            conns.append(send_submit(d, "full-%d" % i, sec="0.1"))
            wait_queued(d, i)
        t0 = time.monotonic()
        over = send_submit(d, "full-over")
        f = over.recv()
        assert f["type"] == "error" and f["code"] == "busy" and "max_queued" in f["message"], f
        assert time.monotonic() - t0 < 0.9, "the refusal waited for a slot"
        over.close()
        frames = collect(conns)
        assert all(fr[-1]["type"] == "receipt" and fr[-1]["receipt"]["status"] == "success"
                   for fr in frames.values()), frames
        assert "full-over" not in receipt_order(d)
        assert status(d)["outcomes"]["busy"] == 1
        for c in conns:
            c.close()
    finally:
        finish(d)


def queued_client_that_leaves_is_dropped():
    """A queued client that hangs up leaves the queue: the depth goes back,
    nothing runs for it, it gets no decision and no receipt (in the log or
    receipts.jsonl), and the next one in line runs instead. A queued client
    that sends another request is dropped too, with a `bad_frame` error."""
    d = Daemon(config_extra="max_executions: 1\n")
    try:
        first = send_submit(d, "leave-run", sec="1")
        wait_running(d, 1)
        gone = send_submit(d, "leave-gone")
        wait_queued(d, 1)
        nxt = send_submit(d, "leave-next", sec="0.1")
        wait_queued(d, 2)
        gone.close()
        s = wait_queued(d, 1)
        assert s["admission"]["dropped"] == 1, s["admission"]
        # Pipelined: a status request behind a submit that must wait.
        pipe = Conn(d.sock, UID, GID)
        pipe.send_raw(encode({"type": "submit", "contract": sleeper("leave-pipelined")}) +
                      encode({"type": "status"}))
        f = pipe.recv()
        assert f["type"] == "error" and f["code"] == "bad_frame" and "queued" in f["message"], f
        assert pipe.closed()
        assert wait_queued(d, 1)["admission"]["dropped"] == 2
        frames = collect([first, nxt])
        assert frames[0][-1]["receipt"]["status"] == "success", frames[0][-1]
        assert frames[1][-1]["receipt"]["status"] == "success", frames[1][-1]
        assert receipt_order(d) == ["leave-run", "leave-next"], receipt_order(d)
        log = d.logtext()
        assert "leave-gone" not in log and "leave-pipelined" not in log, "a dropped submit left a trace"
        assert "dropped a queued submit" in log
        first.close()
        nxt.close()
    finally:
        finish(d)


def role_revoked_while_queued_is_refused():
    """A reload that takes the submit role away while a submit of that user
    waits: when its turn comes it is refused `unauthorized`, runs nothing
    and leaves no receipt; the next one in line runs."""
    d = Daemon(config_extra="max_executions: 1\nsubmit_users: [csc-test, csc-test3]\n")
    try:
        run = send_submit(d, "revoke-run", sec="1")
        wait_running(d, 1)
        victim = send_submit(d, "revoke-victim", UID3, GID3, sec="0.1")
        wait_queued(d, 1)
        nxt = send_submit(d, "revoke-next", sec="0.1")
        wait_queued(d, 2)
        with open(d.conf) as f:
            text = f.read()
        with open(d.conf, "w") as f:
            f.write(text.replace("submit_users: [csc-test, csc-test3]", "submit_users: [csc-test]"))
        d.proc.send_signal(signal.SIGHUP)
        f = victim.recv()
        assert f["type"] == "error" and f["code"] == "unauthorized", f
        frames = collect([run, nxt])
        assert all(fr[-1]["type"] == "receipt" for fr in frames.values()), frames
        assert receipt_order(d) == ["revoke-run", "revoke-next"], receipt_order(d)
        for c in (run, victim, nxt):
            c.close()
    finally:
        finish(d)


def stop_refuses_the_queue():
    """SIGTERM while submits wait: the running one finishes and is signed;
    each waiting one gets `busy` (it never started, so no receipt)."""
    d = Daemon(config_extra="max_executions: 1\nstop_grace_sec: 10\n")
    run = send_submit(d, "stop-run", sec="1")
    wait_running(d, 1)
    waiting = [send_submit(d, "stop-wait-%d" % i) for i in range(2)]
    wait_queued(d, 2)
    d.proc.send_signal(signal.SIGTERM)
    for c in waiting:
        f = c.recv()
        assert f["type"] == "error" and f["code"] == "busy" and "stopping" in f["message"], f
    fr = run.recv_until_receipt()
    assert fr[-1]["type"] == "receipt" and fr[-1]["receipt"]["status"] == "success", fr[-1]
    d.proc.wait(20)
    assert receipt_order(d) == ["stop-run"], receipt_order(d)
    finish(d)


def receipts_are_durable_before_they_are_sent():
    """Group commit keeps the order: 32 clients of one uid at once (so
    receipts finish together and share syncs); the moment a client holds its
    receipt, receipts.jsonl has that exact receipt. Then again with SIGKILL
    in the middle of a burst: every receipt a client got is in the file
    after the kill, every line parses, and the restarted daemon serves."""
    d = Daemon()
    try:
        for rnd in range(3):
            got, lock = [], threading.Lock()
            missing = []

            def one(i):
                try:
                    c = Conn(d.sock, UID, GID, timeout=60)
                    c.send({"type": "submit", "contract": contract([{"argv": ["true"]}],
                                                                   cid="gc-%d-%04d" % (rnd, i))})
                    fr = c.recv_until_receipt()
                except Exception:   # noqa: BLE001 — the kill cuts some off: they hold no receipt
                    return
                if fr[-1]["type"] != "receipt":
                    return
                r = fr[-1]["receipt"]
                if rnd < 2:   # at once: the line is there before the client could see the receipt
                    with cscproto._cred_lock:   # as root: another thread may be connecting as the user
                        lines = d.receipts()
                    if not any(line["receipt"] == r for line in lines):
                        missing.append(r["contract_id"])
                with lock:
                    got.append(r)
                c.close()
            threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
            for t in threads:
                t.start()
            if rnd == 2:
                end = time.monotonic() + 30
                while len(got) < 4 and time.monotonic() < end:
                    time.sleep(0.005)
                d.proc.send_signal(signal.SIGKILL)
                d.proc.wait()
            for t in threads:
                t.join(60)
            assert not missing, "receipts sent before they were in receipts.jsonl: %r" % missing
            lines = d.receipts()   # json.loads every line: a torn one would raise
            in_file = {json.dumps(line["receipt"], sort_keys=True) for line in lines}
            lost = [r["contract_id"] for r in got if json.dumps(r, sort_keys=True) not in in_file]
            assert not lost, "round %d: received but not in receipts.jsonl: %r" % (rnd, lost)
            assert len(got) >= (32 if rnd < 2 else 4), (rnd, len(got))
            print("  round %d: %d receipts received, all in receipts.jsonl (%d lines)" % (rnd, len(got), len(lines)))
        d.restart()
        c = Conn(d.sock, UID, GID)
        c.send({"type": "submit", "contract": contract([{"argv": ["true"]}], cid="gc-after")})
        fr = c.recv_until_receipt()
        assert fr[-1]["type"] == "receipt" and fr[-1]["receipt"]["status"] == "success", fr[-1]
        assert d.receipts()[-1]["receipt"] == fr[-1]["receipt"]
        c.close()
    finally:
        finish(d)


def main():
    t = Tally()
    t.run("ten_submits_of_one_uid_wait_in_fifo_order", ten_submits_of_one_uid_wait_in_fifo_order)
    t.run("two_uids_take_turns", two_uids_take_turns)
    t.run("per_uid_cap_waits_and_status_shows_depth", per_uid_cap_waits_and_status_shows_depth)
    t.run("full_queue_answers_busy", full_queue_answers_busy)
    t.run("queued_client_that_leaves_is_dropped", queued_client_that_leaves_is_dropped)
    t.run("role_revoked_while_queued_is_refused", role_revoked_while_queued_is_refused)
    t.run("stop_refuses_the_queue", stop_refuses_the_queue)
    t.run("receipts_are_durable_before_they_are_sent", receipts_are_durable_before_they_are_sent)
    print("admission: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
