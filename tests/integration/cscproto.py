"""cscproto — a small client of cscd's wire protocol for the tests: frames are
a 4-byte big-endian length and one JSON object. Also sets up a real daemon in
a temporary directory with a real non-root user."""
import base64, json, os, pwd, shutil, signal, socket, struct, subprocess, tempfile, threading, time

BUILD = os.environ.get("CSC_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
CSCCTL = os.environ.get("CSCCTL", os.path.join(BUILD, "client", "cscctl"))
CSCD = os.environ.get("CSCD", os.path.join(BUILD, "daemon", "cscd"))
TEST_USER = "csc-test"
# Test files that contracts declare live here, not in /tmp: the sandbox's /tmp
# is private and cscd refuses declared paths in it.
WORKROOT = "/srv/csc-tests"


def mkwork(prefix):
    """A fresh 0755 directory under WORKROOT (its parents 0755, owned by root)."""
    os.makedirs(WORKROOT, mode=0o755, exist_ok=True)
    os.chmod(WORKROOT, 0o755)
    d = tempfile.mkdtemp(prefix=prefix, dir=WORKROOT)
    os.chmod(d, 0o755)
    return d


def ensure_user(name=TEST_USER):
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
        pw = pwd.getpwnam(name)
    return pw.pw_uid, pw.pw_gid


def as_user(uid, gid, fn, home=None):
    """Runs fn in a forked child holding uid/gid and no supplementary groups
    (real files made by the real user); fails the caller if fn raised."""
    import traceback
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            if home:
                os.environ["HOME"] = home
            fn()
            os._exit(0)
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(st) == 0, "the user-side setup failed"


def pids_running(*argv):
    """PIDs on the host whose command line is exactly argv (to prove that no
    sandbox process outlived its command)."""
    want = b"".join(a.encode() + b"\0" for a in argv)
    found = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if f.read() == want:
                        found.append(int(p))
            except OSError:
                pass
    return found


def encode(obj):
    data = json.dumps(obj, ensure_ascii=False).encode()
    return struct.pack(">I", len(data)) + data


_cred_lock = threading.Lock()


class Conn:
    """A connection made with the effective uid/gid given (SO_PEERCRED records them at connect)."""

    def __init__(self, path, uid=None, gid=None, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        # The effective ids are process-wide: connect under a lock so threads
        # of one test cannot mix them up.
        with _cred_lock:
            if uid is not None:
                os.setegid(gid)
                os.seteuid(uid)
            try:
                self.s.connect(path)
            finally:
                if uid is not None:
                    os.seteuid(0)
                    os.setegid(0)
        self.buf = b""

    def send(self, obj):
        self.s.sendall(encode(obj))

    def send_raw(self, data):
        self.s.sendall(data)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def recv(self):
        self._need(4)
        (n,) = struct.unpack(">I", self.buf[:4])
        self._need(4 + n)
        data, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return json.loads(data)

    def recv_until_receipt(self):
        frames = []
        while True:
            f = self.recv()
            f["_t"] = time.monotonic()
            frames.append(f)
            if f["type"] in ("receipt", "error"):
                return frames

    def closed(self, timeout=5):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def output_of(frames, stream="stdout"):
    return b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == stream)


def contract(commands, cid="test-contract-0001", risk="low", mode="policy_only"):
    cmds = []
    for i, c in enumerate(commands):
        d = {"id": c.get("id", "cmd_%d" % (i + 1)), "cwd": c.get("cwd", "/tmp"),
             "read_paths": c.get("read", []), "write_paths": c.get("write", []),
             "network": c.get("network", "deny"), "env_allow": c.get("env", []),
             "secret_refs": c.get("secrets", []), "timeout_sec": c.get("timeout", 30),
             "proposed_effect_type": c.get("effect", "observe")}
        if "pipeline" in c:
            d["pipeline"] = {"segments": [{"argv": a} for a in c["pipeline"]]}
        else:
            d["exec"] = {"argv": c["argv"]}
        cmds.append(d)
    return {"version": "csc.v0.1", "contract_id": cid, "intent": "test", "justification": "test",
            "actor": {"agent_id": "a", "session_id": "s", "initiating_user": "u", "delegation_scope": "t"},
            "commands": cmds, "risk_class": risk, "approval_mode": mode}


TEST_POLICY = """\
policy_schema_version: csc.policy.v0.1
name: {name}
allow_commands: [echo, printf, "true", "false", cat, ls, id, sleep, sh, bash, tr, head, "yes", seq, touch, env, pwd, wc, stat, nonexistent-cmd, {extra}]
deny_argv_prefixes: [[cat, /etc/shadow]]
allowed_effect_types: [observe, transform_local]
allowed_risk_classes: [low, medium]
max_timeout_sec: 120
network: full
allow_secret_refs: false
allowed_cwd_prefixes: [/tmp, /srv, /]
allowed_read_prefixes: [/tmp, /srv, /etc, /usr, /var, /]
allowed_write_prefixes: [/tmp, /srv]
"""


class Daemon:
    """A real cscd on a temporary socket with its own key, state dir and policy."""

    def __init__(self, policy_extra="cut", config_extra="", activate=False, config_extra_raw="",
                 prepare_state=None, allow_secrets=False, policy_extra_raw=""):
        self.dir = mkwork("cscd-test.")
        self.sock = os.path.join(self.dir, "csc.sock")
        self.state = os.path.join(self.dir, "state")
        self.keys = os.path.join(self.dir, "keys")
        os.mkdir(self.keys, 0o700)
        subprocess.run([CSCCTL, "keygen", "--key-id", "test-key", "--out-dir", self.keys], check=True,
                       capture_output=True)
        self.pub = os.path.join(self.keys, "test-key.pub")
        self.policy = os.path.join(self.dir, "policy.yaml")
        with open(self.policy, "w") as f:
            text = TEST_POLICY.format(name="test-policy", extra=policy_extra)
            if allow_secrets:
                text = text.replace("allow_secret_refs: false", "allow_secret_refs: true")
            f.write(text + policy_extra_raw)  # whole YAML lines appended (allowed_egress_hosts, say)
        self.conf = os.path.join(self.dir, "cscd.conf")
        with open(self.conf, "w") as f:
            # The tests attack and exercise the sandbox itself with shells, so the
            # advisory interpreter block (on by default) is off here; one test
            # checks the default.
            settings = {"frame_timeout_ms": "1500", "idle_timeout_ms": "20000", "stop_grace_sec": "3",
                        "max_executions_per_peer": "64", "block_interpreters": "false"}
            if os.environ.get("CSC_TEST_WARM_SANDBOXES"):   # a suite run again with the pool off (or deeper)
                settings["warm_sandboxes"] = os.environ["CSC_TEST_WARM_SANDBOXES"]
            for line in config_extra.splitlines():   # "key: value" lines override the defaults above
                if line.strip():
                    k, v = line.split(":", 1)
                    settings[k.strip()] = v.strip()
            if int(settings.get("max_executions", "64")) < int(settings["max_executions_per_peer"]):
                settings["max_executions_per_peer"] = settings["max_executions"]
            f.write("".join("%s: %s\n" % kv for kv in settings.items()) + config_extra_raw + "\n")
        if prepare_state:
            os.mkdir(self.state, 0o700)
            prepare_state(self.state)
            os.chmod(self.state, 0o700)
        self.log = open(os.path.join(self.dir, "cscd.log"), "w+")
        args = [CSCD, "--config", self.conf, "--socket", self.sock, "--state-dir", self.state,
                "--policy", self.policy, "--signing-key", os.path.join(self.keys, "test-key.key"),
                "--key-id", "test-key"]
        if activate:
            args = ["systemd-socket-activate", "-l", self.sock] + args
        self.args = args
        self._start(activate)

    def stop_keep(self):
        """SIGTERM and wait, keeping the directory for a restart."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)

    def restart(self):
        """Starts the daemon again on the same socket, state and keys (after a kill -9)."""
        self._start(False)

    def _start(self, activate):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(self.sock) and (activate or self._answers()):
                break
            if self.proc.poll() is not None:
                break   # it refused to start: the caller reads the log
            time.sleep(0.05)
        if activate:
            # systemd-socket-activate binds with the umask's mode; a unit would
            # say SocketMode=0666. cscd authorizes per request by SO_PEERCRED.
            os.chmod(self.sock, 0o666)
            time.sleep(0.2)

    def _answers(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            s.close()
            return True
        except OSError:
            return False

    def logtext(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def receipts(self):
        path = os.path.join(self.state, "receipts.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        """SIGTERM, then the exit status (0 for a clean stop; sanitizer
        reports such as leaks make it non-zero) and the log are kept."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.returncode = self.proc.returncode
        self.final_log = self.logtext()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Tally:
    """Runs named test steps, printing ok/FAIL with the traceback, and counts them."""

    def __init__(self):
        self.passed = self.failed = 0

    def run(self, name, fn, *args):
        import sys, traceback
        try:
            fn(*args)
            self.passed += 1
            print("ok", name)
            return True
        except Exception:  # noqa: BLE001
            self.failed += 1
            print("FAIL", name)
            traceback.print_exc(file=sys.stdout)
            return False

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
            print("ok", name)
        else:
            self.failed += 1
            print("FAIL", name, detail)
