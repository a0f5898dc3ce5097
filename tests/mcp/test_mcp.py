"""test_mcp — `cscctl mcp` against a real cscd, run as a real non-root user.

Part 1 drives the server with the official MCP TypeScript SDK client
(sdk_client.mjs: handshake, tools, runs, progress, approvals, cancellation,
handles). Part 2 speaks raw JSON-RPC lines to attack the line reader:
malformed and oversized lines, duplicate keys, deep nesting, and stdin
closing mid-run. Prints "mcp: N passed, N failed"."""
import json, os, select, shutil, signal, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cscproto import CSCCTL, Daemon, Conn, Tally, ensure_user, pids_running, TEST_USER  # noqa: E402

APPROVAL_LINE = "manual_approval_for_classified_effect_types: [transform_local]\n"


def setup_daemon():
    d = Daemon()
    with open(d.policy, "a") as f:
        f.write(APPROVAL_LINE)
    d.proc.send_signal(signal.SIGHUP)
    uid, gid = ensure_user()
    for _ in range(100):   # the reload is done when the live policy says so
        c = Conn(d.sock, uid, gid)
        c.send({"type": "policy"})
        f = c.recv()
        c.close()
        if f.get("approval_required_effect_types") == ["transform_local"]:
            break
        time.sleep(0.05)
    return d


class Raw:
    """A `cscctl mcp` process spoken to line by line."""

    def __init__(self, sock, uid, gid, work):
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "USER": TEST_USER, "XDG_STATE_HOME": os.path.join(work, "state")}
        self.p = subprocess.Popen(["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups",
                                   CSCCTL, "mcp", "--socket", sock], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd="/")
        self.buf = b""
        self.lines = []     # every stdout line, to check that each is a protocol message

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send_bg(self, data):
        t = threading.Thread(target=self.send, args=(data,))
        t.start()
        return t

    def recv(self, timeout=10):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise TimeoutError("no line from cscctl mcp")
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError("cscctl mcp closed stdout")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.lines.append(line)
        return json.loads(line)

    def request(self, id_, method, params=None):
        msg = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(json.dumps(msg).encode() + b"\n")
        return self.recv()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def run_sdk(t, d, uid, gid, work):
    # On a fresh Debian 12 this installs nodejs and npm first (minutes), then the pinned SDK.
    setup = subprocess.run(["bash", os.path.join(HERE, "sdk-setup.sh"), os.path.join(BUILD, "mcp-node")],
                           capture_output=True, text=True, timeout=600)
    if setup.returncode == 77:
        print(setup.stderr.strip())
        return 77
    if setup.returncode != 0:
        t.check(False, "sdk setup", setup.stderr[-2000:])
        return 1
    env = dict(os.environ, SDK_DIR=setup.stdout.strip(), CSCCTL=CSCCTL, SOCK=d.sock, TEST_UID=str(uid),
               TEST_GID=str(gid), TEST_USER=TEST_USER, WORK_DIR=work, PUBKEY=d.pub)
    p = subprocess.run(["node", os.path.join(HERE, "sdk_client.mjs")], capture_output=True, text=True, env=env,
                       timeout=400)
    sys.stdout.write(p.stdout)
    if p.stderr.strip():
        print("node stderr:\n" + p.stderr[-4000:])
    for line in p.stdout.splitlines():
        if line.startswith("ok "):
            t.passed += 1
        elif line.startswith("FAIL "):
            t.failed += 1
    t.check("sdk checks:" in p.stdout and p.returncode in (0, 1), "the SDK client ran to its end", "rc %d" % p.returncode)
    return 0


def raw_checks(t, d, uid, gid, work):
    r = Raw(d.sock, uid, gid, work)
    try:
        init = r.request(1, "initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                                           "clientInfo": {"name": "raw", "version": "0"}})
        t.check(init["result"]["protocolVersion"] == "2024-11-05", "raw: an older protocolVersion is answered in kind")
        other = r.request(2, "initialize", {"protocolVersion": "1999-01-01", "capabilities": {},
                                            "clientInfo": {"name": "raw", "version": "0"}})
        t.check(other["result"]["protocolVersion"] == "2025-11-25", "raw: an unknown protocolVersion gets 2025-11-25")
        r.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        bad = {
            "garbage": b"garbage\n",
            "truncated JSON": b'{"jsonrpc":"2.0","id":7,"method":"ping"\n',
            "duplicate keys": b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}\n',
            "invalid UTF-8": b'{"jsonrpc":"2.0","id":3,"method":"p\xff\xfe"}\n',
            "lone surrogate": b'{"jsonrpc":"2.0","id":3,"method":"\\ud800"}\n',
            "deep nesting": b"[" * 100000 + b"\n",
        }
        for name, line in bad.items():
            r.send(line)
            e = r.recv()
            t.check(e.get("id") is None and e["error"]["code"] == -32700, "raw: %s gets -32700" % name, json.dumps(e)[:200])
        r.send(b'{"jsonrpc":"1.0","id":8,"method":"ping"}\n')
        e = r.recv()
        t.check(e["id"] == 8 and e["error"]["code"] == -32600, "raw: a wrong jsonrpc version gets -32600 with the id")
        r.send(b'{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}\n')
        e = r.recv()
        t.check(e["id"] is None and e["error"]["code"] == -32600, "raw: an object id gets -32600")
        big = b'{"jsonrpc":"2.0","id":9,"method":"ping","params":{"x":"' + b"a" * (5 << 20) + b'"}}\n'
        th = r.send_bg(big)
        e = r.recv(30)
        th.join()
        t.check(e["error"]["code"] == -32700 and "too long" in e["error"]["message"], "raw: a 5 MiB line is refused")
        r.send(b'{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}\n\n  \n')
        pong = r.request(10, "ping")
        t.check(pong == {"jsonrpc": "2.0", "id": 10, "result": {}}, "raw: still serving after all that (and silent on notifications)",
                json.dumps(pong))
        e = r.request(11, "resources/list", {})
        t.check(e["error"]["code"] == -32601, "raw: an unadvertised method gets -32601")
        # stdin closes while a command runs: the server exits promptly and the sandbox goes.
        argv = ["sleep", "39.75"]
        r.send(json.dumps({"jsonrpc": "2.0", "id": 12, "method": "tools/call",
                           "params": {"name": "csc_run", "arguments": {"argv": argv, "intent": "sleep"}}}).encode() + b"\n")
        for _ in range(100):
            if pids_running(*argv):
                break
            time.sleep(0.05)
        t.check(len(pids_running(*argv)) == 1, "raw: the command started")
        n_receipts = len(d.receipts())
        r.p.stdin.close()
        try:
            rc = r.p.wait(5)
        except subprocess.TimeoutExpired:
            rc = None
        t.check(rc == 0, "raw: exits with 0 within 5 s of stdin closing", str(rc))
        for _ in range(100):
            if not pids_running(*argv):
                break
            time.sleep(0.05)
        t.check(not pids_running(*argv), "raw: no sandbox process left after stdin closed")
        for _ in range(100):
            if len(d.receipts()) > n_receipts:
                break
            time.sleep(0.05)
        t.check(len(d.receipts()) > n_receipts, "raw: the cancelled execution's receipt is still logged")
        rest = r.p.stdout.read()
        lines = r.lines + [l for l in rest.split(b"\n") if l]
        ok = all(json.loads(l).get("jsonrpc") == "2.0" for l in lines)
        t.check(ok and r.buf == b"" and not rest.strip(), "raw: every stdout byte was a protocol message",
                repr(rest[:200]))
        err = r.p.stderr.read().decode(errors="replace")
        t.check("Sanitizer" not in err, "raw: no sanitizer report from cscctl mcp", err[-2000:])
    finally:
        r.close()


BUILD = os.environ.get("CSC_BUILD_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(CSCCTL)))


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (starts cscd and runs as a test user)")
        return 77
    if not shutil.which("setpriv"):
        print("SKIP: setpriv (util-linux) is missing")
        return 77
    uid, gid = ensure_user()
    d = setup_daemon()
    work = tempfile.mkdtemp(prefix="csc-mcp-test.", dir="/srv")
    os.chown(work, uid, gid)
    os.chmod(work, 0o755)
    t = Tally()
    try:
        rc = run_sdk(t, d, uid, gid, work)
        raw_checks(t, d, uid, gid, work)
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)
    t.check(d.returncode == 0, "cscd stopped cleanly (no sanitizer reports)", d.final_log[-2000:])
    print("mcp: %d passed, %d failed" % (t.passed, t.failed))
    if rc == 77 and t.failed == 0:
        print("SKIP (in part): the SDK client could not run; the raw checks above did")
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
