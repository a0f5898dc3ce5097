#!/usr/bin/env python3
"""Install into a DESTDIR and use the installed tree like an admin would:
the expected files are there, the units pass `systemd-analyze verify`, and the
installed cscd serves a contract on a socket passed by systemd-socket-activate
while its sd_notify sequence (READY, STATUS, RELOADING/READY with
MONOTONIC_USEC, WATCHDOG, STOPPING) is read from our own NOTIFY_SOCKET.
usage: test_install.py BUILD_DIR"""
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time

build = os.path.abspath(sys.argv[1])
if os.geteuid() != 0:
    print("SKIP: needs root (the installed cscd runs a contract as another user)")
    sys.exit(77)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from cscproto import TEST_POLICY, Conn, contract, ensure_user, output_of  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok - " if ok else "not ok - ") + what)
    if ok:
        passed += 1
    else:
        failed += 1


dest = tempfile.mkdtemp(prefix="csc-destdir.")
work = tempfile.mkdtemp(prefix="csc-installed.")
os.chmod(work, 0o755)
try:
    p = subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True)
    check(p.returncode == 0, "meson install --destdir: " + p.stderr.strip()[-300:])
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", build], capture_output=True, text=True)
    opts = {o["name"]: o["value"] for o in json.loads(prefix.stdout)}
    pre = opts["prefix"]

    def installed(rel):
        return os.path.join(dest, (rel if rel.startswith("/") else os.path.join(pre, rel)).lstrip("/"))
    unitdir = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"], capture_output=True,
                             text=True).stdout.strip() or os.path.join(pre, "lib/systemd/system")
    want = [os.path.join(opts["sbindir"], "cscd"), os.path.join(opts["bindir"], "cscctl"),
            os.path.join(unitdir, "cscd.service"), os.path.join(unitdir, "cscd.socket"),
            os.path.join(opts["mandir"], "man8/cscd.8"), os.path.join(opts["mandir"], "man1/cscctl.1"),
            os.path.join(opts["mandir"], "man5/cscd.conf.5"), os.path.join(opts["mandir"], "man5/csc-policy.5"),
            os.path.join(opts["sysconfdir"], "csc/cscd.conf"),
            os.path.join(opts["datadir"], "csc/policy-packs/dev-readonly/pack.yaml"),
            os.path.join(opts["datadir"], "csc/schemas/contract.schema.json"),
            os.path.join(opts["datadir"], "bash-completion/completions/cscctl")]
    for w in want:
        check(os.path.exists(installed(w)), "installed " + w)
    cscd, cscctl = installed(os.path.join(opts["sbindir"], "cscd")), installed(os.path.join(opts["bindir"], "cscctl"))
    svc = open(installed(os.path.join(unitdir, "cscd.service"))).read()
    check("ExecStart=%s/cscd" % os.path.join(pre, opts["sbindir"]) in svc, "ExecStart points at the installed sbindir")

    # systemd-analyze verify, with ExecStart pointing into the DESTDIR (verify checks the binary exists).
    units = os.path.join(work, "units")
    os.mkdir(units)
    for u in ("cscd.service", "cscd.socket"):
        text = open(installed(os.path.join(unitdir, u))).read().replace(os.path.join(pre, opts["sbindir"], "cscd"), cscd)
        with open(os.path.join(units, u), "w") as f:
            f.write(text)
    # Documentation= is checked with man(1) against the installed pages when man is there.
    have_man = shutil.which("man") is not None
    p = subprocess.run(["systemd-analyze", "verify", "--man=yes" if have_man else "--man=no",
                        os.path.join(units, "cscd.socket"), os.path.join(units, "cscd.service")],
                       capture_output=True, text=True,
                       env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning", MANPATH=installed(opts["mandir"])))
    problems = [l for l in (p.stdout + p.stderr).splitlines() if "cscd" in l]
    check(p.returncode == 0 and not problems, "systemd-analyze verify: %s" % (problems or p.returncode))
    # The installed config file parses (an empty config would too, so check a key survives).
    conf_text = open(installed(os.path.join(opts["sysconfdir"], "csc/cscd.conf"))).read()
    check("admin_groups" in conf_text and "\n#" in "\n" + conf_text, "installed cscd.conf is commented")

    # Serve a contract from the installed tree under socket activation, reading sd_notify.
    uid, gid = ensure_user()
    subprocess.run([cscctl, "keygen", "--key-id", "inst", "--out-dir", work], check=True, capture_output=True)
    policy = os.path.join(work, "policy.yaml")
    with open(policy, "w") as f:
        f.write(TEST_POLICY.format(name="installed", extra="cut"))
    notify_path = os.path.join(work, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    ns.settimeout(10)
    sock = os.path.join(work, "csc.sock")
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000")
    daemon = subprocess.Popen(["systemd-socket-activate", "-l", sock, "-E", "NOTIFY_SOCKET", "-E", "WATCHDOG_USEC",
                               cscd, "--config", installed(os.path.join(opts["sysconfdir"], "csc/cscd.conf")),
                               "--state-dir", os.path.join(work, "state"), "--policy", policy,
                               "--signing-key", os.path.join(work, "inst.key"), "--key-id", "inst"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    os.chmod(sock, 0o666)
    msgs = []

    def read_until(pred, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            for m in msgs:
                if pred(m):
                    return m
            try:
                msgs.append(ns.recv(4096).decode())
            except socket.timeout:
                break
        return None
    # The first connection triggers the activation.
    c = Conn(sock, uid, gid)
    c.send({"type": "submit", "contract": contract([{"argv": ["echo", "installed"]}])})
    frames = c.recv_until_receipt()
    c.close()
    check(output_of(frames) == b"installed\n" and frames[-1]["receipt"]["status"] == "success",
          "installed cscd serves a contract on a socket-activated socket")
    ready = read_until(lambda m: "READY=1" in m)
    check(ready is not None and "STATUS=" in ready, "READY=1 with STATUS= (%r)" % ready)
    check(read_until(lambda m: "WATCHDOG=1" in m, 3) is not None, "WATCHDOG=1 pings with WATCHDOG_USEC set")
    msgs.clear()
    daemon.send_signal(signal.SIGHUP)
    rel = read_until(lambda m: "RELOADING=1" in m)
    check(rel is not None and "MONOTONIC_USEC=" in rel, "RELOADING=1 with MONOTONIC_USEC on SIGHUP (%r)" % rel)
    check(read_until(lambda m: "READY=1" in m and "RELOADING" not in m) is not None, "READY=1 after the reload")
    daemon.send_signal(signal.SIGTERM)
    check(read_until(lambda m: "STOPPING=1" in m) is not None, "STOPPING=1 on SIGTERM")
    try:
        daemon.wait(20)
    except subprocess.TimeoutExpired:
        daemon.kill()
    check(daemon.returncode == 0, "clean exit (%s): %s" % (daemon.returncode, daemon.stderr.read()[-500:]))
finally:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
print("install: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
