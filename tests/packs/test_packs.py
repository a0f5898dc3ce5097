#!/usr/bin/python3
"""Every shipped policy pack loads, and decides its own fixtures as stated.

For each policy-packs/NAME/: pack.yaml names the pack and its policy file;
the policy passes `cscctl validate policy`; every case in tests/decisions.json
gets exactly its expected decision, reason codes and exit code from
`cscctl check --json`, whose output must itself validate as a decision.
The examples in policy-packs/examples/index.json must validate and get their
stated decision. usage: test_packs.py CSCCTL PACKS_DIR"""
import json, os, subprocess, sys, tempfile

import yaml

cscctl, packs = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="csc-packs-")
import atexit, shutil as _shutil  # noqa: E401
atexit.register(_shutil.rmtree, tmp, True)
EXIT = {"allow": 0, "deny": 1, "needs_approval": 2}
passed = failed = 0

def result(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok - {what}")
    else:
        failed += 1
        print(f"not ok - {what}")

def run(*args):
    return subprocess.run([cscctl, *args], capture_output=True, text=True, timeout=30)

def check(contract_path, policy, want, codes, what):
    p = run("check", contract_path, "--policy", policy, "--json")
    try:
        d = json.loads(p.stdout)
    except ValueError:
        result(False, f"{what}: no JSON (exit {p.returncode}): {p.stderr.strip()}")
        return
    dpath = os.path.join(tmp, "decision.json")
    with open(dpath, "w") as f:
        json.dump(d, f)
    v = run("validate", "decision", dpath)
    ok = d["decision"] == want and (codes is None or d["reason_codes"] == codes) and p.returncode == EXIT[want] \
        and v.returncode == 0
    result(ok, f"{what}: {d['decision']} {d['reason_codes']} exit {p.returncode}"
               + ("" if ok else f", want {want} {codes}; decision validates: {v.stdout.strip()} {v.stderr.strip()}"))

names = sorted(n for n in os.listdir(packs) if os.path.isfile(os.path.join(packs, n, "pack.yaml")))
result(len(names) >= 3, f"packs found: {names}")
policies = {}
for name in names:
    d = os.path.join(packs, name)
    with open(os.path.join(d, "pack.yaml")) as f:
        meta = yaml.safe_load(f)
    result(meta.get("name") == name and isinstance(meta.get("description"), str) and meta.get("policy"),
           f"{name}/pack.yaml has name, description and policy")
    policy = os.path.join(d, meta["policy"])
    policies[name] = policy
    p = run("validate", "policy", policy)
    result(p.returncode == 0, f"{name}: policy validates ({p.stdout.strip()} {p.stderr.strip()})")
    result(os.path.isfile(os.path.join(d, "README.md")), f"{name}/README.md exists")
    with open(os.path.join(d, "tests", "decisions.json")) as f:
        cases = json.load(f)
    result(len(cases) >= 5, f"{name}: {len(cases)} decision fixtures")
    file_hash = run("hash", "policy", policy).stdout.strip()
    for c in cases:
        # Same format as the conformance decisions: the policy is inline. It
        # must be the pack's policy file, so fixtures cannot drift from it.
        cp = os.path.join(tmp, c["id"] + ".json")
        pp = os.path.join(tmp, c["id"] + ".policy.json")
        with open(cp, "w") as f:
            json.dump(c["contract"], f)
        with open(pp, "w") as f:
            json.dump(c["policy"], f)
        inline_hash = run("hash", "policy", pp).stdout.strip()
        result(inline_hash == file_hash and len(file_hash) == 64, f"{c['id']}: inline policy is the pack's policy")
        check(cp, pp, c["expected_decision"], c["expected_reason_codes"], c["id"])
        check(cp, policy, c["expected_decision"], c["expected_reason_codes"], c["id"] + " (policy file)")

policies["default-demo"] = os.path.join(packs, "default-demo.yaml")
with open(os.path.join(packs, "examples", "index.json")) as f:
    index = json.load(f)
for ex in index:
    cp = os.path.join(packs, "examples", ex["contract"])
    p = run("validate", "contract", cp)
    result(p.returncode == 0, f"example {ex['contract']} validates")
    check(cp, policies[ex["pack"]], ex["expected_decision"], None, f"example {ex['contract']} under {ex['pack']}")
print(f"packs: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
