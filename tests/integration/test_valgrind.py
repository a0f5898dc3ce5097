#!/usr/bin/env python3
"""cscd under valgrind memcheck serves 1000 requests with no error and no
leak: denied submits (each ends in a signed, audited, journalled blocked
receipt), checks, status and pubkeys requests, malformed frames, and
disconnects. Valgrind 3.19 does not implement clone3 (nor the new mount
API), so the sandbox itself cannot start under it: executions are covered by
the ASan+LSan runs of the other daemon tests instead."""
import os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import CSCCTL, CSCD, TEST_POLICY, Conn, contract, encode, ensure_user, mkwork  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)
if not shutil.which("valgrind"):
    print("SKIP: valgrind is not installed")
    sys.exit(77)
N = int(os.environ.get("CSC_VALGRIND_REQUESTS", "1000"))
# Valgrind cannot run a sanitizer build: build a plain tree next to it.
if "libasan" in subprocess.run(["ldd", CSCD], capture_output=True, text=True).stdout:
    src = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    plain = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(CSCD))), "plain-for-valgrind")
    if not os.path.isdir(plain):
        subprocess.run(["meson", "setup", plain, src, "-Db_sanitize=none"], check=True, capture_output=True)
    subprocess.run(["ninja", "-C", plain, "daemon/cscd", "daemon/cscd-session", "daemon/cscd-executor"], check=True, capture_output=True)
    CSCD = os.path.join(plain, "daemon", "cscd")
uid, gid = ensure_user()
work = mkwork("cscd-valgrind.")
os.chmod(work, 0o755)
subprocess.run([CSCCTL, "keygen", "--key-id", "vg", "--out-dir", work], check=True, capture_output=True)
policy = os.path.join(work, "policy.yaml")
with open(policy, "w") as f:
    f.write(TEST_POLICY.format(name="valgrind", extra="cut"))
sock = os.path.join(work, "csc.sock")
log = os.path.join(work, "valgrind.log")
proc = subprocess.Popen(["valgrind", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                         "--errors-for-leak-kinds=definite,indirect", "--log-file=" + log, CSCD, "--socket", sock,
                         "--state-dir", os.path.join(work, "state"), "--policy", policy,
                         "--signing-key", os.path.join(work, "vg.key"), "--key-id", "vg"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
ok = False
try:
    for _ in range(300):
        if os.path.exists(sock):
            break
        time.sleep(0.1)
    denied = contract([{"argv": ["rm", "-rf", "/"]}], cid="valgrind-deny-0001")
    kinds = 0
    for i in range(N):
        k = i % 5
        c = Conn(sock, uid, gid, timeout=60)
        if k == 0 or k == 1:
            c.send({"type": "submit", "contract": denied})
            f = c.recv_until_receipt()[-1]
            assert f["type"] == "receipt" and f["receipt"]["status"] == "blocked", f
        elif k == 2:
            c.send({"type": "check", "contract": denied})
            assert c.recv()["type"] == "decision"
        elif k == 3:
            c.send({"type": "status" if i % 2 else "pubkeys"})
            assert c.recv()["type"] in ("status", "pubkeys")
        else:
            c.send_raw([b"\0\0\0\0", struct.pack(">I", 5) + b"{nope", encode({"type": "x"}),
                        encode({"type": "submit", "contract": {"version": 1}})][i % 4])
            assert c.recv()["type"] == "error"
        c.close()
        kinds += 1
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(120)
    text = open(log).read()
    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    leaks = re.search(r"definitely lost: ([\d,]+) bytes", text)
    print("# %d requests; %s; %s" % (kinds, m.group(0) if m else "no summary", leaks.group(0) if leaks else "no leaks reported"))
    ok = rc == 0 and m is not None and m.group(1) == "0" and (leaks is None or leaks.group(1) == "0")
    if not ok:
        print(text[-4000:])
finally:
    if proc.poll() is None:
        proc.kill()
    if os.environ.get("CSC_KEEP"): print("# kept", work)
    else: shutil.rmtree(work, ignore_errors=True)
print("valgrind: %d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
sys.exit(0 if ok else 1)
