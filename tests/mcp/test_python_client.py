"""test_python_client — client/python (cscd_client) installed with pip from
the checkout (no dependencies, no network), then used against a real cscd:
as a real non-root user (py_client_checks.py) and as root (refused).
Prints "python client: N passed, N failed"."""
import ast, os, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cscproto import CSCCTL, Daemon, Conn, Tally, ensure_user  # noqa: E402

STDLIB_OK = set(sys.stdlib_module_names) | {"cryptography"}   # cryptography: optional, imported lazily


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (starts cscd and runs as a test user)")
        return 77
    t = Tally()
    tmp = tempfile.mkdtemp(prefix="csc-pyclient.")
    src, site = os.path.join(tmp, "src"), os.path.join(tmp, "site")
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    shutil.copytree(os.path.join(TOP, "client", "python"), src)
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index",
                        "--no-deps", "--target", site, src], capture_output=True, text=True)
    t.check(p.returncode == 0 and os.path.isfile(os.path.join(site, "cscd_client", "client.py")),
            "pip installs cscd_client from the checkout", p.stderr[-2000:])
    imports = set()
    for f in os.listdir(os.path.join(TOP, "client", "python", "cscd_client")):
        if f.endswith(".py"):
            with open(os.path.join(TOP, "client", "python", "cscd_client", f)) as fh:
                for node in ast.walk(ast.parse(fh.read())):
                    if isinstance(node, ast.Import):
                        imports |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        imports.add(node.module.split(".")[0])
    t.check(imports <= STDLIB_OK, "cscd_client imports only the standard library", imports - STDLIB_OK)
    os.chmod(tmp, 0o755)
    uid, gid = ensure_user()
    d = Daemon()
    with open(d.policy, "a") as f:
        f.write("manual_approval_for_classified_effect_types: [transform_local]\n")
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    work = tempfile.mkdtemp(prefix="csc-pyclient.", dir="/srv")
    os.chown(work, uid, gid)
    os.chmod(work, 0o755)
    try:
        pub = os.path.join(work, "key.pub")   # the daemon's key dir is root's alone
        shutil.copy(d.pub, pub)
        os.chmod(pub, 0o644)
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "USER": "csc-test", "PYTHONPATH": site}
        n_receipts = len(d.receipts())
        p = subprocess.run(["setpriv", "--reuid", str(uid), "--regid", str(gid), "--clear-groups", sys.executable,
                            os.path.join(HERE, "py_client_checks.py"), d.sock, work, CSCCTL, pub],
                           capture_output=True, text=True, env=env, cwd="/", timeout=300)
        sys.stdout.write(p.stdout)
        for line in p.stdout.splitlines():
            if line.startswith("ok "):
                t.passed += 1
            elif line.startswith("FAIL "):
                t.failed += 1
        t.check(p.returncode == 0 and p.stdout.count("\n") >= 20, "the checks as the user ran to the end",
                p.stderr[-3000:])
        t.check(len(d.receipts()) > n_receipts + 5, "every run, the cancelled one included, left a receipt in the log")
        sys.path.insert(0, site)
        from cscd_client import Client, Unauthorized, build_contract
        for what, fn in (("submit", lambda c: list(c.submit(build_contract(argv=["id"], cwd="/", intent="root")[0]))),
                         ("policy", lambda c: c.policy())):
            try:
                fn(Client(socket=d.sock))
                t.check(False, "root: %s is refused with Unauthorized" % what)
            except Unauthorized as e:
                t.check(e.code == "unauthorized", "root: %s is refused with Unauthorized" % what)
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    t.check(d.returncode == 0, "cscd stopped cleanly", d.final_log[-2000:])
    print("python client: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
