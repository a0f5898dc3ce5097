#!/usr/bin/env python3
"""Run the README's install section for real and operate the result like an
admin would. The commands run verbatim (without sudo) in a private mount
namespace where /usr, /etc and /var are overlays whose upper layers are a
scratch root: `meson install`, systemd-sysusers and systemd-tmpfiles write
into that root, the host is untouched. Only `systemctl enable --now` cannot
run here (no systemd as PID 1): test_nspawn.py runs it.

Then, on the installed tree: the files and their modes, `cscd -t`, the
unit's `systemd-analyze security` exposure (<= 4.5) and `verify`, the
no-overwrite rule of a second install, the installed cscd serving contracts
under socket activation with the sd_notify sequence, the audit lines it
writes without journald, operations.md's "Rotating the signing key" run step
by step, the installed logrotate snippet rotating receipts.jsonl under load
with nothing lost, capabilities (optional CAP_IPC_LOCK, a missing required
one named) and the clone() fallback when clone3 gives ENOSYS.
usage: test_install.py BUILD_DIR"""
import json, os, re, shutil, signal, socket, stat, subprocess, sys, tempfile, textwrap, threading, time

build = os.path.abspath(sys.argv[1])
src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if os.geteuid() != 0:
    print("SKIP: needs root (overlay mounts in a private mount namespace, a real user for the sandbox)")
    sys.exit(77)
sys.path.insert(0, os.path.join(src, "tests", "integration"))
from cscproto import TEST_POLICY, Conn, _cred_lock, contract, ensure_user, mkwork, output_of  # noqa: E402

CSCD = os.environ.get("CSCD", os.path.join(build, "daemon", "cscd"))
CSCCTL = os.environ.get("CSCCTL", os.path.join(build, "client", "cscctl"))
ENOSYS = os.environ.get("ENOSYS", os.path.join(build, "tests", "enosys"))
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if ok:
        passed += 1
    else:
        failed += 1


tmp = tempfile.mkdtemp(prefix="csc-install.")
os.chmod(tmp, 0o755)
ROOT = os.path.join(tmp, "root")
BUILD_DIR = os.path.join(tmp, "build")
SOCK = os.path.join(tmp, "csc.sock")
work = os.path.join(tmp, "work")
os.makedirs(work)
for d in ("usr", "etc", "var"):
    os.makedirs(os.path.join(ROOT, d))
    os.makedirs(os.path.join(tmp, "ovl-work", d))
NS = "set -e\n" + "".join(
    "mount -t overlay overlay -o lowerdir=/{d},upperdir={r}/{d},workdir={t}/ovl-work/{d} /{d}\n".format(
        d=d, r=ROOT, t=tmp) for d in ("usr", "etc", "var"))


def ns_argv(script):
    return ["unshare", "--mount", "--propagation", "private", "bash", "-c", NS + script]


# One mount namespace for everything: overlays mounted once and shared by
# every command and the daemon (a second overlay mount of the same upper
# layer would not see the first one's changes).
holder = None


def ns_enter(script, cwd=None):
    """(Entering a mount namespace resets the working directory: cd again.)"""
    return ["nsenter", "-t", str(holder.pid), "-m", "bash", "-c", "set -e\ncd %s\n%s" % (cwd or work, script)]


def in_ns(script, timeout=120, cwd=None):
    """Runs a bash script where /usr, /etc and /var are the installed tree."""
    env = dict(os.environ, CSC_SOCKET=SOCK, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    # Spawned under the lock cscproto.Conn holds while a thread's euid is a
    # test user's: the child must start as root.
    with _cred_lock:
        proc = subprocess.Popen(ns_enter(script, cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def under(path):
    return os.path.join(ROOT, path.lstrip("/"))


def readme_commands():
    text = open(os.path.join(src, "README.md")).read()
    block = re.search(r"## Installing\n\n```sh\n(.*?)```", text, re.S)
    return [l for l in block.group(1).splitlines() if l.strip()] if block else []


def desudo(line):
    return re.sub(r"(^|&& )sudo ", r"\1", line)


def submit(uid, gid, c):
    conn = Conn(SOCK, uid, gid)
    conn.send({"type": "submit", "contract": c})
    frames = conn.recv_until_receipt()
    conn.close()
    return frames


daemon = None
try:
    probe = subprocess.run(ns_argv("true"), capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIP: overlay mounts in a private mount namespace do not work here: " + probe.stderr.strip())
        sys.exit(77)
    holder = subprocess.Popen(ns_argv("touch %s/ns-ready\nexec sleep 86400" % tmp))
    for _ in range(200):
        if os.path.exists(os.path.join(tmp, "ns-ready")):
            break
        time.sleep(0.05)

    # 1. The README's install section, verbatim but for sudo and the build dir.
    cmds = readme_commands()
    check(len(cmds) >= 4 and cmds[-1].strip() == "sudo systemctl enable --now cscd.socket",
          "README install section found, ending in systemctl enable --now cscd.socket (%d lines)" % len(cmds))
    t_tests = ""
    for line in cmds[:-1]:
        line = desudo(line)
        line = re.sub(r"(meson setup |ninja -C |meson install -C )build\b", r"\1" + BUILD_DIR, line)
        p = in_ns(line, timeout=1200, cwd=src)
        check(p.returncode == 0, "README: %s (%s)" % (line, (p.stdout + p.stderr).strip()[-600:] if p.returncode else "rc 0"))
        t_tests += p.stderr
    p.stderr = t_tests
    check("configuration test passed" in p.stderr, "cscd -t passes on the freshly installed tree")

    # 2. The installed tree.
    unit = next((os.path.join(dp, "cscd.service") for dp, _, fs in os.walk(under("/usr/lib")) if "cscd.service" in fs
                 and dp.endswith("systemd/system")), None)
    check(unit is not None, "cscd.service installed under /usr/lib (%s)" % unit)
    want = ["/usr/sbin/cscd", "/usr/libexec/csc/cscd-session", "/usr/libexec/csc/cscd-executor", "/usr/bin/cscctl", "/usr/lib/tmpfiles.d/csc.conf", "/usr/lib/sysusers.d/csc.conf",
            "/usr/share/factory/etc/csc/cscd.conf", "/usr/share/factory/etc/csc/policy.yaml",
            "/etc/csc/cscd.conf", "/etc/csc/policy.yaml", "/etc/csc/keys/cscd.key", "/etc/csc/keys/cscd.pub",
            "/etc/logrotate.d/cscd", "/usr/share/doc/cscd/operations.md", "/usr/share/doc/cscd/README.md",
            "/usr/share/doc/cscd/sandbox.md", "/usr/share/man/man8/cscd.8", "/usr/share/man/man5/cscd.conf.5",
            "/usr/share/man/man1/cscctl.1", "/usr/share/csc/policy-packs/dev-readonly/pack.yaml",
            "/usr/share/bash-completion/completions/cscctl"]
    for w in want:
        check(os.path.exists(under(w)), "installed " + w)
    modes = {"/etc/csc/keys": 0o700, "/etc/csc/secrets": 0o700, "/var/lib/csc": 0o700, "/etc/csc/keys/cscd.key": 0o600}
    for path, mode in modes.items():
        m = stat.S_IMODE(os.lstat(under(path)).st_mode) if os.path.exists(under(path)) else None
        check(m == mode, "%s mode %s (want %o)" % (path, oct(m) if m is not None else "missing", mode))
    check(open(under("/etc/csc/cscd.conf")).read() == open(under("/usr/share/factory/etc/csc/cscd.conf")).read(),
          "tmpfiles copied the factory cscd.conf to /etc/csc")
    conf = open(under("/etc/csc/cscd.conf")).read()
    check("signing_key: /etc/csc/keys/cscd.key" in conf and "@" not in conf, "installed cscd.conf names the key by path")
    check("csc-admin:" in open(under("/etc/group")).read(), "sysusers created the csc-admin group")
    svc = open(unit).read() if unit else ""
    check("ExecStart=/usr/sbin/cscd --config /etc/csc/cscd.conf" in svc and "ExecReload=/usr/bin/cscctl reload" in svc
          and "RestartPreventExitStatus=78" in svc and "RestartSec=" in svc and "\nLoadCredential=" not in svc,
          "unit: paths from the configured dirs, ExecReload through cscctl, RestartPreventExitStatus=78, RestartSec")

    # 3. Hardening score and unit verification.
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", unit], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
    score = float(m.group(1)) if m else 99.0
    check(score <= 4.5, "systemd-analyze security --offline=true: exposure %.1f <= 4.5" % score)
    have_man = shutil.which("man") is not None
    p = in_ns("SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=%s %s/cscd.socket %s/cscd.service" % (
        "yes" if have_man else "no", os.path.dirname(unit).replace(ROOT, ""), os.path.dirname(unit).replace(ROOT, "")))
    problems = [l for l in (p.stdout + p.stderr).splitlines() if "cscd" in l]
    check(p.returncode == 0 and not problems, "systemd-analyze verify: %s" % (problems or p.returncode))

    # 4. No overwrite: an edited config survives a second install and tmpfiles run.
    p = in_ns("sed -i 's/^max_executions: 64$/max_executions: 32/' /etc/csc/cscd.conf\n"
              "meson install -C %s --no-rebuild --quiet\nsystemd-tmpfiles --create csc.conf\n" % BUILD_DIR, timeout=600)
    conf = open(under("/etc/csc/cscd.conf")).read()
    check(p.returncode == 0 and "max_executions: 32\n" in conf and
          "max_executions: 64\n" in open(under("/usr/share/factory/etc/csc/cscd.conf")).read(),
          "re-running meson install + tmpfiles keeps the admin's cscd.conf (%s)" % p.stderr.strip()[-300:])

    # 5. cscd -t names every error with file:line:column, exit 78.
    bad = os.path.join(work, "bad.conf")
    with open(bad, "w") as f:
        f.write("policy: /etc/csc/policy.yaml\nmax_exections: 5\nmax_executions: 0\nsubmit_users: [no-such-user-x]\n"
                "signing_key: /etc/csc/keys/missing.key\n")
    p = in_ns("cscd -t --config %s" % bad)
    check(p.returncode == 78 and "%s:2:" % bad in p.stderr and "%s:3:17: max_executions" % bad in p.stderr
          and "warning: submit_users[0]" in p.stderr and "missing.key" in p.stderr,
          "cscd -t: every error as file:line:column, exit 78 (%d): %s" % (p.returncode, p.stderr.strip()))
    p = in_ns("cscd -T")
    check(p.returncode == 0 and "max_executions: 32" in p.stdout and 'policy: "/etc/csc/policy.yaml"' in p.stdout,
          "cscd -T prints the effective configuration")

    # 6. The installed cscd under socket activation, with its sd_notify sequence.
    uid, gid = ensure_user()
    notify_path = os.path.join(tmp, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    ns.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000", PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    daemon = subprocess.Popen(ns_enter("exec systemd-socket-activate -l %s -E NOTIFY_SOCKET -E WATCHDOG_USEC "
                                      "/usr/sbin/cscd" % SOCK), env=env, stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(tmp, "cscd.log"), "w"))
    for _ in range(200):
        if os.path.exists(SOCK):
            break
        time.sleep(0.05)
    os.chmod(SOCK, 0o666)
    msgs, msgs_lock = [], threading.Lock()

    def drain():   # as systemd would: a full notify socket would block the daemon's sd_notify
        while True:
            try:
                m = ns.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            with msgs_lock:
                msgs.append(m)
    threading.Thread(target=drain, daemon=True).start()

    def read_until(pred, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            with msgs_lock:
                for m in msgs:
                    if pred(m):
                        return m
            time.sleep(0.05)
        return None
    frames = submit(uid, gid, contract([{"argv": ["echo", "installed"], "cwd": "/srv"}], cid="install-echo-0001"))
    check(output_of(frames) == b"installed\n" and frames[-1].get("receipt", {}).get("status") == "success",
          "installed cscd with the default policy serves a contract (%s)" % frames[-1])
    ready = read_until(lambda m: "READY=1" in m)
    check(ready is not None and "STATUS=" in ready, "READY=1 with STATUS= (%r)" % ready)
    check(read_until(lambda m: "WATCHDOG=1" in m, 3) is not None, "WATCHDOG=1 pings with WATCHDOG_USEC set")
    denied = contract([{"argv": ["rm", "-rf", "/srv/x"], "cwd": "/srv"}], cid="install-deny-0001")
    cfile = os.path.join(work, "deny.json")
    with open(cfile, "w") as f:
        json.dump(denied, f)
    os.chmod(cfile, 0o644)
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", under("/usr/bin/cscctl"),
                        "--socket", SOCK, "submit", "-", "--quiet"], stdin=open(cfile), capture_output=True, text=True)
    check(p.returncode == 1 and re.search(r"cscctl: deny: \w+: .+", p.stderr) is not None,
          "submit - --quiet of a denied contract: reason code and reason on stderr (%d: %r)" % (p.returncode, p.stderr))
    p = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups", under("/usr/bin/cscctl"),
                        "--socket", SOCK, "submit", "-", "--json"], input='{"version": "csc.v0.1"}',
                       capture_output=True, text=True)
    try:
        err_obj = json.loads(p.stdout)
    except ValueError:
        err_obj = None
    check(p.returncode == 65 and isinstance(err_obj, dict) and err_obj.get("error") == "invalid_contract",
          "submit --json: the daemon's error is a JSON object on stdout (%d: %r)" % (p.returncode, p.stdout))
    for i in range(14):   # refused requests: logged, at most 10 per uid per minute
        c = Conn(SOCK, uid, gid)
        c.send({"type": "submit", "contract": {"contract_id": "bad"}})
        c.recv()
        c.close()
    with msgs_lock:
        msgs.clear()
    daemon.send_signal(signal.SIGHUP)
    rel = read_until(lambda m: "RELOADING=1" in m)
    check(rel is not None and "MONOTONIC_USEC=" in rel, "RELOADING=1 with MONOTONIC_USEC on SIGHUP (%r)" % rel)
    check(read_until(lambda m: "READY=1" in m and "RELOADING" not in m) is not None, "READY=1 after the reload")
    lines = [json.loads(l) for l in open(under("/var/lib/csc/receipts.jsonl")) if l.strip()]
    first = next((l for l in lines if l["receipt"]["contract_id"] == "install-echo-0001"), None)
    check(first is not None and first.get("commands") == [{"cwd": "/srv", "exec": {"argv": ["echo", "installed"]},
                                                           "id": "cmd_1"}] and first["peer"]["uid"] == uid,
          "receipts.jsonl keeps the commands and the peer beside the receipt (%s)" % (first and first.get("commands")))

    # A refused reload says why, to the admin who asked (not only "see the log").
    p = in_ns("cp /etc/csc/policy.yaml policy.good\nprintf 'allow_commands: [\\n' >> /etc/csc/policy.yaml\n"
              "cscctl reload || rc=$?\ncp policy.good /etc/csc/policy.yaml\nexit ${rc:-0}")
    check(p.returncode == 1 and re.search(r"/etc/csc/policy.yaml:\d+:\d+: ", p.stderr) is not None,
          "cscctl reload with a broken policy: exit 1 naming file:line:column (%r)" % p.stderr.strip()[-300:])
    p = in_ns("cp /etc/csc/cscd.conf conf.good\necho 'max_exections: 5' >> /etc/csc/cscd.conf\n"
              "cscctl reload || rc=$?\ncp conf.good /etc/csc/cscd.conf\nexit ${rc:-0}")
    check(p.returncode == 1 and "/etc/csc/cscd.conf" in p.stderr and "max_exections" in p.stderr,
          "cscctl reload with a bad cscd.conf names the setting (%r)" % p.stderr.strip()[-300:])
    # operations.md answers "what did uid N run today" from receipts.jsonl too.
    ops = open(under("/usr/share/doc/cscd/operations.md")).read()
    query = re.search(r"```sh\n(sudo python3 -c 'import json, sys, datetime.*?)```", ops, re.S)
    p = in_ns(desudo(query.group(1)).replace(" 1000\n", " %d\n" % uid)) if query else None
    check(p is not None and p.returncode == 0 and re.search(r"^success .*\"argv\": \[\"echo\", \"installed\"\]",
                                                             p.stdout, re.M) is not None,
          "operations.md's receipts.jsonl query lists what the uid ran today (%r)" % (p and (p.stdout + p.stderr)[-300:]))

    # 7. operations.md "Rotating the signing key", step by step.
    section = re.search(r"## Rotating the signing key\n(.*?)\n## ", ops, re.S)
    blocks = [textwrap.dedent(b) for b in re.findall(r"```sh\n(.*?)```", section.group(1), re.S)] if section else []
    check(len(blocks) == 5, "operations.md: 5 shell steps in 'Rotating the signing key' (%d)" % len(blocks))

    def receipt_to(name):
        fr = submit(uid, gid, contract([{"argv": ["echo", name], "cwd": "/srv"}], cid="rotate-%s-01" % name))
        with open(os.path.join(work, name), "w") as f:
            json.dump(fr[-1]["receipt"], f)
        return fr[-1]["receipt"]

    def step(i):
        text = "\n".join(desudo(l).replace("systemctl reload cscd", "cscctl reload") for l in blocks[i].splitlines())
        return in_ns("set -x\n" + text)
    if len(blocks) == 5:
        before = receipt_to("receipt-before.json")
        results = [step(0), step(1), step(2)]
        after = receipt_to("receipt-after.json")
        results += [step(3), step(4)]
        for i, r in enumerate(results):
            check(r.returncode == 0, "rotation step %d runs (%s)" % (i + 1, r.stderr.strip()[-400:]))
        check(before["signature"]["key_id"] == "cscd" and after["signature"]["key_id"] == "cscd-2",
              "receipts before/after the rotation are signed by cscd / cscd-2")
        check(results[3].stdout.count("VALID") == 2 and "INVALID" not in results[3].stdout,
              "both receipts verify with the keyring (%r)" % results[3].stdout)
        pk = [l.split() for l in results[3].stdout.splitlines() if " ed25519 " in l]
        check(len(pk) == 2 and {p[0]: p[4] for p in pk} == {"cscd-2": "active", "cscd": "retired"} and
              all(re.fullmatch(r"sha256:[0-9a-f]{64}", p[3]) for p in pk),
              "pubkeys lists both keys with fingerprint and state (%s)" % pk)
        p = subprocess.run([CSCCTL, "verify-receipt", os.path.join(work, "receipt-after.json"), "--public-key",
                            os.path.join(work, "keyring", "cscd.pub")], capture_output=True, text=True)
        check(p.returncode == 1, "the new receipt does not verify with the old key alone (%r)" % p.stdout)
        check(not os.path.exists(under("/etc/csc/keys/cscd.key")) and "configuration test passed" in results[4].stderr,
              "the old private key removed, cscd -t still passes")

    # 8. The installed logrotate snippet, rotating while receipts are being written.
    lr = open(under("/etc/logrotate.d/cscd")).read()
    check("copytruncate" not in lr.replace("Never use copytruncate", "") and "postrotate" in lr and
          "systemctl reload cscd.service" in lr, "logrotate snippet: rename + reload, no copytruncate")
    lrconf = os.path.join(tmp, "logrotate.conf")
    with open(lrconf, "w") as f:
        f.write(lr.replace("systemctl reload cscd.service", "cscctl reload"))   # = the unit's ExecReload
    ids, rotated_at = [], []

    def load():
        for i in range(24):
            r = submit(uid, gid, contract([{"argv": ["echo", str(i)], "cwd": "/srv"}], cid="logrot-%04d" % i))
            ids.append((r[-1]["receipt"]["execution_id"], time.monotonic()))
    t = threading.Thread(target=load)
    t.start()
    while len(ids) < 6 and t.is_alive():
        time.sleep(0.01)
    p = in_ns("logrotate -f -s %s/logrotate.state %s" % (tmp, lrconf))
    rotated_at.append(time.monotonic())
    t.join()
    check(p.returncode == 0, "logrotate -f with the installed snippet (%s)" % p.stderr.strip()[-300:])
    new = [json.loads(l)["receipt"]["execution_id"] for l in open(under("/var/lib/csc/receipts.jsonl")) if l.strip()]
    old_path = under("/var/lib/csc/receipts.jsonl.1")
    old = [json.loads(l)["receipt"]["execution_id"] for l in open(old_path) if l.strip()] if os.path.exists(old_path) else []
    everything = old + new
    check(len(ids) == 24 and all(everything.count(i) == 1 for i, _ in ids),
          "every receipt written during the rotation is in exactly one file (%d rotated, %d new)" % (len(old), len(new)))
    late = [i for i, when in ids if when > rotated_at[0]]
    check(late and all(i in new for i in late), "receipts after the rotation go to the new file (%d)" % len(late))
    check(stat.S_IMODE(os.stat(under("/var/lib/csc/receipts.jsonl")).st_mode) == 0o600, "the new receipts.jsonl is 0600")

    daemon.send_signal(signal.SIGTERM)
    check(read_until(lambda m: "STOPPING=1" in m) is not None, "STOPPING=1 on SIGTERM")
    try:
        daemon.wait(30)
    except subprocess.TimeoutExpired:
        daemon.kill()
    log = open(os.path.join(tmp, "cscd.log")).read()
    check(daemon.returncode == 0, "clean exit (%s)" % daemon.returncode)
    check(re.search(r"cscd: decision: contract install-echo-0001 .*uid %d .*cwd /srv argv cmd_1: echo installed" % uid, log)
          is not None, "without journald, decisions go to stderr with uid, cwd and argv")
    check(re.search(r"cscd: receipt: execution \S+ of contract install-echo-0001: success .*argv cmd_1: echo installed",
                    log) is not None, "receipts go to stderr with argv")
    refused = re.findall(r"refused a request from uid %d pid \d+: invalid_contract" % uid, log)
    check(len(refused) == 10, "refused requests logged with uid, pid and reason, 10 per uid per minute (%d of 14)"
          % len(refused))
    daemon = None
    ns.close()

    # 9. Capabilities and clone3, with the built cscd on its own socket.
    keys = os.path.join(tmp, "k")
    subprocess.run([CSCCTL, "keygen", "--key-id", "k", "--out-dir", keys], check=True, capture_output=True)
    policy = os.path.join(tmp, "policy.yaml")
    with open(policy, "w") as f:
        f.write(TEST_POLICY.format(name="caps", extra="cut"))

    def start(prefix, name):
        sock = os.path.join(tmp, name + ".sock")
        d = subprocess.Popen(prefix + [CSCD, "--config", "/dev/null", "--socket", sock, "--state-dir",
                                       os.path.join(tmp, name + ".state"), "--policy", policy, "--signing-key",
                                       os.path.join(keys, "k.key"), "--key-id", "k"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            if os.path.exists(sock) or d.poll() is not None:
                break
            time.sleep(0.05)
        return d, sock

    def stop(d):
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(30)
        except subprocess.TimeoutExpired:
            d.kill()
            d.wait()
        return d.stderr.read()

    def runs(sock):
        conn = Conn(sock, uid, gid)
        conn.send({"type": "submit", "contract": contract([{"argv": ["echo", "ok"]}])})
        fr = conn.recv_until_receipt()
        conn.close()
        return fr[-1].get("receipt", {}).get("status")
    d, sock = start(["setpriv", "--bounding-set=-sys_admin,-kill"], "nosysadmin")
    try:
        d.wait(20)
    except subprocess.TimeoutExpired:
        d.kill()
    err = d.stderr.read()
    check(d.returncode == 78 and "CAP_SYS_ADMIN" in err and "CAP_KILL" in err,
          "a missing required capability is named, exit 78 (%s: %s)" % (d.returncode, err.strip()[-200:]))
    d, sock = start(["setpriv", "--bounding-set=-ipc_lock"], "noipclock")
    status = runs(sock) if d.poll() is None else None
    human = subprocess.run([CSCCTL, "--socket", sock, "status"], capture_output=True, text=True).stdout
    err = stop(d)
    check(re.search(r"^sandbox layers\n(  .*\n)*  weakened +.*key_mlock: started without CAP_IPC_LOCK", human, re.M)
          is not None and re.search(r"^counters", human, re.M) is not None,
          "cscctl status: grouped, the weakened layer listed under sandbox layers (%r)" % human[-600:])
    check(status == "success" and "weakened layer: key_mlock" in err and "CAP_IPC_LOCK" in err,
          "without CAP_IPC_LOCK cscd runs and warns (%s: %s)" % (status, err.strip()[-300:]))
    # A cgroup v1 pids hierarchy that exists but is read-only (as in many
    # containers) is no process cap: said at start and in status.
    if os.path.exists("/sys/fs/cgroup/pids/cgroup.procs"):
        d, sock = start(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                         'mount -o remount,bind,ro /sys/fs/cgroup/pids && exec "$0" "$@"'], "rocgroup")
        st = subprocess.run([CSCCTL, "--socket", sock, "status", "--json"], capture_output=True, text=True).stdout
        status = runs(sock) if d.poll() is None else None
        err = stop(d)
        try:
            sb = json.loads(st)["sandbox"]
        except (ValueError, KeyError):
            sb = {}
        check(sb.get("process_cap") == "none" and any("not writable" in w for w in sb.get("weakened", [])) and
              "weakened layer: process_cap" in err and status == "success",
              "a read-only pids cgroup is reported as no process cap, commands still run (%s, %s)" % (sb, status))
    d, sock = start([ENOSYS], "enosys")
    status = runs(sock) if d.poll() is None else None
    err = stop(d)
    check(status == "success", "clone3 answered with ENOSYS: the clone() fallback runs the contract (%s: %s)"
          % (status, err.strip()[-300:]))
    # openat2 answered with ENOSYS too (nspawn 252, older Docker profiles): the
    # sandbox walks declared paths one component at a time, with the same
    # refusals (a symlink on the way is still a blocked receipt).
    work = mkwork("csc-enosys.")
    os.mkdir(os.path.join(work, "real"), 0o755)
    os.symlink("real", os.path.join(work, "link"))
    env = dict(os.environ, ENOSYS_SYSCALLS="clone3,openat2")
    d = subprocess.Popen([ENOSYS, CSCD, "--config", "/dev/null", "--socket", os.path.join(tmp, "noopenat2.sock"),
                          "--state-dir", os.path.join(tmp, "noopenat2.state"), "--policy", policy, "--signing-key",
                          os.path.join(keys, "k.key"), "--key-id", "k"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sock = os.path.join(tmp, "noopenat2.sock")
    for _ in range(200):
        if os.path.exists(sock) or d.poll() is not None:
            break
        time.sleep(0.05)
    seen = {}
    if d.poll() is None:
        for name in ("real", "link"):
            conn = Conn(sock, uid, gid)
            conn.send({"type": "submit", "contract": contract([{"argv": ["ls", os.path.join(work, name)],
                                                                "read": [os.path.join(work, name)]}])})
            r = conn.recv_until_receipt()[-1].get("receipt", {})
            conn.close()
            seen[name] = (r.get("status"), r.get("error", ""))
    err = stop(d)
    shutil.rmtree(work, ignore_errors=True)
    check(seen.get("real", ("",))[0] == "success" and seen.get("link", ("",))[0] == "blocked" and
          "symlink" in seen["link"][1],
          "openat2 answered with ENOSYS: declared paths still resolve, symlinks still refused (%s: %s)"
          % (seen, err.strip()[-300:]))
finally:
    if daemon is not None:
        daemon.kill()
    if holder is not None:
        holder.kill()
        holder.wait()
    shutil.rmtree(tmp, ignore_errors=True)
print("install: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
