#!/usr/bin/env python3
"""Connection limits of cscd, attacked by a real local user with the real
protocol: a peer that sends requests and never reads the replies (the reply
queue must stay bounded and the peer be throttled, then closed), a peer
without a role that opens connection after connection (it gets a small share;
submitters keep room), the per-uid share of users with a role, and the `busy`
frame a refused client gets (4-byte big-endian length + JSON)."""
import json, os, select, socket, struct, sys, threading, time

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import Conn, Daemon, Tally, contract, encode, ensure_user, output_of  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the connection-limit tests need root (they act as several real users)")
    sys.exit(77)
# A small ASan quarantine, so the daemon's RSS says something about what it holds.
os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
UID, GID = ensure_user("csc-test")            # a submitter
NR_UID, NR_GID = ensure_user("csc-test2")     # a local user with no role
SUB3_UID, SUB3_GID = ensure_user("csc-test3")  # another submitter
ROLES = "submit_users: [csc-test, csc-test3]"
MIB = 1 << 20


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def hung_up(sock, timeout):
    """True when the daemon closed its end (POLLHUP/POLLRDHUP) within timeout."""
    p = select.poll()
    p.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for _, ev in p.poll(100):
            if ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR):
                return True
    return False


def read_one_frame_then_eof(s):
    """Reads one frame byte-exactly: a 4-byte big-endian length, that many bytes
    of JSON, then the end of the stream (nothing after it)."""
    def need(n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise AssertionError("stream ended after %d of %d bytes (%r)" % (len(data), n, data))
            data += chunk
        return data
    (n,) = struct.unpack(">I", need(4))
    assert 0 < n < 65536, "implausible frame length %d" % n
    obj = json.loads(need(n))
    try:
        rest = s.recv(1)
    except ConnectionResetError:
        rest = b""
    assert rest == b"", "bytes after the frame: %r" % rest
    return obj


def submit_as(d, uid, gid, c, timeout=60):
    conn = Conn(d.sock, uid, gid, timeout=timeout)
    try:
        conn.send({"type": "submit", "contract": c})
        return conn.recv_until_receipt()
    finally:
        conn.close()


def open_and_status(d, uid, gid):
    """One connection with one `status` round trip: (conn, reply frame)."""
    c = Conn(d.sock, uid, gid, timeout=10)
    try:
        c.send({"type": "status"})
    except (ConnectionResetError, BrokenPipeError):
        pass   # refused already: the `busy` frame waits to be read
    try:
        return c, c.recv()
    except (EOFError, ConnectionResetError) as e:
        return c, {"type": "closed", "why": repr(e)}


def status_as_root(d):
    c = Conn(d.sock)
    c.send({"type": "status"})
    st = c.recv()
    c.close()
    return st


# ---- the reply queue --------------------------------------------------------

def unread_replies_stay_bounded():
    """A user without a role floods `status` requests and never reads: the
    daemon's RSS must stay within 16 MiB of where it was, the attacker must be
    throttled (its writes stop being taken) and then closed, and a submitter
    must still get a receipt meanwhile."""
    d = Daemon(config_extra=ROLES + "\nidle_timeout_ms: 3000")
    try:
        time.sleep(0.3)
        base = rss_kib(d.proc.pid)
        att = Conn(d.sock, NR_UID, NR_GID)
        att.s.setblocking(False)
        # 32-byte frames, 4096 to a send: the daemon's 64 KiB reads end on a frame
        # boundary, so no frame deadline ever cuts the flood short; what is
        # attacked is the queue of replies nobody reads.
        blob = encode({"type": "status", "p": "x"}) * 4096
        assert len(blob) == 32 * 4096
        legit = {}

        def submitter():
            try:
                fr = submit_as(d, UID, GID, contract([{"argv": ["echo", "legit"]}], cid="legit-under-flood"))
                legit["frames"] = fr
            except Exception as e:  # noqa: BLE001
                legit["error"] = repr(e)
        t = None
        sent, peak, closed_by_daemon = 0, base, False
        start = time.monotonic()
        while time.monotonic() - start < 8:
            if t is None and time.monotonic() - start > 1:
                t = threading.Thread(target=submitter)
                t.start()
            try:
                sent += att.s.send(blob)
            except BlockingIOError:
                select.select([], [att.s], [], 0.05)
            except (BrokenPipeError, ConnectionResetError):
                closed_by_daemon = True
                break
            peak = max(peak, rss_kib(d.proc.pid))
        t.join(60)
        peak = max(peak, rss_kib(d.proc.pid))
        print("# flood: %d bytes of requests taken, RSS %d -> peak %d KiB, closed during the flood: %s" %
              (sent, base, peak, closed_by_daemon))
        assert peak - base < 16 * 1024, "daemon RSS grew by %d KiB while replies went unread" % (peak - base)
        assert sent < 2 * MIB, "the daemon kept taking requests (%d bytes) from a peer that reads nothing" % sent
        assert closed_by_daemon or hung_up(att.s, 10), "the non-reading peer was never closed"
        fr = legit.get("frames")
        assert fr and fr[-1]["type"] == "receipt", "submitter during the flood: %r" % (legit.get("error") or fr)
        assert fr[-1]["receipt"]["status"] == "success" and output_of(fr) == b"legit\n", fr[-1]
        att.close()
        assert d.proc.poll() is None, "daemon died"
    finally:
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def slow_submitter_is_never_cut():
    """A submitter that stops reading for a while (its output pauses at the
    backlog bound) and then reads gets all of its output and its receipt: the
    hard cap only cuts peers that do not read, never a submit's own frames."""
    d = Daemon(config_extra=ROLES)
    try:
        time.sleep(0.3)
        base = rss_kib(d.proc.pid)
        c = Conn(d.sock, UID, GID, timeout=60)
        c.send({"type": "submit", "contract": contract([{"argv": ["seq", "1", "1000000"]}], cid="slow-reader-0001")})
        time.sleep(3)   # not reading: output pauses once about 1 MiB waits
        stalled = rss_kib(d.proc.pid)
        frames = c.recv_until_receipt()
        c.close()
        want = b"".join(b"%d\n" % i for i in range(1, 1000001))
        print("# slow reader: RSS %d -> %d KiB while stalled, %d frames" % (base, stalled, len(frames)))
        assert frames[-1]["type"] == "receipt", frames[-1]
        assert frames[-1]["receipt"]["status"] == "success", frames[-1]
        assert output_of(frames) == want, "output differs (%d bytes)" % len(output_of(frames))
        assert stalled - base < 16 * 1024, "RSS grew by %d KiB during the stall" % (stalled - base)
    finally:
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def trickled_frame_meets_its_deadline():
    """A frame's deadline (frame_timeout_ms) runs from its first byte: a peer
    that trickles one byte at a time must not hold its slot and a partial
    frame for ever. It gets `bad_frame` and the end of the stream."""
    d = Daemon(config_extra=ROLES + "\nframe_timeout_ms: 1500")
    try:
        c = Conn(d.sock, NR_UID, NR_GID)
        c.s.sendall(struct.pack(">I", 200))   # announces 200 bytes, then sends them slowly
        start = time.monotonic()
        got = None
        while time.monotonic() - start < 6:
            try:
                c.s.sendall(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
            r, _, _ = select.select([c.s], [], [], 0.3)
            if r:
                break
        took = time.monotonic() - start
        try:
            got = c.recv()
        except (EOFError, ConnectionResetError) as e:
            got = {"type": "closed", "why": repr(e)}
        print("# trickle: answered after %.1f s: %r" % (took, got))
        assert took < 4, "a trickled frame held the connection for %.1f s (frame_timeout_ms is 1.5 s)" % took
        assert got.get("code") == "bad_frame" and "in time" in got.get("message", ""), got
        assert hung_up(c.s, 5), "connection still open after the frame deadline"
        c.close()
    finally:
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def pipelining_reader_is_served():
    """A client that pipelines requests and reads every reply is served for as
    long as it goes on: back-pressure and frame deadlines are for peers that
    do not read or do not finish a frame, not for a busy one. The stream is
    offset by half a frame, so every read the daemon makes ends inside one."""
    d = Daemon(config_extra=ROLES + "\nframe_timeout_ms: 500")
    try:
        c = Conn(d.sock, NR_UID, NR_GID, timeout=10)
        one = encode({"type": "pubkeys"})
        stop = threading.Event()
        sent = [0]

        def writer():
            try:
                c.s.sendall(one[:11])   # every later chunk then ends inside a frame
                chunk = one[11:] + one * 96 + one[:11]
                while not stop.is_set():
                    c.s.sendall(chunk)
                    sent[0] += 97
                    time.sleep(0.02)   # each read then ends inside a frame, below the reply bound
            except OSError:
                pass
        t = threading.Thread(target=writer)
        t.start()
        got, start = 0, time.monotonic()
        try:
            while time.monotonic() - start < 3:
                f = c.recv()
                assert f["type"] == "pubkeys", "reply %d: %r" % (got + 1, f)
                got += 1
        finally:
            stop.set()
            c.s.shutdown(socket.SHUT_WR)
            t.join(10)
        print("# pipelining: %d replies in 3 s" % got)
        assert got > 1000, got
        c.close()
    finally:
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def unread_error_after_deadline_still_closes():
    """A peer that lets replies pile up in the kernel (not past the 64 KiB read
    bound), then starts a frame and never finishes nor reads: the deadline's
    error cannot be flushed, and the connection must still be closed (idle
    timeout), not kept for ever. The replies the kernel holds are unknown, so
    several connections each leave a different amount unread."""
    d = Daemon(config_extra=ROLES + "\nframe_timeout_ms: 1000\nidle_timeout_ms: 1500")
    conns = []
    try:
        for k in range(100, 1300, 50):
            c = Conn(d.sock, UID, GID)
            c.s.setblocking(False)
            data = encode({"type": "status", "p": "x"}) * k + struct.pack(">I", 100) + b"{"
            try:
                c.s.sendall(data)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
            conns.append((k, c))
        time.sleep(1.0 + 1.5 + 2.5)
        open_ones = [k for k, c in conns if not hung_up(c.s, 0.1)]
        assert not open_ones, "connections never closed (status requests sent: %s)" % open_ones
    finally:
        for _, c in conns:
            c.close()
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def revoked_role_ends_on_open_connections():
    """A reload that takes a user out of submit_users takes effect on the
    connections that user already holds: a kept-alive connection must not
    keep a revoked right."""
    import signal
    d = Daemon(config_extra=ROLES)
    try:
        c = Conn(d.sock, UID, GID)
        c.send({"type": "status"})
        assert c.recv()["type"] == "status"
        with open(d.conf) as f:
            text = f.read()
        assert ROLES in text
        with open(d.conf, "w") as f:
            f.write(text.replace(ROLES, "submit_users: [csc-test3]"))
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert "reloaded" in d.logtext(), d.logtext()[-2000:]
        c.send({"type": "submit", "contract": contract([{"argv": ["echo", "revoked"]}], cid="revoked-role-0001")})
        f = c.recv()
        assert f["type"] == "error" and f["code"] == "unauthorized", f
        c.close()
        fr = submit_as(d, SUB3_UID, SUB3_GID, contract([{"argv": ["echo", "granted"]}], cid="granted-role-0001"))
        assert fr[-1]["type"] == "receipt" and output_of(fr) == b"granted\n", fr[-1]
    finally:
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


# ---- connection slots -------------------------------------------------------

def roleless_user_cannot_take_every_slot():
    """With the default limits, a user with no role opens 300 connections and
    keeps them alive with `status`: it gets a small share (16), the rest are
    refused with a well-formed `busy` frame, and a submitter still connects
    and runs a contract."""
    d = Daemon(config_extra=ROLES)
    held = []
    try:
        accepted, refusals = 0, []
        for _ in range(300):
            c, f = open_and_status(d, NR_UID, NR_GID)
            if f["type"] == "status":
                accepted += 1
                held.append(c)
            else:
                refusals.append(f)
                c.close()
        print("# role-less user: %d connections accepted, %d refused" % (accepted, len(refusals)))
        sub = Conn(d.sock, UID, GID)   # a submitter comes along while they are held
        try:
            sub.send({"type": "submit", "contract": contract([{"argv": ["echo", "still-served"]}],
                                                             cid="slot-submitter-0001")})
        except (BrokenPipeError, ConnectionResetError):
            pass   # refused at once: the `busy` frame waits to be read
        try:
            fr = sub.recv_until_receipt()
        except (EOFError, ConnectionResetError) as e:
            fr = [{"type": "closed", "why": repr(e)}]
        sub.close()
        assert fr[-1]["type"] == "receipt" and fr[-1]["receipt"]["status"] == "success", \
            "submitter while a role-less user holds %d connections: %r" % (accepted, fr[-1])
        assert output_of(fr) == b"still-served\n"
        assert accepted == 16, "a user with no role holds %d connections" % accepted
        for f in refusals:
            assert f["type"] == "error" and f["code"] == "busy", f
            assert "max_connections_no_role" in f["message"], f
        for c in held:   # keep-alive: the held connections stay usable
            c.send({"type": "status"})
            assert c.recv()["type"] == "status"
        st = status_as_root(d)
        assert st["connections_no_role"] == 16, st
        assert st["connection_limits"] == {"max_connections": 256, "max_connections_per_uid": 64,
                                           "max_connections_no_role": 16}, st
    finally:
        for c in held:
            c.close()
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def per_uid_share_and_busy_frames():
    """Small limits: each uid gets max_connections_per_uid, role-less peers
    max_connections_no_role together, everyone max_connections; every refusal
    is one well-formed `busy` error frame followed by the end of the stream.
    Closing connections gives the share back."""
    d = Daemon(config_extra=ROLES + "\nmax_connections: 12\nmax_connections_per_uid: 6\nmax_connections_no_role: 2")
    held = []

    def fill(uid, gid, n):
        for i in range(n):
            c, f = open_and_status(d, uid, gid)
            assert f["type"] == "status", "connection %d of uid %s: %r" % (i + 1, uid, f)
            held.append(c)

    def refused(uid, gid, setting):
        c = Conn(d.sock, uid, gid, timeout=10)
        try:
            f = read_one_frame_then_eof(c.s)
        finally:
            c.close()
        assert f.get("type") == "error" and f.get("code") == "busy", f
        assert setting in f.get("message", ""), (setting, f)
        assert set(f) == {"type", "code", "message"}, f
    try:
        fill(UID, GID, 6)
        refused(UID, GID, "max_connections_per_uid")
        fill(NR_UID, NR_GID, 2)
        refused(NR_UID, NR_GID, "max_connections_no_role")
        fill(SUB3_UID, SUB3_GID, 4)       # 6 + 2 + 4 = 12: the daemon is full
        refused(SUB3_UID, SUB3_GID, "max_connections")
        refused(None, None, "max_connections")   # root too
        st = status_as_root_when_full(d, held)
        assert st["connections"] == 12 and st["connections_no_role"] == 2, st
        held.pop(0).close()                # a slot of csc-test comes back
        time.sleep(0.3)
        fill(UID, GID, 1)
        assert d.proc.poll() is None
    finally:
        for c in held:
            c.close()
        d.stop()
    assert d.returncode == 0, "daemon exit status %s:\n%s" % (d.returncode, d.final_log[-3000:])


def status_as_root_when_full(d, held):
    """The daemon is full, so ask on a connection it already holds."""
    c = held[-1]
    c.send({"type": "status"})
    return c.recv()


def main():
    t = Tally()
    t.run("unread_replies_stay_bounded", unread_replies_stay_bounded)
    t.run("slow_submitter_is_never_cut", slow_submitter_is_never_cut)
    t.run("trickled_frame_meets_its_deadline", trickled_frame_meets_its_deadline)
    t.run("unread_error_after_deadline_still_closes", unread_error_after_deadline_still_closes)
    t.run("pipelining_reader_is_served", pipelining_reader_is_served)
    t.run("revoked_role_ends_on_open_connections", revoked_role_ends_on_open_connections)
    t.run("roleless_user_cannot_take_every_slot", roleless_user_cannot_take_every_slot)
    t.run("per_uid_share_and_busy_frames", per_uid_share_and_busy_frames)
    print("conn limits: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
