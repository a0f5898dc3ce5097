#!/usr/bin/env python3
"""The adversarial suite: attacks submitted to the real cscd by a real
non-root user, each asserting the safe outcome AND that the attack actually
ran (the probe printed its attempt, the shell reported its error, the
command was started). Syscall-level attempts use the compiled probe
(tests/adversarial/probe.c), not only shell tools.

Prints `adversarial: N cases, E escapes` and fails on any escape or on a
case that could not run. usage: test_adversarial.py PROBE"""
import base64, json, os, shutil, signal, socket, stat, subprocess, sys, tempfile, threading, time, traceback

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from cscproto import Conn, Daemon, Tally, as_user, pids_running, contract, ensure_user, mkwork, output_of  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the adversarial suite needs root (cscd runs each command as the submitting user)")
    sys.exit(77)
UID, GID = ensure_user()
WORK = mkwork("csc-adv.")
os.chmod(WORK, 0o755)
BIN = os.path.join(WORK, "bin")
os.mkdir(BIN, 0o755)
PROBE = os.path.join(BIN, "csc-probe")
shutil.copy(sys.argv[1], PROBE)
os.chmod(PROBE, 0o755)
# A file the test user may read on the host but no contract declares.
HOSTDIR = os.path.join(WORK, "host")
os.mkdir(HOSTDIR, 0o755)
SECRET = os.path.join(HOSTDIR, "readable-by-user.txt")
with open(SECRET, "w") as f:
    f.write("host-only-data\n")
os.chmod(SECRET, 0o644)
# The daemon carries an environment variable no command may see.
os.environ["CSCD_ADVERSARIAL_CANARY"] = "canary-7f3a"

cases = []
escapes = []


def case(fn):
    cases.append(fn)
    return fn


def run(d, cmds, **kw):
    conn = Conn(d.sock, UID, GID, timeout=120)
    conn.send({"type": "submit", "contract": contract(cmds, **kw)})
    frames = conn.recv_until_receipt()
    conn.close()
    return frames


def streams(frames):
    out = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stdout")
    err = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stderr")
    return out.decode(errors="replace"), err.decode(errors="replace")


def receipt(frames):
    assert frames[-1]["type"] == "receipt", frames[-1]
    return frames[-1]["receipt"]


def started(frames):
    return any(f["type"] == "started" for f in frames)


def escaped(name, detail):
    escapes.append((name, detail))
    raise AssertionError("ESCAPE: %s" % detail)


def probe(d, name, arg=None, network="deny", extra_read=(), write=()):
    argv = [PROBE, name] + ([arg] if arg is not None else [])
    f = run(d, [{"argv": argv, "read": [BIN, *extra_read], "write": list(write), "network": network, "timeout": 30}])
    out, err = streams(f)
    return f, out.strip(), err


def expect_blocked(d, name, arg=None, **kw):
    f, out, err = probe(d, name, arg, **kw)
    assert started(f), "the probe never started: %s" % receipt(f).get("error")
    if out.startswith("ESCAPED"):
        escaped(name, out)
    assert out.startswith("BLOCKED"), "the attempt did not run: out=%r err=%r rc=%s" % (out, err, receipt(f).get("exit_code"))
    return out


def syscall_case(name, arg=None, **kw):
    def fn(d):
        expect_blocked(d, name, arg, **kw)
    fn.__name__ = "seccomp_" + name.replace("-", "_")
    cases.append(fn)


# --- seccomp families (each must be refused, each attempt must have run) ---
for n in ["unshare-user", "unshare-net", "setns", "clone-newns", "clone3", "mount", "umount", "pivot_root", "chroot",
          "open_tree", "fsopen", "add_key", "keyctl", "bpf", "perf", "userfaultfd", "io_uring", "kexec",
          "init_module", "delete_module", "open_by_handle", "name_to_handle", "ptrace-attach", "process_vm",
          "tiocsti", "tioclinux", "settimeofday", "clock_settime", "adjtimex", "reboot", "swapon"]:
    syscall_case(n)


@case
def foreign_syscall_abis_are_killed(d):
    for name in ("x32", "int80"):
        f, out, err = probe(d, name)
        r = receipt(f)
        assert started(f)
        if out.startswith("ESCAPED"):
            escaped(name, out)
        assert r["exit_code"] == 128 + signal.SIGSYS, (name, r["exit_code"], out, err)


# --- network with "deny" ---
for n in ["socket-inet", "socket-inet6", "socket-raw", "socket-packet", "socket-netlink", "socket-vsock",
          "socketpair-inet"]:
    syscall_case(n)


@case
def tcp_to_host_loopback_with_deny(d):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.3)
    port = srv.getsockname()[1]
    f = run(d, [{"argv": ["bash", "-c", "echo x > /dev/tcp/127.0.0.1/%d" % port], "timeout": 10}])
    out, err = streams(f)
    assert started(f) and receipt(f)["status"] == "failed" and err, (err, receipt(f))
    try:
        srv.accept()
        escaped("tcp", "a connection reached the host listener")
    except socket.timeout:
        pass
    srv.close()


@case
def udp_to_host_loopback_with_deny(d):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    f = run(d, [{"argv": ["bash", "-c", "echo x > /dev/udp/127.0.0.1/%d" % port], "timeout": 10}])
    assert started(f) and receipt(f)["status"] == "failed"
    try:
        srv.recv(10)
        escaped("udp", "a datagram reached the host")
    except socket.timeout:
        pass
    srv.close()


@case
def abstract_unix_socket_of_the_host(d):
    name = "csc-adv-%d" % os.getpid()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0" + name)
    srv.listen(1)
    try:
        expect_blocked(d, "abstract-connect", name)
    finally:
        srv.close()


@case
def abstract_unix_socket_of_the_host_with_full_network(d):
    # In the host's network namespace only Landlock's scoping (ABI >= 6)
    # stands between a command and the host's abstract sockets.
    st = json.loads(subprocess.run([os.environ.get("CSCCTL", "cscctl"), "--socket", d.sock, "status", "--json"],
                                   capture_output=True, text=True).stdout)
    name = "csc-adv-full-%d" % os.getpid()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0" + name)
    srv.listen(1)
    try:
        if st["sandbox"]["landlock_abi"] >= 6:
            out = expect_blocked(d, "abstract-connect", name, network="full")
            assert "EPERM" in out, out
        else:
            print("# landlock ABI %d: abstract-socket scoping unavailable, case not applicable" % st["sandbox"]["landlock_abi"])
    finally:
        srv.close()


@case
def daemon_socket_is_not_reachable(d):
    # Even with its directory declared readable, the socket is masked.
    out = expect_blocked(d, "unix-connect", d.sock, extra_read=[d.dir])
    assert "ECONNREFUSED" in out or "ENOENT" in out or "EACCES" in out, out


# --- privileges ---
@case
def no_capabilities_nnp_seccomp_and_locked_securebits(d):
    f, out, err = probe(d, "status")
    fields = dict(l.split(":", 1) for l in out.splitlines())
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(fields[cap].strip(), 16) != 0:
            escaped("caps", "%s = %s" % (cap, fields[cap].strip()))
    assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2", out
    assert fields["Uid"].split()[:3] == [str(UID)] * 3 and fields["Gid"].split()[:3] == [str(GID)] * 3, out
    bits = int(fields["Securebits"].strip())
    assert bits & 0x3 == 0x3 and bits & 0xc == 0xc, bits   # NOROOT + NO_SETUID_FIXUP, each locked


@case
def setuid_and_setgid_zero(d):
    expect_blocked(d, "setuid0")
    expect_blocked(d, "setgid0")


@case
def setuid_binary_gains_nothing(d):
    su = os.path.join(BIN, "suid-id")
    shutil.copy("/usr/bin/id", su)
    os.chown(su, 0, 0)
    os.chmod(su, 0o4755)
    try:
        f = run(d, [{"argv": [su, "-u"], "read": [BIN]}])
        out, _ = streams(f)
        assert started(f)
        if out.strip() == "0":
            escaped("setuid", "a setuid-root binary ran as root")
        assert out.strip() == str(UID), out
    finally:
        os.unlink(su)


@case
def signalling_the_daemon_and_pid_1(d):
    expect_blocked(d, "kill", str(d.proc.pid))
    expect_blocked(d, "kill1")
    assert d.proc.poll() is None


# --- filesystem ---
@case
def undeclared_host_file_is_invisible(d):
    out = expect_blocked(d, "open", SECRET)
    assert "ENOENT" in out, out


@case
def dotdot_paths_are_denied_before_running(d):
    f = run(d, [{"argv": ["cat", os.path.join(BIN, "..", "host", "readable-by-user.txt")],
                 "read": [BIN + "/../host"]}])
    r = receipt(f)
    assert r["status"] == "blocked" and not started(f), r


@case
def declared_symlink_out_of_scope_is_blocked(d):
    link = os.path.join(WORK, "link-to-etc")
    os.symlink("/etc", link)
    try:
        f = run(d, [{"argv": ["ls", link], "read": [link]}])
        r = receipt(f)
        assert r["status"] == "blocked" and "symlink" in r.get("error", "") and r.get("exit_code") == 126, r
        assert not any(fr["type"] == "output" for fr in f)
    finally:
        os.unlink(link)


@case
def symlink_swapped_in_during_submission(d):
    # A declared directory is replaced by a symlink to /etc while contracts
    # keep arriving: every run either sees the real directory or is blocked.
    target = os.path.join(WORK, "swap")
    stop = threading.Event()

    def swapper():
        while not stop.is_set():
            try:
                os.mkdir(target, 0o755)
                with open(os.path.join(target, "ok.txt"), "w") as f:
                    f.write("fine\n")
                os.chmod(os.path.join(target, "ok.txt"), 0o644)
                time.sleep(0.001)
                shutil.rmtree(target)
                os.symlink("/etc", target)
                time.sleep(0.001)
                os.unlink(target)
            except OSError:
                pass
    t = threading.Thread(target=swapper)
    t.start()
    seen = set()
    try:
        for _ in range(25):
            f = run(d, [{"argv": ["ls", target], "read": [target]}])
            out, _ = streams(f)
            r = receipt(f)
            if "passwd" in out or "shadow" in out:
                escaped("symlink-swap", "the bind followed a swapped-in symlink: %r" % out[:80])
            seen.add(r["status"])
    finally:
        stop.set()
        t.join()
        for p in (target,):
            if os.path.islink(p):
                os.unlink(p)
            elif os.path.isdir(p):
                shutil.rmtree(p)
    assert seen, seen


@case
def proc_self_root_and_proc_1(d):
    f = run(d, [{"argv": ["sh", "-c", "ls /proc/self/root/; cat /proc/1/environ; ls /proc/1/root/"],
                 "read": [BIN]}])
    out, err = streams(f)
    assert started(f)
    if "canary" in out or "etc/shadow" in out or SECRET in out:
        escaped("proc", out[:200])
    assert "Permission denied" in err, err   # pid 1 is the root executor: its environ/root are closed
    listing = set(out.split())
    assert "host" not in listing and "lost+found" not in listing, listing


@case
def hard_link_out_of_scope(d):
    out = expect_blocked(d, "link", "/etc/passwd")
    assert "EXDEV" in out or "EPERM" in out or "EACCES" in out, out


@case
def write_outside_write_paths(d):
    for path in ("/etc/csc-pwned", "/usr/csc-pwned", BIN + "/pwned", "/csc-pwned"):
        out = expect_blocked(d, "write", path, extra_read=[])
        assert not os.path.exists(path), path


@case
def device_nodes_and_dev_contents(d):
    expect_blocked(d, "mknod")
    f = run(d, [{"argv": ["ls", "/dev"]}])
    out, _ = streams(f)
    names = set(out.split())
    assert names <= {"null", "zero", "full", "random", "urandom", "fd", "stdin", "stdout", "stderr", "shm"}, names


@case
def no_sys_no_run_no_state_no_keys(d):
    for path in ("/sys/kernel", "/run/systemd", d.state, d.keys, os.path.join(d.keys, "test-key.key"), "/etc/csc"):
        f = run(d, [{"argv": ["ls", "-A", path], "read": ["/"]}])
        out, _ = streams(f)
        r = receipt(f)
        assert started(f)
        if r["status"] == "success" and out.strip():
            escaped("hidden-path", "%s listed: %r" % (path, out[:80]))


@case
def declared_root_keeps_the_sandbox_dev_tmp_and_proc(d):
    # read: ["/"] shows the host's top-level directories read-only, but never
    # covers the sandbox's own /dev (writable null), /tmp (private) or /proc.
    marker = os.path.join("/tmp", "csc-adv-host-tmp-%d" % os.getpid())
    open(marker, "w").close()
    try:
        f = run(d, [{"argv": ["sh", "-c", "echo x > /dev/null && echo devnull-ok; ls /tmp; ls /proc/1/cmdline; "
                              "ls -d /var/log; touch /var/log/csc-adv 2>&1; echo done"], "read": ["/"]}])
        out, err = streams(f)
        assert started(f) and "devnull-ok" in out and "done" in out, (out, err, receipt(f))
        if os.path.basename(marker) in out:
            escaped("root-bind", "the host /tmp replaced the private one")
        assert "/var/log\n" in out, out                  # host directories are visible ...
        assert "Read-only" in out or "Permission denied" in out, out   # ... read-only
        assert not os.path.exists("/var/log/csc-adv")
    finally:
        os.unlink(marker)


@case
def declared_dev_and_proc_do_not_replace_the_sandboxes(d):
    f = run(d, [{"argv": ["sh", "-c", "echo x > /dev/null && echo ok; ls /dev | wc -l; ls /proc/1/cmdline"],
                 "read": ["/dev", "/proc", "/sys/kernel"]}])
    out, err = streams(f)
    assert started(f) and out.startswith("ok\n"), (out, err)
    if int(out.split()[1]) > 12:
        escaped("dev", "the host /dev was shown: %s entries" % out.split()[1])


@case
def environment_does_not_leak_the_daemons(d):
    # The name is allowed (cscd.conf allow_env_names) but the client sends no
    # value: the daemon's own value must not stand in for it.
    f = run(d, [{"argv": ["env"], "env": ["CSCD_ADVERSARIAL_CANARY"]}])
    out, _ = streams(f)
    assert started(f), receipt(f)
    if "canary-7f3a" in out:
        escaped("env", "the daemon's environment reached the command")
    names = {l.split("=", 1)[0] for l in out.splitlines()}
    assert names <= {"PATH", "HOME", "TMPDIR", "LANG", "PWD", "SHLVL", "_"}, names


@case
def loader_variables_are_refused_even_when_allowed(d):
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "env": {"LD_PRELOAD": "/tmp/evil.so", "GLIBC_TUNABLES": "x"},
               "contract": contract([{"argv": ["env"], "env": ["LD_PRELOAD", "GLIBC_TUNABLES"]}])})
    f = conn.recv_until_receipt()
    conn.close()
    out, _ = streams(f)
    if "LD_PRELOAD" in out or "GLIBC_TUNABLES" in out:
        escaped("ld_preload", out)
    r = receipt(f)
    assert not started(f) and r["status"] == "blocked" and "'LD_PRELOAD'" in r["error"], r


# --- resources ---
@case
def rlimits_are_in_force_and_cannot_be_raised(d):
    f, out, _ = probe(d, "rlimits")
    lim = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in out.splitlines()}
    assert lim["cpu"] == (300, 300) and lim["as"] == (1 << 30, 1 << 30) and lim["fsize"] == (100 << 20, 100 << 20), lim
    assert lim["nofile"] == (1024, 1024) and lim["core"] == (0, 0), lim
    expect_blocked(d, "raise-rlimit")


@case
def memory_bomb(d):
    expect_blocked(d, "membomb")


@case
def file_size_bomb(d):
    f = run(d, [{"argv": ["sh", "-c", "head -c 200M /dev/zero > /tmp/big; echo rc=$?; ls -l /tmp/big"], "timeout": 60}])
    out, err = streams(f)
    assert started(f)
    assert "104857600" in out or "File size limit" in err or "rc=1" in out or "rc=153" in out, (out, err)
    if "209715200" in out:
        escaped("fsize", out)


@case
def open_files_bomb(d):
    f, out, _ = probe(d, "nofile")
    n = int(out.split()[1])
    assert out.startswith("BLOCKED") and n < 1024, out


@case
def fork_bomb_is_capped_and_others_keep_working(d):
    before = len([p for p in os.listdir("/proc") if p.isdigit()])
    f = run(d, [{"argv": ["bash", "-c", "b() { b | b & }; b; sleep 3; echo survived"], "timeout": 6}])
    r = receipt(f)
    assert started(f) and r["status"] in ("failed", "success"), r
    after = len([p for p in os.listdir("/proc") if p.isdigit()])
    assert after - before < 50, (before, after)
    st = json.loads(subprocess.run([os.environ.get("CSCCTL", "cscctl"), "--socket", d.sock, "status", "--json"],
                                   capture_output=True, text=True).stdout)
    if st["sandbox"]["process_cap"] != "none":
        _, err = streams(f)
        assert "fork" in err.lower() or "resource" in err.lower() or r["exit_code"] == 124, (err[-300:], r)
    assert receipt(run(d, [{"argv": ["true"]}]))["status"] == "success"


@case
def one_gib_output_flood(d):
    f = run(d, [{"argv": ["head", "-c", "1G", "/dev/zero"], "timeout": 120}])
    r = receipt(f)
    assert r["status"] == "success" and r["stdout_truncated"] is True, r
    assert len(streams(f)[0]) == 10 << 20


@case
def timeout_kills_daemonized_and_setsid_grandchildren(d):
    tag = "91%d" % (os.getpid() % 1000 + 1000)
    f = run(d, [{"argv": ["sh", "-c", "setsid sleep %s & (sleep %s &) ; nohup sleep %s >/dev/null 2>&1 & sleep 60"
                          % (tag, tag, tag)], "timeout": 2}])
    r = receipt(f)
    assert r["exit_code"] == 124, r
    time.sleep(0.5)
    if pids_running("sleep", tag):
        escaped("timeout", "a grandchild outlived its command")


@case
def huge_argv_and_env(d):
    big = "A" * (128 * 1024)
    # Just under the 2 MiB frame: runs or fails with 126 (E2BIG), never harms the daemon.
    f = run(d, [{"argv": ["echo"] + [big] * 15}])
    r = receipt(f)
    assert (r["status"], r["exit_code"]) in (("success", 0), ("failed", 126)), r
    # Over the frame limit: refused with too_large before anything is parsed.
    conn = Conn(d.sock, UID, GID)
    try:
        conn.send({"type": "submit", "contract": contract([{"argv": ["echo"] + [big] * 40}])})
        fr = conn.recv()
        assert fr["type"] == "error" and fr["code"] == "too_large", fr
    except (BrokenPipeError, ConnectionResetError):
        pass   # the daemon answered and closed while we were still sending
    conn.close()
    # A 1 MiB environment value for an allowed name.
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "env": {"BIG": "B" * (1 << 20)}, "contract": contract([{"argv": ["sh", "-c", "echo ${#BIG}"], "env": ["BIG"]}])})
    f = conn.recv_until_receipt()
    conn.close()
    assert started(f), f[-1]
    assert receipt(run(d, [{"argv": ["true"]}]))["status"] == "success"


def advisory_block_is_on_by_default():
    # A daemon with the default config: shells, interpreters and wrappers are
    # refused by name and by the executable they resolve to, before running.
    d = Daemon(config_extra="block_interpreters: true\n", policy_extra="python3, /bin/sh, xargs, nohup")
    try:
        for argv in (["sh", "-c", "echo hi"], ["/bin/sh", "-c", "echo hi"], ["bash", "-c", "id"], ["python3", "-c", "1"],
                     ["env", "id"], ["xargs", "echo"], ["nohup", "id"]):
            f = run(d, [{"argv": argv}])
            r = receipt(f)
            if started(f):
                escaped("advisory", "%s ran" % argv)
            assert r["status"] == "blocked" and "advisory block" in r["error"], r
        assert receipt(run(d, [{"argv": ["echo", "plain tools still run"]}]))["status"] == "success"
    finally:
        d.stop()


SECRET_VALUE = "s3cr3t-Value-42!"


def secrets_are_files_for_their_command_only_and_never_leak():
    sdir = os.path.join(WORK, "secrets")
    os.mkdir(sdir, 0o700)
    with open(os.path.join(sdir, "db-password"), "w") as f:
        f.write(SECRET_VALUE)
    open(os.path.join(sdir, "empty"), "w").close()
    os.chmod(os.path.join(sdir, "db-password"), 0o600)
    os.chmod(os.path.join(sdir, "empty"), 0o400)
    d = Daemon(allow_secrets=True, config_extra="secrets_dir: %s\n" % sdir)
    try:
        cmds = [{"id": "uses", "argv": ["sh", "-c", "cat /run/secrets/db-password; echo; "
                                        "printf 's3cr3t-'; sleep 0.3; printf 'Value-42!\\n'; "
                                        "stat -c '%a %u' /run/secrets/db-password; env; echo \"$@\"", "x"],
                 "secrets": ["db-password"]},
                {"id": "other", "argv": ["sh", "-c", "ls /run/secrets/ 2>&1; cat /run/secrets/db-password 2>&1; true"]}]
        f = run(d, cmds)
        out, err = streams(f)
        r = receipt(f)
        assert r["status"] == "success", r
        if SECRET_VALUE in out or SECRET_VALUE in err:
            escaped("secret", "the value reached the output stream")
        lines = out.splitlines()
        assert lines[0] == "***" and lines[1] == "***", lines[:3]          # read, and split across writes
        assert lines[2] == "400 %d" % UID, lines[2]                       # 0400, owned by the peer
        assert "No such file" in out, out[-200:]                          # the next command has no /run/secrets
        import hashlib
        assert r["stdout_hash"] == "sha256:" + hashlib.sha256(out.encode()).hexdigest(), "hash is not over the redacted stream"
        for where in (json.dumps(r), open(os.path.join(d.state, "receipts.jsonl")).read(), d.logtext()):
            if SECRET_VALUE in where:
                escaped("secret", "the value reached a receipt or log")
        # An empty secret file: nothing to redact, output passes untouched.
        f = run(d, [{"argv": ["sh", "-c", "wc -c < /run/secrets/empty; echo plain"], "secrets": ["empty"]}])
        assert receipt(f)["status"] == "success" and streams(f)[0] == "0\nplain\n", (streams(f), receipt(f))
        r = receipt(run(d, [{"argv": ["true"], "secrets": ["no-such-secret"]}]))
        assert r["status"] == "blocked" and "unknown secret 'no-such-secret'" in r["error"], r
        r = receipt(run(d, [{"argv": ["true"], "secrets": ["../secrets/db-password"]}]))
        assert r["status"] == "blocked", r
    finally:
        d.stop()


# --- issue 10: the three rules (resolve as the peer, create nothing by path as root, finish) ---
UID2, GID2 = ensure_user("csc-test2")


@case
def bind_target_race_creates_nothing_on_the_host(d):
    """Rule 1. A nested declared path whose parent is the user's own tree, while
    the user swaps a directory on the way with a symlink to a root-owned
    directory (renameat2 RENAME_EXCHANGE, in a loop). Before the fix, root
    created the mount point through the symlink: files and directories
    appeared in the target. Nothing may appear, however the race falls."""
    race = os.path.join(WORK, "race")
    target = os.path.join(WORK, "race-target")     # root-owned, 0755: the user cannot write here
    os.mkdir(race, 0o755)
    os.chown(race, UID, GID)
    os.mkdir(target, 0o755)

    # Two spellings of the target: the host path, and the host root as the
    # executor saw it while building the view (/oldroot, before the fix).
    links = {"a": target, "b": "/oldroot" + target}

    def setup():
        for k, dest in links.items():
            os.makedirs(os.path.join(race, k, "x", "sub", "deeper"))
            with open(os.path.join(race, k, "x", "sub", "file"), "w") as f:
                f.write("x")
            os.symlink(dest, os.path.join(race, k, "y"))
    as_user(UID, GID, setup)
    drop = lambda: (os.setgroups([]), os.setresgid(GID, GID, GID), os.setresuid(UID, UID, UID))  # noqa: E731
    flippers = [subprocess.Popen([PROBE, "flip", os.path.join(race, k, "x"), os.path.join(race, k, "y"), "12"],
                                 stdout=subprocess.PIPE, text=True, preexec_fn=drop) for k in links]
    outcomes = {}
    deadline = time.monotonic() + 10
    n = 0
    # A nested directory (mount point made by mkdir) and a nested file (by
    # open O_CREAT), for each spelling, one spelling per submit.
    while time.monotonic() < deadline and n < 300:
        k = "ab"[n % 2]
        declared = [race, os.path.join(race, k, "x", "sub", "deeper"), os.path.join(race, k, "x", "sub", "file")]
        f = run(d, [{"argv": ["true"], "read": declared, "write": [os.path.join(race, k, "x", "sub", "deeper")]}])
        st = receipt(f)["status"]
        outcomes[st] = outcomes.get(st, 0) + 1
        n += 1
        if os.listdir(target):
            break
    swaps = " ".join(fl.communicate(timeout=30)[0].strip() for fl in flippers)
    made = os.listdir(target)
    if made:
        escaped("bind-target race", "root created %s in %s (%s, %s)" % (made, target, swaps, outcomes))
    # The race really ran: the flipper swapped, and both outcomes were seen.
    assert swaps.count("swapped") == 2 and min(int(w) for w in swaps.split() if w.isdigit()) > 1000, swaps
    assert n >= 20 and outcomes.get("blocked", 0) > 0, (n, outcomes)


@case
def nested_declared_paths_work_without_writing_through_a_read_only_bind(d):
    top = os.path.join(WORK, "nested")
    os.mkdir(top, 0o755)
    os.chown(top, UID, GID)

    def setup():
        os.makedirs(os.path.join(top, "out"))
        os.makedirs(os.path.join(top, "deep", "er"))
        with open(os.path.join(top, "deep", "er", "note"), "w") as f:
            f.write("nested file\n")
    as_user(UID, GID, setup)
    f = run(d, [{"argv": ["sh", "-c", "cat %s/deep/er/note; touch %s/out/made && echo wrote-out; "
                          "touch %s/not-here 2>&1 || echo refused-top" % (top, top, top)],
                 "read": [top, os.path.join(top, "deep", "er", "note")], "write": [os.path.join(top, "out")]}])
    out, err = streams(f)
    assert receipt(f)["status"] == "success", receipt(f)
    assert "nested file" in out and "wrote-out" in out and "refused-top" in out, (out, err)
    assert os.path.exists(os.path.join(top, "out", "made")) and not os.path.exists(os.path.join(top, "not-here"))


def private_tree():
    """A 0644 file that only a 0700 directory of the second user protects."""
    home = os.path.join(WORK, "u2home")
    if not os.path.isdir(home):
        os.mkdir(home, 0o700)
        os.chown(home, UID2, GID2)
        with open(os.path.join(home, "private.txt"), "w") as f:
            f.write("u2-private-data\n")
        os.chmod(os.path.join(home, "private.txt"), 0o644)
        os.chown(os.path.join(home, "private.txt"), UID2, GID2)
    return home


@case
def declared_paths_do_not_bypass_directory_permissions(d):
    """Rule 2 (confused deputy). The first user declares the second user's
    file, which a 0700 directory protects on the host: before the fix, root
    bound it and the fresh 0755 ancestors in the sandbox made it readable."""
    home = private_tree()
    secret = os.path.join(home, "private.txt")
    f = run(d, [{"argv": ["cat", secret], "read": [secret]}])
    if "u2-private-data" in streams(f)[0]:
        escaped("confused deputy", "read %s through the declared path" % secret)
    r = receipt(f)
    assert not started(f) and r["status"] == "blocked" and "not reachable by the submitting user" in r["error"], r
    # The directory itself the peer may name (search on its parent is enough),
    # but inside the sandbox its 0700 mode still keeps the peer out.
    f = run(d, [{"argv": ["cat", secret], "read": [home]}])
    if "u2-private-data" in streams(f)[0]:
        escaped("confused deputy", "read %s through the declared directory" % secret)
    assert started(f) and receipt(f)["status"] == "failed" and "Permission denied" in streams(f)[1], streams(f)
    # Existence is not disclosed: a missing name under the 0700 directory is refused the same way.
    errors = []
    for name in ("private.txt", "no-such-file"):
        r = receipt(run(d, [{"argv": ["true"], "read": [os.path.join(home, name)]}]))
        errors.append(r["error"].replace(name, "NAME"))
    assert errors[0] == errors[1], errors
    # The owner still reads it: the same path as the same user works.
    d2 = Conn(d.sock, UID2, GID2, timeout=60)
    d2.send({"type": "submit", "contract": contract([{"argv": ["cat", secret], "read": [home]}])})
    f = d2.recv_until_receipt()
    d2.close()
    assert streams(f)[0] == "u2-private-data\n", receipt(f)


@case
def declared_tmp_is_refused_and_the_private_tmp_stays_private(d):
    host = tempfile.mkdtemp(prefix="csc-adv-hosttmp.")   # the host's real /tmp
    os.chmod(host, 0o755)
    with open(os.path.join(host, "shared.txt"), "w") as f:
        f.write("host-tmp-data\n")
    os.chmod(os.path.join(host, "shared.txt"), 0o644)
    try:
        for kind, path in (("read", "/tmp"), ("write", "/tmp"), ("read", host), ("write", host), ("read", "/dev/shm"),
                           ("read", "/dev/shm/x")):
            if True:
                f = run(d, [{"argv": ["cat", os.path.join(host, "shared.txt")], kind: [path]}])
                if "host-tmp-data" in streams(f)[0]:
                    escaped("declared /tmp", "the host's /tmp was bound (%s %s)" % (kind, path))
                r = receipt(f)
                assert not started(f) and r["status"] == "blocked" and "private" in r["error"], r
        f = run(d, [{"argv": ["sh", "-c", "ls -A /tmp; echo end"]}])
        assert streams(f)[0] == "end\n", streams(f)
    finally:
        shutil.rmtree(host, ignore_errors=True)


@case
def client_path_cannot_choose_the_program(d):
    """A client-set PATH (or HOME, LANG, LC_*) would let an allowed `ls` run
    any program: such names are refused with a reason naming them."""
    fake = os.path.join(WORK, "fakebin")
    os.makedirs(fake, exist_ok=True)
    with open(os.path.join(fake, "ls"), "w") as f:
        f.write("#!/bin/sh\necho FAKE-LS-RAN\n")
    os.chmod(os.path.join(fake, "ls"), 0o755)
    for name, value in (("PATH", fake), ("HOME", fake), ("LC_ALL", "C"), ("BASH_ENV", fake + "/ls"), ("LANG", "C")):
        conn = Conn(d.sock, UID, GID)
        conn.send({"type": "submit", "env": {name: value},
                   "contract": contract([{"argv": ["ls", "/"], "env": [name], "read": [fake]}])})
        f = conn.recv_until_receipt()
        conn.close()
        if "FAKE-LS-RAN" in streams(f)[0]:
            escaped("client PATH", "%s chose the program" % name)
        r = receipt(f)
        assert not started(f) and r["status"] == "blocked" and "'%s'" % name in r["error"], r
    # An allowed name passes; the program is still the one on the fixed PATH.
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "env": {"CSC_HARMLESS": "yes"},
               "contract": contract([{"argv": ["sh", "-c", "echo $CSC_HARMLESS $PATH; command -v ls"],
                                      "env": ["CSC_HARMLESS"]}])})
    f = conn.recv_until_receipt()
    conn.close()
    assert streams(f)[0] == "yes /usr/local/bin:/usr/bin:/bin\n/usr/bin/ls\n", streams(f)


@case
def proc_shows_nothing_of_the_daemon(d):
    f = run(d, [{"argv": ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/self/cgroup"]}])
    out, err = streams(f)
    assert receipt(f)["status"] == "success", (out, err)
    first, rest = out.split("\n", 1)
    for leak in (d.conf, d.state, d.policy, "--config", "cscd.conf"):
        if leak in first:
            escaped("/proc/1/cmdline", first)
    assert first.strip() == "cscd-executor", first
    lines = [l for l in rest.splitlines() if l]
    assert lines and all(l.endswith(":/") for l in lines), lines


def secret_files_readable_by_others_are_refused_and_secrets_dir_is_masked():
    sdir = os.path.join(WORK, "secrets-masked")
    os.mkdir(sdir, 0o700)
    for name, mode in (("open-token", 0o644), ("good-token", 0o600)):
        with open(os.path.join(sdir, name), "w") as f:
            f.write("value-of-%s" % name)
        os.chmod(os.path.join(sdir, name), mode)
    d = Daemon(allow_secrets=True, config_extra="secrets_dir: %s\n" % sdir)
    try:
        r = receipt(run(d, [{"argv": ["true"], "secrets": ["open-token"]}]))
        assert r["status"] == "blocked" and "must be owned by root with mode 0600 or 0400" in r["error"], r
        assert receipt(run(d, [{"argv": ["true"], "secrets": ["good-token"]}]))["status"] == "success"
        # Through a read path, with no secret_refs: neither the file nor the directory.
        for declared in ([os.path.join(sdir, "open-token")], [sdir], [WORK]):
            f = run(d, [{"argv": ["sh", "-c", "cat %s/open-token; ls -A %s" % (sdir, sdir)], "read": declared}])
            if "value-of-open-token" in streams(f)[0]:
                escaped("secrets_dir", "read a secret through the read path %s" % declared)
    finally:
        d.stop()


def config_refuses_fixed_and_loader_names_in_allow_env_names():
    for name in ("PATH", "LD_PRELOAD", "LC_ALL", "bad-name"):
        d = Daemon(config_extra_raw="allow_env_names: [%s]\n" % name)
        try:
            d.proc.wait(10)
            log = d.logtext()
            assert d.proc.returncode != 0 and "allow_env_names" in log and name in log, (name, log[-500:])
        finally:
            d.stop()


def main():
    d = Daemon(policy_extra="%s, %s, setsid, nohup, ln, mkdir" % (PROBE, os.path.join(BIN, "suid-id")),
               config_extra_raw="allow_env_names: [BIG, CSCD_ADVERSARIAL_CANARY, CSC_HARMLESS]\n")
    t = Tally()
    try:
        for fn in cases:
            t.run(fn.__name__, fn, d)
            if d.proc.poll() is not None:
                t.check(False, "the daemon died", d.logtext()[-2000:])
                break
    finally:
        d.stop()
    for fn in (advisory_block_is_on_by_default, secrets_are_files_for_their_command_only_and_never_leak,
               secret_files_readable_by_others_are_refused_and_secrets_dir_is_masked,
               config_refuses_fixed_and_loader_names_in_allow_env_names):
        t.run(fn.__name__, fn)
        cases.append(fn)
    shutil.rmtree(WORK, ignore_errors=True)
    print("adversarial: %d cases, %d escapes (%d passed, %d failed)" % (len(cases), len(escapes), t.passed, t.failed))
    for e in escapes:
        print("ESCAPE", e)
    sys.exit(1 if t.failed or escapes else 0)


if __name__ == "__main__":
    main()
