#!/usr/bin/env python3
"""Integration tests of cscd: a real daemon on a temporary socket, the real
protocol, real commands in the real sandbox as a real non-root user."""
import base64, json, os, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time, traceback

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import CSCCTL, CSCD, Conn, Tally, pids_running, Daemon, contract, ensure_user, output_of, encode  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the daemon tests need root (cscd switches to the peer's uid per command)")
    sys.exit(77)
UID, GID = ensure_user()
results = []


def case(fn):
    results.append(fn)
    return fn


def submit(d, c, **kw):
    conn = Conn(d.sock, UID, GID)
    req = {"type": "submit", "contract": c}
    req.update(kw)
    conn.send(req)
    frames = conn.recv_until_receipt()
    conn.close()
    return frames


def receipt_of(frames):
    assert frames[-1]["type"] == "receipt", "last frame is %r" % frames[-1]
    return frames[-1]["receipt"]


def verify(d, receipt_obj):
    path = os.path.join(d.dir, "r.json")
    with open(path, "w") as f:
        json.dump(receipt_obj, f, ensure_ascii=False)
    p = subprocess.run([CSCCTL, "verify-receipt", path, "--public-key", d.pub], capture_output=True, text=True)
    return p.returncode, p.stdout.strip()


def status_of(d):
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "status"})
    st = conn.recv()
    conn.close()
    return st


@case
def execution_cgroups_are_removed_and_none_stay_pending(d):
    """Commands that leave busy children behind: each execution's cgroup is
    removed once its last process is gone (retried from timers while busy,
    never by sleeping in the loop), and nothing is left pending."""
    if status_of(d)["sandbox"]["process_cap"] == "none":
        print("# no cgroup process cap on this machine: nothing to remove")
        return
    ids = []
    for i in range(6):
        frames = submit(d, contract([{"argv": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo %d" % i]}]))
        r = receipt_of(frames)
        assert r["status"] == "success", r
        ids.append(r["execution_id"])
    deadline = time.time() + 15
    left = ids
    while time.time() < deadline:
        found = subprocess.run(["find", "/sys/fs/cgroup", "-maxdepth", "6", "-type", "d", "-name", "cscd-*"],
                               capture_output=True, text=True).stdout.split()
        left = [x for x in ids if any(f.endswith("cscd-" + x) for f in found)]
        if not left and status_of(d)["sandbox"]["cgroups_being_removed"] == 0:
            break
        time.sleep(0.2)
    assert not left, "execution cgroups left behind: %r" % left
    assert status_of(d)["sandbox"]["cgroups_being_removed"] == 0


@case
def streamed_output_arrives_before_the_end(d):
    frames = submit(d, contract([{"argv": ["sh", "-c", "echo first; sleep 2; echo second"]}]))
    outs = [f for f in frames if f["type"] == "output"]
    ex = [f for f in frames if f["type"] == "exit"][0]
    assert outs and outs[0]["_t"] < ex["_t"] - 1.5, "first output did not arrive while the command ran"
    assert output_of(frames) == b"first\nsecond\n"
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "decision" and kinds[1] == "started" and kinds[-2] == "exit", kinds
    r = receipt_of(frames)
    assert r["status"] == "success" and r["exit_code"] == 0, r


@case
def receipt_verifies_and_any_change_breaks_it(d):
    frames = submit(d, contract([{"argv": ["echo", "héllo"]}]))
    r = receipt_of(frames)
    assert r["execution_mode"] == "hardened" and r["sandbox_profile_id"] == "cscd-v1"
    assert r["signing_key_id"] == "test-key" and r["signature"]["algorithm"] == "ed25519"
    import hashlib
    assert r["stdout_hash"] == "sha256:" + hashlib.sha256("héllo\n".encode()).hexdigest()
    rc, out = verify(d, r)
    assert rc == 0 and out == "VALID", out
    for key, val in (("contract_id", r["contract_id"] + "x"), ("exit_code", 1), ("status", "failed"),
                     ("stdout_hash", r["stdout_hash"][:-1] + ("0" if r["stdout_hash"][-1] != "0" else "1")),
                     ("ended_at", "2020-01-01T00:00:00Z")):
        t = dict(r)
        t[key] = val
        rc, out = verify(d, t)
        assert rc == 1 and out.startswith("INVALID"), (key, out)
    t = json.loads(json.dumps(r))
    t["signature"]["key_id"] = "other"
    rc, out = verify(d, t)
    assert rc == 1, out
    # Byte-level tampering of the file: flip one character inside each string value.
    raw = json.dumps(r, ensure_ascii=False)
    for pos in range(10, len(raw), max(1, len(raw) // 25)):
        ch = raw[pos]
        if not ch.isalnum():
            continue
        mutated = raw[:pos] + ("0" if ch != "0" else "1") + raw[pos + 1:]
        path = os.path.join(d.dir, "m.json")
        with open(path, "w") as f:
            f.write(mutated)
        p = subprocess.run([CSCCTL, "verify-receipt", path, "--public-key", d.pub], capture_output=True, text=True)
        assert p.returncode == 1, "mutation at %d verified: %s" % (pos, mutated[pos - 5:pos + 5])


@case
def deny_gives_signed_blocked_receipt_and_runs_nothing(d):
    marker = os.path.join(d.dir, "deny-marker")
    frames = submit(d, contract([{"argv": ["touch", marker], "cwd": "/tmp", "write": [d.dir],
                                  "timeout": 1000}]))
    assert frames[0]["type"] == "decision" and frames[0]["decision"]["decision"] == "deny"
    assert frames[0]["decision"]["reason_codes"] == ["TIMEOUT_EXCEEDS_POLICY"]
    assert [f["type"] for f in frames] == ["decision", "receipt"], [f["type"] for f in frames]
    r = receipt_of(frames)
    assert r["status"] == "blocked" and "exit_code" not in r
    assert verify(d, r)[0] == 0
    assert not os.path.exists(marker)


@case
def timeout_kills_a_daemonized_grandchild(d):
    tag = "9%d" % (os.getpid() % 1000 + 1000)
    t0 = time.monotonic()
    frames = submit(d, contract([{"argv": ["sh", "-c", "sleep %s & sleep 100" % tag], "timeout": 1}]))
    r = receipt_of(frames)
    assert r["status"] == "failed" and r["exit_code"] == 124, r
    assert "timed out after 1 seconds" in r.get("error", ""), r
    assert time.monotonic() - t0 < 6
    time.sleep(0.2)
    assert not pids_running("sleep", tag), "grandchild survived"


@case
def pipeline_runs_with_os_pipes(d):
    frames = submit(d, contract([{"pipeline": [["echo", "hello"], ["tr", "a-z", "A-Z"]]}]))
    assert output_of(frames) == b"HELLO\n"
    frames = submit(d, contract([{"pipeline": [["yes"], ["head", "-n", "2"]]}]))
    assert output_of(frames) == b"y\ny\n" and receipt_of(frames)["exit_code"] == 0
    frames = submit(d, contract([{"pipeline": [["false"], ["cat"]]}]))
    assert receipt_of(frames)["exit_code"] == 1


@case
def undeclared_read_and_write_fail(d):
    secret_dir = "/srv/csc-test-undeclared"
    os.makedirs(secret_dir, exist_ok=True)
    with open(secret_dir + "/data", "w") as f:
        f.write("readable by everyone on the host\n")
    os.chmod(secret_dir + "/data", 0o644)
    frames = submit(d, contract([{"argv": ["cat", secret_dir + "/data"], "read": [d.dir]}]))
    r = receipt_of(frames)
    assert r["status"] == "failed" and output_of(frames) == b"", r
    outdir = os.path.join(d.dir, "out")
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o777)
    frames = submit(d, contract([{"argv": ["touch", outdir + "/x"], "read": [d.dir]}]))
    assert receipt_of(frames)["status"] == "failed" and not os.path.exists(outdir + "/x")
    frames = submit(d, contract([{"argv": ["touch", outdir + "/y"], "write": [outdir]}]))
    assert receipt_of(frames)["status"] == "success" and os.path.exists(outdir + "/y")


@case
def network_deny_blocks_loopback_connect(d):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    frames = submit(d, contract([{"argv": ["bash", "-c", "echo hi > /dev/tcp/127.0.0.1/%d" % port],
                                  "network": "deny", "timeout": 5}]))
    r = receipt_of(frames)
    assert r["status"] == "failed", r
    try:
        srv.accept()
        raise AssertionError("a connection reached the host listener")
    except socket.timeout:
        pass
    frames = submit(d, contract([{"argv": ["cat", "/proc/net/dev"]}]))
    lines = output_of(frames).decode().splitlines()[2:]
    assert [l.split(":")[0].strip() for l in lines] == ["lo"], lines
    srv.close()


@case
def daemon_key_and_state_are_invisible(d):
    for path in (d.keys, d.state, os.path.join(d.keys, "test-key.key")):
        frames = submit(d, contract([{"argv": ["ls", "-la", path], "read": [d.dir]}]))
        assert receipt_of(frames)["status"] == "failed", path
    # Even when the policy lets a contract read "/", the daemon's own files,
    # /run (host sockets) and /sys stay hidden.
    for path in ("/run", "/sys", "/var/lib/csc", d.state, d.keys):
        frames = submit(d, contract([{"argv": ["ls", "-A", path], "read": ["/"]}]))
        r = receipt_of(frames)
        assert r["status"] == "failed" or output_of(frames) == b"", (path, r, output_of(frames))


@case
def daemon_keeps_only_the_capabilities_it_needs(d):
    caps = {l.split(":")[0]: int(l.split()[1], 16) for l in open("/proc/%d/status" % d.proc.pid) if l.startswith("Cap")}
    # CAP_SYS_ADMIN, SETUID, SETGID, SETPCAP, DAC_OVERRIDE, DAC_READ_SEARCH, CHOWN, FOWNER, KILL,
    # NET_ADMIN (lo in an allowlisted sandbox's own netns), IPC_LOCK, SYS_CHROOT (warm executors
    # copy the host's mounts afresh with setns)
    want = sum(1 << n for n in (21, 7, 6, 8, 1, 2, 0, 3, 5, 12, 14, 18))
    assert caps["CapBnd"] == want and caps["CapEff"] == want and caps["CapPrm"] == want, {k: hex(v) for k, v in caps.items()}
    assert caps["CapAmb"] == 0 and caps["CapInh"] == 0
    # ... and still does everything: a sandboxed run after the drop
    assert receipt_of(submit(d, contract([{"argv": ["id", "-u"]}])))["status"] == "success"


@case
def peer_runs_as_its_own_uid(d):
    frames = submit(d, contract([{"argv": ["id", "-u"]}]))
    assert output_of(frames) == b"%d\n" % UID
    frames = submit(d, contract([{"argv": ["nonexistent-cmd"]}]))
    assert receipt_of(frames)["exit_code"] == 127
    frames = submit(d, contract([{"argv": ["false"]}, {"argv": ["echo", "never"]}]))
    r = receipt_of(frames)
    assert r["exit_code"] == 1 and r["failed_command_id"] == "cmd_1" and r["completed_command_ids"] == []
    assert output_of(frames) == b""


def raw_error(d, data, stall=False):
    c = Conn(d.sock, UID, GID)
    c.send_raw(data)
    f = c.recv()
    closed = c.closed()
    c.close()
    return f, closed


@case
def malformed_frames_get_errors_and_others_keep_being_served(d):
    # A well-behaved client runs a slow command the whole time.
    good = {}

    def well_behaved():
        good["frames"] = submit(d, contract([{"argv": ["sh", "-c", "sleep 2; echo ok"]}]))
    t = threading.Thread(target=well_behaved)
    t.start()
    time.sleep(0.2)
    cases = [
        (b"\0\0\0\0", "bad_frame"),
        (struct.pack(">I", 2 * 1024 * 1024 + 1), "too_large"),
        (struct.pack(">I", 4) + b"\"\xff\"}", "bad_json"),
        (struct.pack(">I", 5) + b"{nope", "bad_json"),
        (encode({"no_type": 1}), "bad_frame"),
        (encode({"type": "launch-missiles"}), "bad_frame"),
        (encode({"type": "submit", "contract": {"version": "csc.v0.1"}}), "invalid_contract"),
        (struct.pack(">I", 100) + b"{\"type\":", "bad_frame"),  # truncated, then stalls
    ]
    for data, code in cases:
        try:
            f, closed = raw_error(d, data)
        except EOFError:
            raise AssertionError("no error frame for %r (want %s); daemon log: %s" % (data[:24], code, d.logtext()[-600:]))
        assert f["type"] == "error" and f["code"] == code, (data[:20], f)
        if code != "invalid_contract":
            assert closed, "connection stays open after %s" % code
    f, _ = raw_error(d, encode({"type": "submit", "contract": contract([{"argv": ["echo"], "cwd": "rel"}])}))
    assert f["code"] == "invalid_contract" and f["path"] == "commands[0].cwd", f
    t.join(30)
    assert output_of(good["frames"]) == b"ok\n"


@case
def disconnect_mid_run_kills_the_sandbox_and_logs_a_receipt(d):
    before = len(d.receipts())
    tag = "8%d" % (os.getpid() % 1000 + 1000)
    c = Conn(d.sock, UID, GID)
    c.send({"type": "submit", "contract": contract([{"argv": ["sleep", tag], "timeout": 60}], cid="disconnect-001")})
    while c.recv()["type"] != "started":
        pass
    c.close()
    deadline = time.time() + 5
    while time.time() < deadline and len(d.receipts()) == before:
        time.sleep(0.1)
    rs = d.receipts()
    assert len(rs) == before + 1, "no receipt logged after disconnect"
    line = rs[-1]
    r = line["receipt"]
    assert r["contract_id"] == "disconnect-001" and r["status"] == "failed" and "cancelled" in r["error"], r
    assert line["peer"]["uid"] == UID
    assert verify(d, r)[0] == 0
    assert not pids_running("sleep", tag), "sandbox survived the disconnect"


@case
def reload_with_broken_policy_keeps_the_old_one(d):
    st = json.loads(subprocess.run([CSCCTL, "--socket", d.sock, "status", "--json"], capture_output=True,
                                   text=True, check=True).stdout)
    old = st["policy_sha256"]
    good = open(d.policy).read()
    with open(d.policy, "w") as f:
        f.write(good + "unknown_key: 1\n")
    p = subprocess.run([CSCCTL, "--socket", d.sock, "reload"], capture_output=True, text=True)
    assert p.returncode == 1 and "unknown_key" in p.stderr, p.stderr
    st = json.loads(subprocess.run([CSCCTL, "--socket", d.sock, "status", "--json"], capture_output=True,
                                   text=True, check=True).stdout)
    assert st["policy_sha256"] == old
    frames = submit(d, contract([{"argv": ["true"]}]))
    assert receipt_of(frames)["status"] == "success"
    # SIGHUP with a new valid policy switches; non-admins may not reload.
    with open(d.policy, "w") as f:
        f.write(good.replace("name: test-policy", "name: test-policy-2"))
    d.proc.send_signal(1)
    time.sleep(0.5)
    st = json.loads(subprocess.run([CSCCTL, "--socket", d.sock, "status", "--json"], capture_output=True,
                                   text=True, check=True).stdout)
    assert st["policy_name"] == "test-policy-2", st
    c = Conn(d.sock, UID, GID)
    c.send({"type": "reload"})
    f = c.recv()
    assert f["type"] == "error" and f["code"] == "unauthorized", f
    c.close()
    with open(d.policy, "w") as f:
        f.write(good)
    d.proc.send_signal(1)
    time.sleep(0.3)


@case
def root_may_not_submit_and_cli_exit_codes(d):
    c = Conn(d.sock)
    c.send({"type": "submit", "contract": contract([{"argv": ["true"]}])})
    f = c.recv()
    assert f["type"] == "error" and f["code"] == "unauthorized", f
    c.close()
    path = os.path.join(d.dir, "c.json")
    with open(path, "w") as f:
        json.dump(contract([{"argv": ["echo", "via-cli"]}]), f)
    os.chmod(path, 0o644)
    p = subprocess.run([CSCCTL, "--socket", d.sock, "submit", path], capture_output=True)
    assert p.returncode == 77, p
    p = subprocess.run(["runuser", "-u", "csc-test", "--", CSCCTL, "--socket", d.sock, "submit", path,
                        "--receipt-out", "/dev/null"], capture_output=True)
    assert p.returncode == 0 and p.stdout == b"via-cli\n", p
    p = subprocess.run([CSCCTL, "--socket", d.sock + ".missing", "status"], capture_output=True)
    assert p.returncode == 69, p
    p = subprocess.run([CSCCTL, "--socket", d.sock, "check", path], capture_output=True)
    assert p.returncode == 0, p
    with open(path, "w") as f:
        json.dump(contract([{"argv": ["rm", "-rf", "/"]}]), f)
    p = subprocess.run(["runuser", "-u", "csc-test", "--", CSCCTL, "--socket", d.sock, "submit", path],
                       capture_output=True)
    assert p.returncode == 1, p
    with open(path, "w") as f:
        json.dump(contract([{"argv": ["true"]}], mode="human_required"), f)
    p = subprocess.run(["runuser", "-u", "csc-test", "--", CSCCTL, "--socket", d.sock, "submit", path],
                       capture_output=True)
    assert p.returncode == 2, p


@case
def fifty_concurrent_submissions_succeed(d):
    out = [None] * 50

    def one(i):
        try:
            fr = submit(d, contract([{"argv": ["echo", "n%d" % i]}], cid="concurrent-%04d" % i))
            out[i] = (receipt_of(fr)["status"], output_of(fr))
        except Exception as e:  # noqa: BLE001
            out[i] = ("error", repr(e).encode())
    ts = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    bad = [(i, o) for i, o in enumerate(out) if o != ("success", b"n%d\n" % i)]
    assert not bad, bad[:3]


@case
def output_is_capped_drained_and_hashed(d):
    # 11 MiB on stdout: the first 10 MiB are kept and hashed, the rest drained
    # (the command never blocks on a full pipe); stderr still arrives.
    import hashlib
    frames = submit(d, contract([{"argv": ["sh", "-c", "head -c 11534336 /dev/zero; echo done >&2"], "timeout": 60}]))
    r = receipt_of(frames)
    assert r["status"] == "success" and r["stdout_truncated"] is True and r["stderr_truncated"] is False, r
    assert r["stdout_hash"] == "sha256:" + hashlib.sha256(b"\0" * (10 << 20)).hexdigest()
    got = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stdout")
    assert len(got) == 10 << 20, len(got)
    err = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stderr")
    assert err == b"done\n", err


@case
def busy_when_the_execution_cap_is_reached(d):
    """At the execution cap a submit waits in the admission queue (it sees
    nothing until its decision, sent when it starts); `busy` comes only
    when the queue is full too (max_queued)."""
    d2 = Daemon(config_extra="max_executions: 2\nmax_queued: 1\n")
    try:
        sleepers = []
        for i in range(2):
            c = Conn(d2.sock, UID, GID)
            c.send({"type": "submit", "contract": contract([{"argv": ["sleep", "3"]}], cid="busy-%04d" % i)})
            while c.recv()["type"] != "started":
                pass
            sleepers.append(c)
        waiting = Conn(d2.sock, UID, GID)
        waiting.send({"type": "submit", "contract": contract([{"argv": ["true"]}], cid="busy-queued")})
        for _ in range(200):
            st = Conn(d2.sock)
            st.send({"type": "status"})
            q = st.recv()["admission"]
            st.close()
            if q["queued"] == 1:
                break
            time.sleep(0.02)
        assert q["queued"] == 1, q
        frames = submit(d2, contract([{"argv": ["true"]}], cid="busy-over-cap"))
        assert frames[-1]["type"] == "error" and frames[-1]["code"] == "busy", frames[-1]
        assert "max_queued" in frames[-1]["message"], frames[-1]
        waiting.s.settimeout(0.5)
        try:
            early = waiting.recv()
        except socket.timeout:
            early = None
        assert early is None, "a queued submit was answered before a slot was free: %r" % early
        waiting.s.settimeout(30)
        for c in sleepers:
            assert c.recv_until_receipt()[-1]["receipt"]["status"] == "success"
            c.close()
        fw = waiting.recv_until_receipt()
        assert fw[0]["type"] == "decision" and fw[-1]["receipt"]["status"] == "success", fw
        waiting.close()
        assert receipt_of(submit(d2, contract([{"argv": ["true"]}])))["status"] == "success"
    finally:
        d2.stop()
    assert d2.returncode == 0, d2.final_log


@case
def sigterm_lets_runs_finish_then_kills_and_still_signs(d):
    d2 = Daemon(config_extra="stop_grace_sec: 1\n")
    try:
        quick = Conn(d2.sock, UID, GID)
        quick.send({"type": "submit", "contract": contract([{"argv": ["sh", "-c", "sleep 0.5; echo finished"]}],
                                                           cid="grace-quick")})
        slow = Conn(d2.sock, UID, GID)
        slow.send({"type": "submit", "contract": contract([{"argv": ["sleep", "60"], "timeout": 90}], cid="grace-slow")})
        for c in (quick, slow):
            while c.recv()["type"] != "started":
                pass
        t0 = time.time()
        d2.proc.send_signal(signal.SIGTERM)
        fq = quick.recv_until_receipt()
        fs = slow.recv_until_receipt()
        assert receipt_of(fq)["status"] == "success" and output_of(fq) == b"finished\n", fq[-1]
        rs = receipt_of(fs)
        assert rs["status"] == "failed" and "cancelled" in rs["error"], rs
        d2.proc.wait(10)
        assert time.time() - t0 < 8, "stop took too long"
        assert d2.proc.returncode == 0
        ids = [l["receipt"]["contract_id"] for l in d2.receipts()]
        assert "grace-quick" in ids and "grace-slow" in ids, ids
    finally:
        d2.stop()


@case
def bad_config_and_loose_key_are_refused_at_start(d):
    tmp = tempfile.mkdtemp(prefix="cscd-bad.")
    try:
        conf = os.path.join(tmp, "cscd.conf")
        with open(conf, "w") as f:
            f.write("max_executions: 4\nmax_exections: 5\n")
        p = subprocess.run([CSCD, "--config", conf, "--socket", os.path.join(tmp, "s"), "--state-dir",
                            os.path.join(tmp, "st"), "--policy", d.policy, "--signing-key",
                            os.path.join(d.keys, "test-key.key"), "--key-id", "test-key"],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 78 and "unknown setting \"max_exections\"" in p.stderr, (p.returncode, p.stderr)
        key = os.path.join(tmp, "loose.key")
        shutil.copy(os.path.join(d.keys, "test-key.key"), key)
        os.chmod(key, 0o644)
        p = subprocess.run([CSCD, "--socket", os.path.join(tmp, "s"), "--state-dir", os.path.join(tmp, "st"),
                            "--policy", d.policy, "--signing-key", key, "--key-id", "test-key"],
                           capture_output=True, text=True, timeout=20)
        assert p.returncode == 78 and "group or others" in p.stderr, (p.returncode, p.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@case
def live_socket_is_refused_and_stale_socket_replaced(d):
    base = [CSCD, "--state-dir", os.path.join(d.dir, "state2"), "--policy", d.policy,
            "--signing-key", os.path.join(d.keys, "test-key.key"), "--key-id", "test-key"]
    p = subprocess.run(base + ["--socket", d.sock], capture_output=True, text=True, timeout=20)
    assert p.returncode == 1 and "in use" in p.stderr, (p.returncode, p.stderr)
    assert receipt_of(submit(d, contract([{"argv": ["true"]}])))["status"] == "success"
    stale = os.path.join(d.dir, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(stale)
    s.close()   # the file stays, nobody listens
    proc = subprocess.Popen(base + ["--socket", stale], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                c = socket.socket(socket.AF_UNIX)
                c.connect(stale)
                c.close()
                break
            except OSError:
                time.sleep(0.05)
        mode = os.stat(stale).st_mode & 0o777
        assert mode == 0o666, oct(mode)   # socket_mode from the config (default 0666)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert not os.path.exists(stale), "the socket cscd bound was not removed at exit"


@case
def expected_outputs_become_artifacts_hashed_as_the_peer(d):
    import hashlib
    c = contract([{"argv": ["sh", "-c", "printf 'made here' > /tmp/out.txt"], "write": []}])
    c["expected_outputs"] = ["/tmp/out.txt", "/tmp/never-made", "/etc/shadow"]
    r = receipt_of(submit(d, c))
    assert r["status"] == "success", r
    arts = r.get("artifacts", [])
    # only what was produced and what the peer may read; /etc/shadow is not readable by it
    assert arts == [{"path": "/tmp/out.txt", "sha256": hashlib.sha256(b"made here").hexdigest()}], arts
    assert verify(d, r) == (0, "VALID")


@case
def signing_key_from_systemd_credentials(d):
    creds = tempfile.mkdtemp(prefix="cscd-creds.")
    tmp = tempfile.mkdtemp(prefix="cscd-cred-run.")
    os.chmod(tmp, 0o755)
    try:
        shutil.copy(os.path.join(d.keys, "test-key.key"), os.path.join(creds, "csc-signing-key"))
        os.chmod(os.path.join(creds, "csc-signing-key"), 0o400)
        sock = os.path.join(tmp, "s")
        env = dict(os.environ, CREDENTIALS_DIRECTORY=creds)
        p = subprocess.Popen([CSCD, "--socket", sock, "--state-dir", os.path.join(tmp, "st"), "--policy", d.policy],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        st = subprocess.run([CSCCTL, "--socket", sock, "status", "--json"], capture_output=True, text=True)
        p.terminate()
        _, err = p.communicate(timeout=15)
        assert st.returncode == 0, (st.stderr, err)
        assert json.loads(st.stdout)["signing_key_id"] == "cscd", st.stdout
        # the credential's key signs: its public half is what pubkeys returns
        assert p.returncode == 0, err
    finally:
        shutil.rmtree(creds, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def socket_activation():
    d = Daemon(activate=True)
    try:
        frames = submit(d, contract([{"argv": ["echo", "activated"]}]))
        assert output_of(frames) == b"activated\n"
        assert "using the socket passed by systemd" in d.logtext(), d.logtext()
    finally:
        d.stop()


def main():
    t = Tally()
    d = Daemon()
    try:
        for fn in results:
            t.run(fn.__name__, fn, d)
        t.check(d.proc.poll() is None, "daemon alive after the cases", d.logtext()[-2000:])
    finally:
        d.stop()
    t.check(d.returncode == 0, "daemon stopped cleanly on SIGTERM",
            "exit status %s:\n%s" % (d.returncode, d.final_log[-4000:]))
    t.run("socket_activation", socket_activation)
    print("daemon: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
