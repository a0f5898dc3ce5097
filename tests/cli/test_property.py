#!/usr/bin/env python3
"""Property test: canonical JSON and contract_sha256 from cscctl against an
independent implementation (python3's json with the reference's settings),
over thousands of random values with non-ASCII and control characters."""
import hashlib, json, os, random, subprocess, sys, tempfile

cscctl = sys.argv[1]
seed = int(os.environ.get("CSC_PROPERTY_SEED", "20261122"))
rng = random.Random(seed)
ALPHABET = ([chr(c) for c in range(0, 0x20)] + list("azAZ09 \"\\/'{}[]:,.-_\x7f") +
            ["é", "ß", "中", "文", "\u2028", "\u2029", "\ufeff", "😀", "𝄞", "\u0300", "\uffff", "\U0010fffd"])


def rstr(n=12):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def rvalue(depth=0):
    k = rng.randint(0, 7 if depth < 4 else 4)
    if k == 0:
        return rng.choice([True, False, None])
    if k == 1:
        return rng.choice([0, -1, 1, 2**31, -2**63, 2**63 - 1, 10**30, rng.randint(-10**9, 10**9)])
    if k == 2:
        return rng.choice([0.0, -0.0, 1.5, 1e16, 1e-5, 0.1, 123.456, 1e300, -2.5e-300, rng.uniform(-1e6, 1e6)])
    if k in (3, 4):
        return rstr()
    if k == 5:
        return [rvalue(depth + 1) for _ in range(rng.randint(0, 4))]
    return {rstr(6): rvalue(depth + 1) for _ in range(rng.randint(0, 5))}


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


failures = 0
values = [rvalue() for _ in range(4000)]
lines = "\n".join(json.dumps(v, ensure_ascii=rng.random() < 0.5) for v in values) + "\n"
p = subprocess.run([cscctl, "canonical", "--lines"], input=lines.encode(), capture_output=True)
got = p.stdout.decode("utf-8").split("\n")[:-1]
if p.returncode != 0 or len(got) != len(values):
    print("FAIL canonical --lines exit %d, %d lines for %d values: %s" % (p.returncode, len(got), len(values),
                                                                          p.stderr.decode()[:300]))
    failures += 1
else:
    for v, g in zip(values, got):
        if canon(v) != g:
            failures += 1
            if failures < 5:
                print("FAIL canonical of %r:\n  want %s\n  got  %s" % (v, canon(v), g))

# contract_sha256 of random valid contracts (strings with non-ASCII and controls).
tmp = tempfile.mkdtemp(prefix="csc-prop-")
import atexit, shutil as _shutil  # noqa: E401
atexit.register(_shutil.rmtree, tmp, True)
n_contracts = 300
for i in range(n_contracts):
    def s(lo=1):
        t = rstr(20).replace("\0", "")
        return t if len(t) >= lo else "x" * lo
    c = {"version": "csc.v0.1", "contract_id": "prop-%06d-%s" % (i, s()[:8]), "intent": s(), "justification": s(),
         "actor": {"agent_id": s(), "session_id": s(), "initiating_user": s(), "delegation_scope": s()},
         "commands": [{"id": "c%d" % j, "exec": {"argv": [s() for _ in range(rng.randint(1, 4))]},
                       "cwd": "/" + s(0).replace("/", ""), "read_paths": ["/" + s(0)], "write_paths": [],
                       "network": rng.choice(["deny", "allowlisted", "full"]), "env_allow": [s()],
                       "secret_refs": [], "timeout_sec": rng.randint(1, 86400),
                       "proposed_effect_type": rng.choice(["observe", "transform_local", "deploy"])}
                      for j in range(rng.randint(1, 3))],
         "risk_class": "low", "approval_mode": "policy_only"}
    if rng.random() < 0.5:
        c["expected_outputs"] = ["/" + s(0)]
    keys = list(c.keys())
    rng.shuffle(keys)
    c = {k: c[k] for k in keys}
    path = os.path.join(tmp, "c%d.json" % i)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(c, f, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
    want_obj = dict(c)
    want_obj.setdefault("expected_outputs", [])
    want = hashlib.sha256(canon(want_obj).encode("utf-8")).hexdigest()
    p = subprocess.run([cscctl, "hash", "contract", path], capture_output=True, text=True)
    if p.returncode != 0 or p.stdout.strip() != want:
        failures += 1
        if failures < 10:
            print("FAIL hash of %s: exit %d got %s want %s %s" % (path, p.returncode, p.stdout.strip(), want,
                                                                  p.stderr[:200]))
print("property (seed %d): %d values, %d contracts, %d failures" % (seed, len(values), n_contracts, failures))
print("property: %d passed, %d failed" % (len(values) + n_contracts - failures, failures))
sys.exit(1 if failures else 0)
