#!/usr/bin/env python3
"""Rule 3 with the real daemon: every execution ends, with a signed receipt in
receipts.jsonl, within a bounded time after its command ends or is killed,
whatever the client or the command's descendants do:
  - a client that stops reading (cscd pauses the output) and then disconnects,
    or stays connected through SIGTERM;
  - a command that passes its stdout/stderr out of the sandbox (SCM_RIGHTS to
    a host process of the same user) and exits, or is cancelled: bytes written
    into the held pipes afterwards are neither streamed nor hashed.
Also two smaller fixes that need the real daemon: every secret of an
execution is redacted, and a --config that cannot be kept is fatal.
Prints `lifecycle: N passed, N failed`. usage: test_lifecycle.py PROBE FAILSTRDUP_SHIM"""
import array, base64, hashlib, json, os, shutil, signal, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import Conn, Daemon, Tally, contract, ensure_user, output_of, pids_running  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the lifecycle tests need root (cscd runs each command as the submitting user)")
    sys.exit(77)
if len(sys.argv) < 2:
    print("usage: test_lifecycle.py PROBE [FAILSTRDUP_SHIM]", file=sys.stderr)
    sys.exit(2)
UID, GID = ensure_user()
# Not under /tmp: the sandbox keeps /tmp private, so the probe and the
# listener's socket live in a directory the contract can declare.
WORK = tempfile.mkdtemp(prefix="csc-lifecycle.", dir="/var/tmp")
os.chmod(WORK, 0o755)
import atexit  # noqa: E402
atexit.register(shutil.rmtree, WORK, True)
BIN = os.path.join(WORK, "bin")
os.mkdir(BIN, 0o755)
PROBE = os.path.join(BIN, "csc-probe")
shutil.copy(sys.argv[1], PROBE)
os.chmod(PROBE, 0o755)
BOUND = 20          # seconds: generous; a hang shows as a miss, not a slow pass
MARKER = b"MARKER-WRITTEN-FROM-OUTSIDE-AFTER-EXIT"
results = []


def case(fn):
    results.append(fn)
    return fn


def wait_for_receipt(d, before, cid):
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        for line in d.receipts()[before:]:
            if line["receipt"]["contract_id"] == cid:
                return line["receipt"]
        time.sleep(0.1)
    return None


def status(d):
    c = Conn(d.sock)
    c.send({"type": "status"})
    f = c.recv()
    c.close()
    return f


class FdListener:
    """A host process of the test (root) that receives the command's stdout
    and stderr over SCM_RIGHTS and keeps them."""

    def __init__(self, name):
        self.dir = os.path.join(WORK, name)
        os.mkdir(self.dir, 0o755)
        self.path = os.path.join(self.dir, "s.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        os.chmod(self.path, 0o777)
        self.srv.listen(1)
        self.srv.settimeout(BOUND)
        self.fds = []
        self.got = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            s, _ = self.srv.accept()
            s.settimeout(BOUND)
            _, fds, _, _ = socket.recv_fds(s, 1, 4)
            self.fds = fds
            self.got.set()
            s.sendall(b"k")
            s.close()
        except OSError:
            self.got.set()

    def write_marker(self):
        """Writes into every held fd; True when some pipe still had a reader."""
        reached = False
        for fd in self.fds:
            try:
                os.set_blocking(fd, False)
                os.write(fd, MARKER + b"\n")
                reached = True
            except (BrokenPipeError, BlockingIOError, OSError):
                pass
        return reached

    def close(self):
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.srv.close()


def recv_until(conn, types, timeout):
    """Frames until one of `types` (returned last) or the timeout (None last)."""
    frames = []
    conn.s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            f = conn.recv()
            frames.append(f)
            if f["type"] in types:
                return frames, f
    except (socket.timeout, EOFError, ConnectionResetError):
        pass
    return frames, None


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


@case
def paused_stream_then_disconnect_still_ends_with_a_receipt(d):
    before = len(d.receipts())
    c = Conn(d.sock, UID, GID)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.send({"type": "submit", "contract": contract([{"argv": ["seq", "1", "3000000"], "timeout": 60}],
                                                      cid="paused-disconnect-01")})
    time.sleep(2)          # never read: the backlog grows and cscd pauses the pipes
    c.close()
    r = wait_for_receipt(d, before, "paused-disconnect-01")
    assert r is not None, "no receipt in receipts.jsonl %d s after the paused client disconnected" % BOUND
    assert r["status"] == "failed" and "cancelled" in r.get("error", ""), r
    st = status(d)
    assert st.get("executions_running", 0) == 0, st


@case
def paused_client_still_connected_sigterm_stops_cscd():
    d = Daemon()
    try:
        c = Conn(d.sock, UID, GID)
        c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.send({"type": "submit", "contract": contract([{"argv": ["seq", "1", "3000000"], "timeout": 60}],
                                                          cid="paused-sigterm-001")})
        time.sleep(2)
        d.proc.send_signal(signal.SIGTERM)
        try:
            d.proc.wait(BOUND)
        except subprocess.TimeoutExpired:
            raise AssertionError("cscd did not stop within %d s of SIGTERM with a paused client" % BOUND)
        assert d.proc.returncode == 0, d.logtext()[-3000:]
        rs = [x["receipt"] for x in d.receipts() if x["receipt"]["contract_id"] == "paused-sigterm-001"]
        assert len(rs) == 1 and rs[0]["status"] == "failed" and "cancelled" in rs[0]["error"], rs
        c.close()
    finally:
        d.stop()
    assert d.returncode == 0, d.final_log[-3000:]


@case
def output_pipes_passed_out_of_the_sandbox_do_not_hold_the_execution(d):
    before = len(d.receipts())
    lst = FdListener("pass-exit")
    conn = Conn(d.sock, UID, GID, timeout=BOUND)
    try:
        conn.send({"type": "submit", "contract": contract(
            [{"argv": [PROBE, "pass-fds", lst.path], "read": [BIN, lst.dir], "timeout": 60}], cid="pass-fds-exit-01")})
        frames, ex = recv_until(conn, ("exit", "receipt", "error"), BOUND)
        assert lst.got.wait(BOUND) and len(lst.fds) == 2, "the probe never passed its fds: %r" % frames[-3:]
        # Whatever happened, now write from outside and let go of the pipes.
        lst.write_marker()
        lst.close()
        more, last = recv_until(conn, ("receipt", "error"), BOUND)
        frames += more
        assert ex is not None and ex["type"] == "exit", \
            "the command exited but cscd sent no exit frame within %d s (the held pipes kept it open)" % BOUND
        assert last is not None and last["type"] == "receipt", last
        r = last["receipt"]
        out, err = output_of(frames, "stdout"), output_of(frames, "stderr")
        assert b"before-pass" in out, out
        assert MARKER not in out and MARKER not in err, "bytes written from outside after exit were streamed"
        assert r["stdout_hash"] == sha(out) and r["stderr_hash"] == sha(err), "hash does not cover the streamed bytes"
        assert r["status"] == "success", r
        line = [x for x in d.receipts()[before:] if x["receipt"]["contract_id"] == "pass-fds-exit-01"]
        assert len(line) == 1 and line[0]["receipt"]["stdout_hash"] == sha(out)
    finally:
        conn.close()
        lst.close()


@case
def held_pipes_and_a_cancelled_command_still_end(d):
    """The command passes its pipes out and keeps running; the client goes
    away. The sandbox is killed, and the execution ends although the host
    process still holds write ends."""
    before = len(d.receipts())
    lst = FdListener("pass-cancel")
    tag = "7%d" % (os.getpid() % 1000 + 1000)
    conn = Conn(d.sock, UID, GID, timeout=BOUND)
    try:
        conn.send({"type": "submit", "contract": contract(
            [{"argv": ["sh", "-c", '"$0" pass-fds "$1"; exec sleep "$2"', PROBE, lst.path, tag],
              "read": [BIN, lst.dir], "timeout": 60}], cid="pass-fds-cancel-1")})
        assert lst.got.wait(BOUND) and len(lst.fds) == 2, "the probe never passed its fds"
        deadline = time.monotonic() + BOUND
        while not pids_running("sleep", tag) and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.close()
        r = wait_for_receipt(d, before, "pass-fds-cancel-1")
        reached = lst.write_marker()
        assert r is not None, "no receipt %d s after the client left while a host process held the pipes" % BOUND
        assert r["status"] == "failed" and "cancelled" in r["error"], r
        assert not reached, "cscd still reads the pipes after the receipt"
        assert not pids_running("sleep", tag), "the sandbox outlived its execution"
    finally:
        conn.close()
        lst.close()


@case
def held_pipes_through_a_timeout(d):
    """The command passes its pipes out and sleeps past its timeout: the
    executor kills it and reports exit 124; the held pipes change nothing."""
    lst = FdListener("pass-timeout")
    conn = Conn(d.sock, UID, GID, timeout=BOUND)
    try:
        conn.send({"type": "submit", "contract": contract(
            [{"argv": ["sh", "-c", '"$0" pass-fds "$1"; exec sleep 60', PROBE, lst.path],
              "read": [BIN, lst.dir], "timeout": 2}], cid="pass-fds-timeout")})
        frames, last = recv_until(conn, ("receipt", "error"), BOUND)
        assert lst.got.is_set() and len(lst.fds) == 2, "the probe never passed its fds"
        assert last is not None and last["type"] == "receipt", "no receipt %d s after the timeout" % BOUND
        r = last["receipt"]
        assert r["status"] == "failed" and r["exit_code"] == 124, r
    finally:
        conn.close()
        lst.close()


@case
def hashing_expected_outputs_is_bounded_after_the_last_command(d):
    """After its last command the executor hashes the expected outputs as the
    peer. A host file of the peer's that never ends (4 TiB, sparse) must not
    hold the execution until the sum of every command's timeout: the receipt
    comes within the executor's grace after the command ends."""
    art = os.path.join(WORK, "artifacts")
    os.mkdir(art, 0o755)
    big = os.path.join(art, "huge.bin")
    with open(big, "wb") as f:
        f.truncate(4 << 40)
    os.chown(big, UID, GID)
    c = contract([{"argv": ["true"], "read": [art], "timeout": 120}], cid="artifact-bounded-01")
    c["expected_outputs"] = [big]
    conn = Conn(d.sock, UID, GID, timeout=BOUND)
    try:
        conn.send({"type": "submit", "contract": c})
        frames, ex = recv_until(conn, ("exit", "receipt", "error"), BOUND)
        assert ex is not None and ex["type"] == "exit" and ex["exit_code"] == 0, frames[-2:]
        grace = 30   # CSC_EXECUTOR_GRACE_SEC
        more, last = recv_until(conn, ("receipt", "error"), grace + BOUND)
        assert last is not None and last["type"] == "receipt", \
            "no receipt %d s after the last command ended (hashing held the execution)" % (grace + BOUND)
        r = last["receipt"]
        assert r["status"] == "failed" and "overran" in r.get("error", ""), r
        assert not r.get("artifacts"), r
    finally:
        conn.close()
        os.unlink(big)


def more_than_64_secrets_are_all_redacted():
    """Not rule 3, but the same file's daemon helpers: every secret of an
    execution is redacted (there was a fixed 64), and a command naming more
    than the per-command limit is an invalid contract."""
    sdir = os.path.join(WORK, "secrets")
    os.mkdir(sdir, 0o700)
    values = ["sv-%02d-q7z" % i for i in range(80)]
    for i, v in enumerate(values):
        fd = os.open(os.path.join(sdir, "s%02d" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, v.encode())
        os.close(fd)
    d = Daemon(allow_secrets=True, config_extra="secrets_dir: %s" % sdir)
    try:
        show = 'for f in /run/secrets/*; do cat "$f"; echo; done'
        cmds = [{"id": "c%d" % k, "argv": ["sh", "-c", show], "secrets": ["s%02d" % i for i in range(16 * k, 16 * k + 16)]}
                for k in range(5)]
        conn = Conn(d.sock, UID, GID, timeout=60)
        conn.send({"type": "submit", "contract": contract(cmds, cid="secrets-80-total")})
        frames = conn.recv_until_receipt()
        conn.close()
        r = frames[-1].get("receipt", frames[-1])
        out = output_of(frames).decode()
        assert r.get("status") == "success", r
        leaked = [v for v in values if v in out]
        assert not leaked, "not redacted: %s" % leaked
        assert out.splitlines() == ["***"] * 80, out[:400]
        # 17 secret_refs in one command: invalid_contract naming the path.
        conn = Conn(d.sock, UID, GID)
        conn.send({"type": "submit", "contract": contract(
            [{"argv": ["true"], "secrets": ["s%02d" % i for i in range(17)]}], cid="secrets-17-refs")})
        f = conn.recv()
        conn.close()
        assert f["type"] == "error" and f["code"] == "invalid_contract", f
        assert "secret_refs" in f.get("path", "") and "at most 16" in f["message"], f
    finally:
        d.stop()
    assert d.returncode == 0, d.final_log[-3000:]


def config_path_out_of_memory_is_fatal():
    """cscd --config FILE where copying FILE's name fails (ENOMEM, by an
    LD_PRELOAD shim): cscd must exit with an error, never start on the
    built-in defaults (fail-open)."""
    if len(sys.argv) < 3:
        raise AssertionError("the failstrdup shim was not passed to the test")
    d = Daemon()           # for its keys, policy and config; a second cscd gets its own socket and state
    try:
        sock, state = os.path.join(d.dir, "second.sock"), os.path.join(d.dir, "second-state")
        args = [a for a in d.args]
        args[args.index("--socket") + 1] = sock
        args[args.index("--state-dir") + 1] = state
        env = dict(os.environ, LD_PRELOAD=os.path.abspath(sys.argv[2]), CSC_FAIL_STRDUP=d.conf,
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
            out, _ = p.communicate(timeout=15)
            raise AssertionError("cscd started although it could not keep --config: %s" % out.decode()[-800:])
        assert p.returncode == 1 and b"out of memory" in out, (p.returncode, out.decode()[-800:])
        assert not os.path.exists(sock), "cscd listened before giving up"
    finally:
        d.stop()


def main():
    t = Tally()
    d = Daemon(policy_extra="cut, %s" % PROBE)
    try:
        for fn in results:
            if fn.__code__.co_argcount == 0:
                t.run(fn.__name__, fn)
            else:
                t.run(fn.__name__, fn, d)
        t.check(d.proc.poll() is None, "daemon alive after the cases", d.logtext()[-2000:])
    finally:
        d.stop()
    t.check(d.returncode == 0, "daemon stopped cleanly on SIGTERM",
            "exit status %s:\n%s" % (d.returncode, d.final_log[-4000:]))
    t.run("more_than_64_secrets_are_all_redacted", more_than_64_secrets_are_all_redacted)
    t.run("config_path_out_of_memory_is_fatal", config_path_out_of_memory_is_fatal)
    print("lifecycle: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
