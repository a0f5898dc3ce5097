#!/usr/bin/env python3
"""Load and faults with the real daemon.

Load: 32 clients x N contracts (N=12 here; CSC_LOAD_PER_CLIENT=2000 for the
soak) mixing allowed commands with output, denied and failing ones: no
protocol error, every receipt verifies, daemon RSS and open fds flat, no
zombie or leftover process. Faults: kill -9 with sandboxes running, a torn
receipts.jsonl line, a full state file system, a SIGHUP storm under load,
a missing executable and a missing cwd."""
import hashlib, json, os, signal, subprocess, sys, tempfile, threading, time, traceback

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import CSCCTL, TEST_POLICY, Conn, Daemon, Tally, pids_running, _cred_lock, contract, ensure_user, output_of  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the daemon tests need root")
    sys.exit(77)
UID, GID = ensure_user()
PER_CLIENT = int(os.environ.get("CSC_LOAD_PER_CLIENT", "12"))
SANITIZED = "libasan" in subprocess.run(["ldd", os.environ.get("CSCD", "cscd")], capture_output=True, text=True).stdout
if SANITIZED:   # a small quarantine, so RSS says something about leaks
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"


def submit(d, c):
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "contract": c})
    frames = conn.recv_until_receipt()
    conn.close()
    return frames


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                st = open("/proc/%s/stat" % p).read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[1]) == pid:
                out.append((int(p), fields[0]))
    return out


def pool_settled(d):
    """Waits until the warm pool is as deep as it wants to be; returns how
    many warm executors it holds (they are cscd's children by design)."""
    end = time.time() + 30
    while True:
        conn = Conn(d.sock, UID, GID)
        conn.send({"type": "status"})
        p = conn.recv()["sandbox"]["warm_pool"]
        conn.close()
        if p["ready"] == p["depth"] or time.time() > end:
            return sum(p["ready"].values())
        time.sleep(0.05)


def leftover_children(d):
    """cscd's children but the warm pool's executors, once sessions that are
    still exiting (a sanitizer's leak check runs at their exit) are gone: a
    left-over sandbox stays."""
    warm = pool_settled(d)   # asked once: each status request starts (and ends) a session of its own
    end = time.time() + 10
    while True:
        kids = children(d.proc.pid)
        executors = []
        for k in kids:
            try:
                if open("/proc/%d/comm" % k[0]).read().strip() == "cscd-executor":
                    executors.append(k)
            except OSError:
                pass
        left = kids if len(executors) != warm else [k for k in kids if k not in executors]
        if not left or time.time() > end:
            return left
        time.sleep(0.1)


def verify_all(d, receipts):
    path = os.path.join(d.dir, "v.json")
    bad = 0
    for r in receipts:
        with open(path, "w") as f:
            json.dump(r, f)
        p = subprocess.run([CSCCTL, "verify-receipt", path, "--public-key", d.pub], capture_output=True, text=True)
        bad += p.stdout.strip() != "VALID"
    return bad


def load(d):
    kinds = [
        (contract([{"argv": ["sh", "-c", "echo out; echo err >&2"]}], cid="load-ok-0001"), "success", b"out\n"),
        (contract([{"argv": ["rm", "-rf", "/"]}], cid="load-deny-0001"), "blocked", b""),
        (contract([{"argv": ["false"]}], cid="load-fail-0001"), "failed", b""),
        (contract([{"pipeline": [["seq", "1000"], ["wc", "-l"]]}], cid="load-pipe-0001"), "success", b"1000\n"),
    ]
    problems, receipts = [], []
    lock = threading.Lock()

    def client(i):
        for j in range(PER_CLIENT):
            c, status, out = kinds[(i + j) % len(kinds)]
            try:
                f = submit(d, c)
                r = f[-1]["receipt"]
                ok = r["status"] == status and output_of(f) == out
                with lock:
                    receipts.append(r)
                    if not ok:
                        problems.append((c["contract_id"], r["status"], output_of(f)[:40]))
            except Exception as e:  # noqa: BLE001
                with lock:
                    problems.append(("protocol", repr(e)))
    # Warm up with a round at full concurrency (allocator pools, caches), then measure.
    ws = [threading.Thread(target=lambda i=i: [submit(d, kinds[(i + j) % 4][0]) for j in range(3)]) for i in range(32)]
    [t.start() for t in ws]
    [t.join(600) for t in ws]
    time.sleep(0.3)
    pool_settled(d)
    rss0, fd0 = rss_kib(d.proc.pid), fds(d.proc.pid)
    t0 = time.time()
    ts = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    [t.start() for t in ts]
    [t.join(600) for t in ts]
    took = time.time() - t0
    time.sleep(0.5)
    pool_settled(d)
    rss1, fd1 = rss_kib(d.proc.pid), fds(d.proc.pid)
    print("# load: %d contracts in %.1fs (%.0f/s), RSS %d -> %d KiB, fds %d -> %d" %
          (32 * PER_CLIENT, took, 32 * PER_CLIENT / took, rss0, rss1, fd0, fd1))
    assert not problems, problems[:5]
    assert len(receipts) == 32 * PER_CLIENT
    assert len({r["execution_id"] for r in receipts}) == len(receipts), "execution ids repeat"
    assert verify_all(d, receipts) == 0
    assert fd1 <= fd0, (fd0, fd1)
    # ASan keeps freed memory in quarantine (bounded), so allow it more room.
    assert rss1 - rss0 < (4096 if not SANITIZED else 24576), (rss0, rss1)
    left = leftover_children(d)
    assert left == [], [(k, open("/proc/%d/comm" % k[0]).read().strip() if os.path.exists("/proc/%d" % k[0]) else "-")
                         for k in left]


def kill9_leaves_no_sandbox_and_a_parseable_log(d):
    tag = "77%d" % (os.getpid() % 1000 + 1000)
    conns = []
    for i in range(3):
        c = Conn(d.sock, UID, GID)
        c.send({"type": "submit", "contract": contract([{"argv": ["sleep", tag], "timeout": 60}], cid="k9-%05d" % i)})
        while c.recv()["type"] != "started":
            pass
        conns.append(c)
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(10)
    time.sleep(1)
    left = pids_running("sleep", tag)
    assert not left, "sandbox processes survived kill -9: %s" % left
    for c in conns:
        c.close()
    for line in open(os.path.join(d.state, "receipts.jsonl")):
        json.loads(line)
    d.restart()
    assert submit(d, contract([{"argv": ["true"]}]))[-1]["receipt"]["status"] == "success"


def torn_line_is_reported_and_kept(d):
    path = os.path.join(d.state, "receipts.jsonl")
    d.stop_keep()
    size = os.path.getsize(path)
    with open(path, "a") as f:
        f.write('{"peer":{"uid":1},"receipt":{"trunc')
    d.restart()
    log = d.logtext()
    assert "torn line" in log and str(size) in log, log[-600:]
    submit(d, contract([{"argv": ["true"]}], cid="after-torn-0001"))
    lines = open(path).read().split("\n")
    assert '{"peer":{"uid":1},"receipt":{"trunc' in lines, "the torn line was dropped"
    assert json.loads([l for l in lines if l][-1])["receipt"]["contract_id"] == "after-torn-0001"


def full_state_fs_gives_clear_errors_and_recovers():
    d = Daemon(prepare_state=lambda st: subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", st], check=True))
    try:
        filler = os.path.join(d.state, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        f = submit(d, contract([{"argv": ["echo", "full"]}], cid="full-fs-0001"))
        assert f[-1]["receipt"]["status"] == "success" and output_of(f) == b"full\n", f[-1]
        assert "cannot append the receipt" in d.logtext() and "No space left" in d.logtext(), d.logtext()[-500:]
        os.unlink(filler)
        submit(d, contract([{"argv": ["true"]}], cid="full-fs-0002"))
        ids = [l["receipt"]["contract_id"] for l in d.receipts()]
        assert ids and ids[-1] == "full-fs-0002", ids
    finally:
        d.stop_keep()
        subprocess.run(["umount", "-l", d.state])
        d.stop()
    assert d.returncode == 0, d.final_log[-2000:]


def sighup_storm_under_load(d):
    other = TEST_POLICY.format(name="other-policy", extra="cut")
    orig = open(d.policy).read()
    hashes = set()
    for text in (orig, other):
        with open(d.policy + ".probe", "w") as f:
            f.write(text)
        hashes.add(subprocess.run([CSCCTL, "hash", "policy", d.policy + ".probe"], capture_output=True,
                                  text=True).stdout.strip())
    stop = threading.Event()

    def storm():
        i = 0
        while not stop.is_set():
            tmp = d.policy + ".new"
            with _cred_lock:   # other threads switch the effective uid to connect
                with open(tmp, "w") as f:
                    f.write(other if i % 2 else orig)
                os.rename(tmp, d.policy)   # atomic replace: cscd reads either one, never half
            d.proc.send_signal(signal.SIGHUP)
            i += 1
            time.sleep(0.03)
    t = threading.Thread(target=storm)
    t.start()
    bad = []
    try:
        def client(i):
            for j in range(10):
                f = submit(d, contract([{"argv": ["sh", "-c", "sleep 0.05; echo %d" % i]}], cid="hup-%02d-%04d" % (i, j)))
                r = f[-1]["receipt"]
                if r["status"] != "success" or r["policy_sha256"] not in hashes:
                    bad.append(r)
        cs = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        [c.start() for c in cs]
        [c.join(120) for c in cs]
    finally:
        stop.set()
        t.join()
        with _cred_lock:
            with open(d.policy, "w") as f:
                f.write(orig)
        d.proc.send_signal(signal.SIGHUP)
    assert not bad, bad[:2]
    assert d.logtext().count("reloaded:") >= 3, "the storm did not reload"
    # name and hash in every receipt belong to the same policy
    names = {}
    for l in d.receipts():
        r = l["receipt"]
        if r["contract_id"].startswith("hup-"):
            names.setdefault(r["policy_sha256"], set()).add(r["policy_profile"])
    assert all(len(v) == 1 for v in names.values()), names
    assert len(names) == 2, "the load did not run under both policies: %s" % names


def missing_executable_and_cwd(d):
    r = submit(d, contract([{"argv": ["nonexistent-cmd"]}]))[-1]["receipt"]
    assert r["status"] == "failed" and r["exit_code"] == 127 and "not found" in r["error"], r
    gone = tempfile.mkdtemp(prefix="csc-gone.")
    os.rmdir(gone)   # decided against a path that no longer exists
    r = submit(d, contract([{"argv": ["true"], "cwd": gone}]))[-1]["receipt"]
    assert r["status"] == "failed" and r["exit_code"] == 126 and "working directory" in r["error"], r


def main():
    t = Tally()
    d = Daemon(config_extra="max_executions_per_peer: 64\n")
    try:
        t.run("load_32_clients", load, d)
        t.run("missing_executable_and_cwd", missing_executable_and_cwd, d)
        t.run("sighup_storm_under_load", sighup_storm_under_load, d)
        t.run("kill9_leaves_no_sandbox_and_a_parseable_log", kill9_leaves_no_sandbox_and_a_parseable_log, d)
        t.run("torn_line_is_reported_and_kept", torn_line_is_reported_and_kept, d)
    finally:
        d.stop()
    t.check(d.returncode == 0, "daemon stopped cleanly", d.final_log[-3000:])
    t.run("full_state_fs_gives_clear_errors_and_recovers", full_state_fs_gives_clear_errors_and_recovers)
    print("load+faults: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
