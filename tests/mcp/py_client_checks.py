"""py_client_checks — the Python client (cscd_client, installed with pip) used
as a real non-root user against a real cscd. Run by test_python_client.py
through setpriv; prints "ok NAME" / "FAIL NAME" per check."""
import base64, copy, json, os, subprocess, sys, time, traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from cscproto import pids_running as pids  # noqa: E402

from cscd_client import (Client, Decision, Started, Output, Exit, Receipt, build_contract, verify_receipt,
                         InvalidContract, CscdUnavailable, CscdError)

SOCK, WORK, CSCCTL, PUB = sys.argv[1:5]
c = Client(socket=SOCK)
results = []


def check(ok, name, detail=""):
    print(("ok " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:600]), flush=True)


def step(name, fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        check(False, name, traceback.format_exc())


def t_policy():
    p = c.policy()
    check("echo" in p["allow_commands"] and p["user"]["uid"] == os.getuid() and "type" not in p,
          "policy(): the live policy as this user sees it", p)
    s = c.status()
    check(s["sandbox_profile_id"] == "cscd-v1", "status(): the daemon's status", s)


def t_events():
    contract, env = build_contract(argv=["sh", "-c", "echo out; echo err >&2; exit 3"], cwd="/", intent="events")
    evs = list(c.submit(contract, env=env))
    kinds = [type(e).__name__ for e in evs]
    check(kinds[0] == "Decision" and kinds[1] == "Started" and kinds[-2] == "Exit" and kinds[-1] == "Receipt" and
          set(kinds[2:-2]) <= {"Output"}, "submit(): typed events in protocol order", kinds)
    out = b"".join(e.data for e in evs if isinstance(e, Output) and e.stream == "stdout")
    err = b"".join(e.data for e in evs if isinstance(e, Output) and e.stream == "stderr")
    check(out == b"out\n" and err == b"err\n" and evs[-2].exit_code == 3 and evs[-1].status == "failed",
          "submit(): output bytes, exit code and receipt", (out, err))


def t_run():
    contract, env = build_contract(pipeline=[["seq", "1", "5"], ["wc", "-l"]], cwd="/", intent="pipeline")
    r = c.run(contract, env=env)
    check(r.status == "success" and r.exit_code == 0 and r.stdout.strip() == b"5", "run(): a pipeline", r)
    me = c.run(build_contract(argv=["id", "-u"], cwd="/", intent="who")[0])
    check(me.stdout.strip() == str(os.getuid()).encode(), "run(): runs as this user", me.stdout)
    check(c.check(contract)["decision"] == "allow", "check(): allow")
    no = build_contract(argv=["rm", "-rf", WORK], cwd="/", intent="remove")[0]
    d = c.check(no)
    check(d["decision"] == "deny" and d["reason_codes"] == ["COMMAND_NOT_ALLOWED"], "check(): deny", d)
    r = c.run(no)
    check(r.status == "blocked" and r.exit_code is None and r.receipt["status"] == "blocked" and os.path.isdir(WORK),
          "run(): a denied contract is blocked with a receipt", r.receipt)


def t_verify():
    r = c.run(build_contract(argv=["echo", "signed"], cwd="/", intent="sign")[0])
    key = c.pubkeys()[0]
    check(key["algorithm"] == "ed25519" and len(base64.b64decode(key["public_key"])) == 32, "pubkeys(): one ed25519 key")
    for use, name in ((True, "cryptography"), (False, "cscctl")):
        ok = verify_receipt(r.receipt, key["public_key"], key_id=key["key_id"], use_cryptography=use, cscctl=CSCCTL)
        check(ok == (True, "VALID"), "verify_receipt() with %s: VALID" % name, ok)
        bad = copy.deepcopy(r.receipt)
        bad["exit_code"] = 1
        ok = verify_receipt(bad, PUB, use_cryptography=use, cscctl=CSCCTL)
        check(ok[0] is False, "verify_receipt() with %s: a changed receipt is INVALID" % name, ok)
    ok = verify_receipt(r.receipt, PUB, key_id="other-key")
    check(ok[0] is False, "verify_receipt(): a different key_id is refused", ok)


def t_errors():
    contract = build_contract(argv=["echo"], cwd="relative/dir", intent="bad cwd")[0]
    try:
        c.check(contract)
        check(False, "InvalidContract for a relative cwd")
    except InvalidContract as e:
        check(e.code == "invalid_contract" and e.path == "commands[0].cwd", "InvalidContract names the path", e)
    try:
        Client(socket=os.path.join(WORK, "no.sock")).status()
        check(False, "CscdUnavailable")
    except CscdUnavailable as e:
        check(isinstance(e, OSError), "CscdUnavailable for a missing socket")
    try:
        build_contract(argv="echo hi", intent="x")
        check(False, "builder refuses a shell string")
    except ValueError:
        check(True, "build_contract(): a shell string is refused")


def t_cancel():
    argv = ["sleep", "41.5"]
    it = c.submit(build_contract(argv=argv, cwd="/", intent="to cancel")[0])
    for ev in it:
        if isinstance(ev, Started):
            break
    for _ in range(100):
        if pids(*argv):
            break
        time.sleep(0.05)
    check(len(pids(*argv)) == 1, "cancel: the command ran")
    it.close()
    for _ in range(100):
        if not pids(*argv):
            break
        time.sleep(0.05)
    check(not pids(*argv), "cancel: closing submit() early kills the sandbox")


def t_approval():
    target = os.path.join(WORK, "py-approved")
    contract, env = build_contract(argv=["touch", target], cwd="/", write_paths=[WORK], effect="transform_local",
                                   intent="approve me")
    r = c.run(contract, env=env)
    check(r.status == "needs_approval" and "transform_local" in r.reason and not os.path.exists(target),
          "approval: needs_approval names the effect type", r.reason)
    cf, af = os.path.join(WORK, "c.json"), os.path.join(WORK, "a.json")
    with open(cf, "w") as f:
        json.dump(contract, f)
    subprocess.run([CSCCTL, "approve", cf, "--approver", "human", "--out", af], check=True, capture_output=True)
    r = c.run(contract, approvals=[af], env=env)
    check(r.status == "success" and os.path.exists(target), "approval: the same contract with the approval runs", r)


for name, fn in [("policy", t_policy), ("events", t_events), ("run", t_run), ("verify", t_verify),
                 ("errors", t_errors), ("cancel", t_cancel), ("approval", t_approval)]:
    step(name, fn)
