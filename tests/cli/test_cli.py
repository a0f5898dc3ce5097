#!/usr/bin/env python3
"""CLI tests of cscctl: every offline command's output and exit codes
(0, 1, 2, 64, 65, 66, 69, 73, 77) with real files."""
import json, os, stat, subprocess, sys, tempfile

cscctl = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="csc-cli-")
import atexit, shutil as _shutil  # noqa: E401
atexit.register(_shutil.rmtree, tmp, True)
passed, failed = 0, []


def run(*args, stdin=None):
    p = subprocess.run([cscctl] + list(args), capture_output=True, text=True, input=stdin,
                       env=dict(os.environ, CSC_SOCKET=os.path.join(tmp, "nosuch.sock")))
    return p.returncode, p.stdout, p.stderr


def expect(name, got_rc, want_rc, text="", needle=None):
    global passed
    if got_rc == want_rc and (needle is None or needle in text):
        passed += 1
    else:
        failed.append("%s: exit %d (want %d), needle %r in %r" % (name, got_rc, want_rc, needle, text[:300]))


def write(name, obj=None, text=None, mode=0o644):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text if text is not None else json.dumps(obj))
    os.chmod(path, mode)
    return path


CONTRACT = {"version": "csc.v0.1", "contract_id": "cli-test-0001", "intent": "list", "justification": "test",
            "actor": {"agent_id": "a", "session_id": "s", "initiating_user": "u", "delegation_scope": "t"},
            "commands": [{"id": "c1", "exec": {"argv": ["ls", "-la"]}, "cwd": "/workspace",
                          "read_paths": ["/workspace"], "write_paths": [], "network": "deny", "env_allow": [],
                          "secret_refs": [], "timeout_sec": 30, "proposed_effect_type": "observe"}],
            "risk_class": "low", "approval_mode": "policy_only"}
POLICY = """policy_schema_version: csc.policy.v0.1
name: cli-policy   # a comment
allow_commands: [ls, git]
allowed_effect_types: [observe]
allowed_risk_classes: [low]
max_timeout_sec: 60
network: deny
allow_secret_refs: false
allowed_cwd_prefixes: [/workspace]
allowed_read_prefixes: [/workspace]
"""
c_ok = write("ok.json", CONTRACT)
p_ok = write("policy.yaml", text=POLICY)

# --help / --version / usage
for args in (["--help"], ["--version"], ["validate", "--help"], ["hash", "--help"], ["check", "--help"],
             ["verify-receipt", "--help"], ["keygen", "--help"], ["canonical", "--help"], ["submit", "--help"],
             ["status", "--help"], ["reload", "--help"], ["pubkeys", "--help"], ["approve", "--help"],
             ["verify-approval", "--help"]):
    rc, out, err = run(*args)
    expect("help " + " ".join(args), rc, 0, out, "usage" if args != ["--version"] else "cscctl 0.1")
for args in ([], ["frobnicate"], ["--bogus"], ["validate"], ["validate", "widget", c_ok], ["hash", "contract"],
             ["check"], ["check", c_ok, "--nope"], ["verify-receipt", c_ok], ["keygen", "--key-id", "x"],
             ["submit"], ["status", "extra"]):
    rc, out, err = run(*args)
    expect("usage " + " ".join(args), rc, 64, err, "cscctl")

# validate
rc, out, err = run("validate", "contract", c_ok)
expect("validate ok", rc, 0, out, "valid contract")
bad = dict(CONTRACT, commands=[dict(CONTRACT["commands"][0], cwd="relative")])
rc, out, err = run("validate", "contract", write("bad.json", bad))
expect("validate bad cwd path", rc, 65, err, "commands[0].cwd")
rc, out, err = run("validate", "contract", os.path.join(tmp, "missing.json"))
expect("validate missing", rc, 66, err, "failed to read")
rc, out, err = run("validate", "contract", tmp)
expect("validate directory", rc, 66, err, "")
rc, out, err = run("validate", "contract", write("trunc.json", text='{"version": "csc.v0.1"'))
expect("validate truncated", rc, 65, err, "invalid JSON")
rc, out, err = run("validate", "contract", write("dup.json", text='{"version":"csc.v0.1","version":"x"}'))
expect("validate duplicate key", rc, 65, err, "duplicate key")
rc, out, err = run("validate", "contract", write("big.json", text=" " * (1024 * 1024 + 1)))
expect("validate oversized", rc, 65, err, "")
rc, out, err = run("validate", "policy", p_ok)
expect("validate policy", rc, 0, out, "cli-policy")
rc, out, err = run("validate", "policy", write("p-yes.yaml", text=POLICY.replace("false", "no")))
expect("validate policy yes/no", rc, 65, err, "allow_secret_refs")
rc, out, err = run("validate", "policy", os.path.join(tmp, "nope.yaml"))
expect("validate policy missing", rc, 66, err, "failed to read")

# hash
rc, out, err = run("hash", "contract", c_ok)
expect("hash contract", rc, 0, out)
if rc == 0 and len(out.strip()) != 64:
    failed.append("hash output %r" % out)
rc2, out2, _ = run("hash", "contract", write("ok-reordered.json", text=json.dumps(dict(reversed(list(CONTRACT.items()))), indent=3)))
expect("hash stable under key order/whitespace", rc2, 0, out2, out.strip() or "x")
rc, out, err = run("hash", "policy", p_ok)
expect("hash policy", rc, 0, out)
rc, out, err = run("hash", "contract", write("inv.json", bad))
expect("hash invalid", rc, 65, err, "commands[0].cwd")

# check: allow / deny / needs_approval / invalid
rc, out, err = run("check", c_ok, "--policy", p_ok)
expect("check allow", rc, 0, out, "allow")
rc, out, err = run("check", c_ok, "--policy", p_ok, "--json")
expect("check allow json", rc, 0, out, '"decision": "allow"')
deny = dict(CONTRACT, commands=[dict(CONTRACT["commands"][0], cwd="/etc")])
rc, out, err = run("check", write("deny.json", deny), "--policy", p_ok)
expect("check deny explains", rc, 1, out, "commands[0].cwd")
dotdot = dict(CONTRACT, commands=[dict(CONTRACT["commands"][0], read_paths=["/workspace/../etc"])])
rc, out, err = run("check", write("dotdot.json", dotdot), "--policy", p_ok, "--json")
expect("check dotdot denied", rc, 1, out, "READ_SCOPE_DENIED")
rc, out, err = run("check", write("human.json", dict(CONTRACT, approval_mode="human_required")), "--policy", p_ok)
expect("check needs approval", rc, 2, out, "APPROVAL_REQUIRED")
rc, out, err = run("check", write("bad2.json", bad), "--policy", p_ok)
expect("check invalid contract", rc, 65, err, "commands[0].cwd")
rc, out, err = run("check", c_ok, "--policy", os.path.join(tmp, "none.yaml"))
expect("check missing policy", rc, 66, err, "failed to read")
rc, out, err = run("check", c_ok)
expect("check without daemon", rc, 69, err, "cannot reach cscd")
rc, out, err = run("status")
expect("status without daemon", rc, 69, err, "cannot reach cscd")

# keygen + verify-receipt
keys = os.path.join(tmp, "keys")
os.mkdir(keys)
rc, out, err = run("keygen", "--key-id", "k1", "--out-dir", keys)
expect("keygen", rc, 0, out, "k1.key")
if rc == 0:
    st = os.stat(os.path.join(keys, "k1.key"))
    expect("key mode 0600", stat.S_IMODE(st.st_mode), 0o600)
    expect("pub size 32", os.path.getsize(os.path.join(keys, "k1.pub")), 32)
rc, out, err = run("keygen", "--key-id", "k1", "--out-dir", keys)
expect("keygen refuses to overwrite", rc, 73, err, "")
rc, out, err = run("keygen", "--key-id", "../evil", "--out-dir", keys)
expect("keygen bad id", rc, 64, err, "")
receipt = {"receipt_version": "csc.receipt.v0.1", "contract_id": "x", "execution_id": "e",
           "contract_sha256": "0" * 64, "status": "blocked", "started_at": "2026-01-01T00:00:00Z",
           "ended_at": "2026-01-01T00:00:00Z", "policy_profile": "p"}
rc, out, err = run("verify-receipt", write("unsigned.json", receipt), "--public-key", os.path.join(keys, "k1.pub"))
expect("verify unsigned", rc, 1, out, "INVALID: missing signature")
rc, out, err = run("verify-receipt", write("unsigned2.json", receipt), "--public-key", c_ok)
expect("verify bad public key file", rc, 65, err, "")
rc, out, err = run("verify-receipt", os.path.join(tmp, "none.json"), "--public-key", os.path.join(keys, "k1.pub"))
expect("verify missing receipt", rc, 66, err, "failed to read")

# canonical
rc, out, err = run("canonical", stdin='{"b":1,"a":"\\u00e9\\n"}')
expect("canonical", rc, 0, out, '{"a":"é\\n","b":1}')
rc, out, err = run("canonical", stdin='{"a":1,"a":2}')
expect("canonical duplicate", rc, 65, err, "duplicate key")

# approve / verify-approval
rc, out, err = run("approve", c_ok, "--approver", "alice", "--expires-in", "30m")
a = json.loads(out) if rc == 0 else {}
expect("approve", rc, 0, out, '"approval_version": "csc.approval.v0.1"')
hash_rc, hash_out, _ = run("hash", "contract", c_ok)
expect("approve binds the contract hash", 0 if a.get("contract_sha256") == hash_out.strip() else 1, 0)
rc, out, err = run("validate", "approval", write("a.json", a))
expect("approval validates", rc, 0, out, "valid approval")
rc, out, err = run("approve", c_ok, "--approver", "alice", "--expires-in", "soon")
expect("approve bad duration", rc, 64, err, "--expires-in")
rc, out, err = run("approve", c_ok, "--approver", "alice", "--scope", "forever")
expect("approve bad scope", rc, 64, err, "scope")
rc, out, err = run("approve", c_ok, "--approver", "alice", "--sign-key", os.path.join(keys, "k1.key"))
expect("approve key without id", rc, 64, err, "--key-id")
rc, out, err = run("approve", os.path.join(tmp, "none.json"), "--approver", "alice")
expect("approve missing contract", rc, 66, err, "failed to read")
rc, out, err = run("approve", write("bad-c.json", {"version": 1}), "--approver", "alice")
expect("approve invalid contract", rc, 65, err, "missing required key")
rc, out, err = run("approve", c_ok, "--approver", "alice", "--sign-key", os.path.join(keys, "k1.key"),
                   "--key-id", "k1", "--out", os.path.join(tmp, "signed.json"))
expect("approve signed --out", rc, 0, out + err)
rc, out, err = run("approve", c_ok, "--approver", "alice", "--out", os.path.join(tmp, "signed.json"))
expect("approve never overwrites", rc, 73, err, "cannot write")
rc, out, err = run("verify-approval", os.path.join(tmp, "signed.json"), "--public-key", os.path.join(keys, "k1.pub"))
expect("verify-approval", rc, 0, out, "VALID")
signed = json.load(open(os.path.join(tmp, "signed.json")))
signed["scope"] = "time_window"
rc, out, err = run("verify-approval", write("tampered.json", signed), "--public-key", os.path.join(keys, "k1.pub"),
                   "--json")
expect("verify-approval tampered --json", rc, 1, out, '"valid": false')

# --json results
rc, out, err = run("validate", "contract", write("bad.json", {"version": 1}), "--json")
expect("validate --json invalid", rc, 65, out, '"valid": false')
rc, out, err = run("hash", "contract", c_ok, "--json")
expect("hash --json", rc, 0, out, '"contract_sha256"')
rc, out, err = run("keygen", "--key-id", "k2", "--out-dir", keys, "--json")
expect("keygen --json", rc, 0, out, '"public_key"')

for f in failed:
    print("FAIL", f)
print("cli: %d passed, %d failed" % (passed, len(failed)))
sys.exit(1 if failed else 0)
