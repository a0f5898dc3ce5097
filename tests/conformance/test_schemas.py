#!/usr/bin/python3
"""The C validators and the schema files in schemas/ must agree.

Every conformance fixture (when ../shared/conformance is present) and every
case below is validated twice: by `cscctl validate KIND FILE` (the C code) and
by python3-jsonschema against schemas/KIND.schema.json (Draft 2020-12). They
must give the same verdict, and that verdict must be the expected one. The
only allowed disagreements are the STRICTER rules JSON Schema cannot say; each
is listed by case id in EXPECTED_DIFFERENCES with the reason, and the test
fails if such a case stops disagreeing (so the list cannot go stale).

usage: test_schemas.py CSCCTL SCHEMA_DIR [FIXTURE_DIR]"""
import copy, json, os, subprocess, sys, tempfile

import jsonschema

cscctl, schema_dir = sys.argv[1], sys.argv[2]
fixtures = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("CSC_CONFORMANCE_DIR", "")
tmp = tempfile.mkdtemp(prefix="csc-schemas-")
import atexit, shutil as _shutil  # noqa: E401
atexit.register(_shutil.rmtree, tmp, True)
KINDS = ("contract", "policy", "receipt", "approval", "decision")
validators = {}
for k in KINDS:
    with open(os.path.join(schema_dir, f"{k}.schema.json"), encoding="utf-8") as f:
        s = json.load(f)
    jsonschema.Draft202012Validator.check_schema(s)
    validators[k] = jsonschema.Draft202012Validator(s)

EXPECTED_DIFFERENCES = {
    "contract-timeout-float": "10.0 is a number, not an integer literal (spec §8 exact types)",
    "contract-timeout-exp": "1e1 is a number, not an integer literal (spec §8 exact types)",
    "contract-duplicate-command-id": "command ids are unique within a contract (spec §8)",
    "contract-duplicate-json-key": "duplicate JSON keys are an error, not last-one-wins (spec §8)",
    "contract-argv-bytes-over": "argv element limit is 128 KiB of UTF-8 bytes; maxLength counts code points",
    "policy-max-timeout-float": "600.0 is a number, not an integer literal (spec §8 exact types)",
    "receipt-exit-code-float": "0.0 is a number, not an integer literal (spec §8 exact types)",
    "receipt-bad-calendar": "2026-02-30 is not a date; the schema pattern checks only the shape",
    "approval-bad-hour": "hour 24 is not a time; the schema pattern checks only the shape",
}

SHA = "a" * 64
contract = {
    "version": "csc.v0.1", "contract_id": "schema-case-0001", "intent": "list files",
    "actor": {"agent_id": "a", "session_id": "s", "initiating_user": "u", "delegation_scope": "d"},
    "commands": [{"id": "c1", "exec": {"argv": ["ls", "-l"]}, "cwd": "/work", "read_paths": ["/work"],
                  "write_paths": [], "network": "deny", "env_allow": [], "secret_refs": [], "timeout_sec": 10,
                  "proposed_effect_type": "observe"}],
    "risk_class": "low", "approval_mode": "policy_only", "justification": "because"}
policy = {
    "policy_schema_version": "csc.policy.v0.1", "name": "p", "allow_commands": ["ls"],
    "allowed_effect_types": ["observe"], "allowed_risk_classes": ["low"], "max_timeout_sec": 600,
    "network": "deny", "allow_secret_refs": False, "allowed_cwd_prefixes": ["/work"],
    "allowed_read_prefixes": ["/work"]}
receipt = {
    "receipt_version": "csc.receipt.v0.1", "contract_id": "schema-case-0001", "execution_id": "e1",
    "contract_sha256": SHA, "status": "success", "started_at": "2026-01-02T03:04:05Z",
    "ended_at": "2026-01-02T03:04:06Z", "policy_profile": "p", "exit_code": 0,
    "stdout_hash": "sha256:" + SHA, "stderr_hash": "sha256:" + SHA}
approval = {
    "approval_version": "csc.approval.v0.1", "approval_id": "ap-1", "contract_sha256": SHA,
    "approver": {"identity": "alice", "method": "cli"}, "approved_at": "2026-01-02T03:04:05Z",
    "expires_at": "2026-01-02T04:04:05Z", "scope": "single_execution"}
decision = {
    "contract_id": "schema-case-0001", "decision": "allow", "policy_profile": "p", "reasons": ["ok"],
    "reason_codes": ["ALLOW"], "expires_at": "2026-01-02T03:04:05Z", "contract_sha256": SHA,
    "classified_effects": [{"command_id": "c1", "effect_type": "observe"}]}
bases = {"contract": contract, "policy": policy, "receipt": receipt, "approval": approval, "decision": decision}

def mut(kind, fn):
    v = copy.deepcopy(bases[kind])
    fn(v)
    return v

def setp(path, value):
    def f(v):
        o = v
        for p in path[:-1]:
            o = o[p]
        if value is DELETE:
            del o[path[-1]]
        else:
            o[path[-1]] = value
    return f
DELETE = object()
cmd = ("commands", 0)

cases = [  # (id, kind, value or raw text, expected C verdict)
    ("contract-base", "contract", contract, True),
    ("contract-pipeline", "contract", mut("contract", setp(cmd + ("exec",), DELETE)) | {}, False),
    ("contract-pipeline-ok", "contract", mut("contract", lambda v: (v["commands"][0].pop("exec"), v["commands"][0].update(pipeline={"segments": [{"argv": ["ls"]}, {"argv": ["wc", "-l"]}]}))), True),
    ("contract-pipeline-one-segment", "contract", mut("contract", lambda v: (v["commands"][0].pop("exec"), v["commands"][0].update(pipeline={"segments": [{"argv": ["ls"]}]}))), False),
    ("contract-pipeline-11-segments", "contract", mut("contract", lambda v: (v["commands"][0].pop("exec"), v["commands"][0].update(pipeline={"segments": [{"argv": ["ls"]}] * 11}))), False),
    ("contract-pipeline-10-segments", "contract", mut("contract", lambda v: (v["commands"][0].pop("exec"), v["commands"][0].update(pipeline={"segments": [{"argv": ["ls"]}] * 10}))), True),
    ("contract-timeout-float", "contract", mut("contract", setp(cmd + ("timeout_sec",), 10.0)), False),
    ("contract-timeout-exp", "contract", None, False),
    ("contract-timeout-string", "contract", mut("contract", setp(cmd + ("timeout_sec",), "10")), False),
    ("contract-timeout-bool", "contract", mut("contract", setp(cmd + ("timeout_sec",), True)), False),
    ("contract-timeout-0", "contract", mut("contract", setp(cmd + ("timeout_sec",), 0)), False),
    ("contract-timeout-86400", "contract", mut("contract", setp(cmd + ("timeout_sec",), 86400)), True),
    ("contract-timeout-86401", "contract", mut("contract", setp(cmd + ("timeout_sec",), 86401)), False),
    ("contract-duplicate-command-id", "contract", mut("contract", lambda v: v["commands"].append(copy.deepcopy(v["commands"][0]))), False),
    ("contract-two-commands", "contract", mut("contract", lambda v: v["commands"].append(dict(copy.deepcopy(v["commands"][0]), id="c2"))), True),
    ("contract-duplicate-json-key", "contract", None, False),
    ("contract-argv-nul", "contract", mut("contract", setp(cmd + ("exec", "argv", 1), "a\u0000b")), False),
    ("contract-argv-empty-string", "contract", mut("contract", setp(cmd + ("exec", "argv", 1), "")), False),
    ("contract-argv-empty", "contract", mut("contract", setp(cmd + ("exec", "argv"), [])), False),
    ("contract-argv-200", "contract", mut("contract", setp(cmd + ("exec", "argv"), ["x"] * 200)), True),
    ("contract-argv-201", "contract", mut("contract", setp(cmd + ("exec", "argv"), ["x"] * 201)), False),
    ("contract-argv-bytes-at-limit", "contract", mut("contract", setp(cmd + ("exec", "argv", 1), "x" * 131072)), True),
    ("contract-argv-bytes-over", "contract", mut("contract", setp(cmd + ("exec", "argv", 1), "\u00e9" * 65537)), False),
    ("contract-argv-chars-over", "contract", mut("contract", setp(cmd + ("exec", "argv", 1), "x" * 131073)), False),
    ("contract-justification-4000", "contract", mut("contract", setp(("justification",), "\U0001F600" * 4000)), True),
    ("contract-justification-4001", "contract", mut("contract", setp(("justification",), "j" * 4001)), False),
    ("contract-id-7", "contract", mut("contract", setp(("contract_id",), "abcdefg")), False),
    ("contract-id-128", "contract", mut("contract", setp(("contract_id",), "c" * 128)), True),
    ("contract-id-129", "contract", mut("contract", setp(("contract_id",), "c" * 129)), False),
    ("contract-windows-cwd", "contract", mut("contract", setp(cmd + ("cwd",), "C:\\work")), True),
    ("contract-unc-cwd", "contract", mut("contract", setp(cmd + ("cwd",), "\\\\host\\share")), True),
    ("contract-relative-read", "contract", mut("contract", setp(cmd + ("read_paths",), ["work"])), False),
    ("contract-dotdot-read", "contract", mut("contract", setp(cmd + ("read_paths",), ["/work/../etc"])), True),
    ("contract-empty-env-name", "contract", mut("contract", setp(cmd + ("env_allow",), [""])), False),
    ("contract-expected-outputs", "contract", mut("contract", setp(("expected_outputs",), ["/work/out"])), True),
    ("contract-secret-refs-16", "contract", mut("contract", setp(cmd + ("secret_refs",), ["s%d" % i for i in range(16)])), True),
    ("contract-secret-refs-17", "contract", mut("contract", setp(cmd + ("secret_refs",), ["s%d" % i for i in range(17)])), False),
    ("contract-unknown-command-key", "contract", mut("contract", setp(cmd + ("shell",), "ls")), False),
    ("contract-actor-extra", "contract", mut("contract", setp(("actor", "x"), "y")), False),
    ("contract-not-object", "contract", [contract], False),
    ("policy-base", "policy", policy, True),
    ("policy-max-timeout-float", "policy", mut("policy", setp(("max_timeout_sec",), 600.0)), False),
    ("policy-duplicate-command", "policy", mut("policy", setp(("allow_commands",), ["ls", "ls"])), False),
    ("policy-deny-prefix-empty", "policy", mut("policy", setp(("deny_argv_prefixes",), [[]])), False),
    ("policy-deny-prefix", "policy", mut("policy", setp(("deny_argv_prefixes",), [["ls", "-R"]])), True),
    ("policy-extension-effect", "policy", mut("policy", setp(("manual_approval_for_classified_effect_types",), ["financial_action"])), True),
    ("policy-allow-secret-string", "policy", mut("policy", setp(("allow_secret_refs",), "false")), False),
    ("policy-write-prefix-relative", "policy", mut("policy", setp(("allowed_write_prefixes",), ["out"])), False),
    ("policy-empty-read-prefixes", "policy", mut("policy", setp(("allowed_read_prefixes",), [])), False),
    ("receipt-base", "receipt", receipt, True),
    ("receipt-blocked-minimal", "receipt", mut("receipt", lambda v: [v.pop(k) for k in ("exit_code", "stdout_hash", "stderr_hash")] and v.update(status="blocked")), True),
    ("receipt-success-no-hash", "receipt", mut("receipt", setp(("stdout_hash",), DELETE)), False),
    ("receipt-failed-no-exit", "receipt", mut("receipt", lambda v: (v.pop("exit_code"), v.update(status="failed"))), False),
    ("receipt-exit-code-float", "receipt", mut("receipt", setp(("exit_code",), 0.0)), False),
    ("receipt-exit-code-negative", "receipt", mut("receipt", setp(("exit_code",), -9)), True),
    ("receipt-uppercase-hex", "receipt", mut("receipt", setp(("contract_sha256",), "A" * 64)), True),
    ("receipt-bad-calendar", "receipt", mut("receipt", setp(("started_at",), "2026-02-30T00:00:00Z")), False),
    ("receipt-offset-time", "receipt", mut("receipt", setp(("started_at",), "2026-01-02T03:04:05.123+02:00")), True),
    ("receipt-no-zone", "receipt", mut("receipt", setp(("started_at",), "2026-01-02T03:04:05")), False),
    ("receipt-error-4000", "receipt", mut("receipt", setp(("error",), "e" * 4000)), True),
    ("receipt-error-4001", "receipt", mut("receipt", setp(("error",), "e" * 4001)), False),
    ("receipt-duplicate-completed", "receipt", mut("receipt", setp(("completed_command_ids",), ["c1", "c1"])), False),
    ("receipt-failed-id-null", "receipt", mut("receipt", setp(("failed_command_id",), None)), True),
    ("receipt-signed", "receipt", mut("receipt", setp(("signature",), {"algorithm": "ed25519", "key_id": "k", "signed_at": "2026-01-02T03:04:06Z", "signature": "AAAA"})), True),
    ("receipt-signature-rsa", "receipt", mut("receipt", setp(("signature",), {"algorithm": "rsa", "key_id": "k", "signed_at": "2026-01-02T03:04:06Z", "signature": "AAAA"})), False),
    ("receipt-signature-extra", "receipt", mut("receipt", setp(("signature",), {"algorithm": "ed25519", "key_id": "k", "signed_at": "2026-01-02T03:04:06Z", "signature": "AAAA", "x": 1})), False),
    ("receipt-effect-summary-negative", "receipt", mut("receipt", setp(("effect_summary",), {"files_written": -1, "network_used": False, "secrets_used": 0})), False),
    ("receipt-artifact", "receipt", mut("receipt", setp(("artifacts",), [{"path": "/work/out", "sha256": SHA}])), True),
    ("approval-base", "approval", approval, True),
    ("approval-time-window", "approval", mut("approval", setp(("scope",), "time_window")), True),
    ("approval-bad-scope", "approval", mut("approval", setp(("scope",), "forever")), False),
    ("approval-bad-method", "approval", mut("approval", setp(("approver", "method"), "email")), False),
    ("approval-short-hash", "approval", mut("approval", setp(("contract_sha256",), "abc")), False),
    ("approval-bad-hour", "approval", mut("approval", setp(("approved_at",), "2026-01-02T24:00:00Z")), False),
    ("approval-reason-4001", "approval", mut("approval", setp(("reason",), "r" * 4001)), False),
    ("approval-unknown-key", "approval", mut("approval", setp(("reusable",), True)), False),
    ("decision-base", "decision", decision, True),
    ("decision-no-optional", "decision", mut("decision", lambda v: (v.pop("contract_sha256"), v.pop("classified_effects"))), True),
    ("decision-bad-verdict", "decision", mut("decision", setp(("decision",), "maybe")), False),
    ("decision-empty-reasons", "decision", mut("decision", setp(("reasons",), [])), False),
    ("decision-duplicate-codes", "decision", mut("decision", setp(("reason_codes",), ["ALLOW", "ALLOW"])), False),
    ("decision-extra", "decision", mut("decision", setp(("policy_sha256",), SHA)), False),
]
RAW = {  # cases whose JSON text cannot come from a Python dict
    "contract-timeout-exp": json.dumps(contract).replace('"timeout_sec": 10', '"timeout_sec": 1e1'),
    "contract-duplicate-json-key": json.dumps(contract).replace('"risk_class": "low"', '"risk_class": "critical", "risk_class": "low"'),
}

def c_verdict(kind, text, name):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    p = subprocess.run([cscctl, "validate", kind, path], capture_output=True, text=True, timeout=30)
    if p.returncode not in (0, 65):
        raise SystemExit(f"cscctl validate {kind} {path}: exit {p.returncode}: {p.stderr}")
    return p.returncode == 0, (p.stdout + p.stderr).strip()

all_cases = []
for cid, kind, value, want in cases:
    text = RAW.get(cid) or json.dumps(value, ensure_ascii=False)
    all_cases.append((cid, kind, text, want))
if fixtures and os.path.isdir(fixtures):
    for kind, files in (("contract", ["contracts/valid.json", "contracts/invalid.json"]),
                        ("receipt", ["receipts/valid.json", "receipts/invalid.json"]),
                        ("policy", ["policies/schema.json"])):
        for fn in files:
            for fx in json.load(open(os.path.join(fixtures, fn), encoding="utf-8")):
                all_cases.append((fx["id"], kind, json.dumps(fx["input"], ensure_ascii=False), fx["valid"]))
else:
    print(f"# conformance fixtures not found at {fixtures!r}: checking the built-in cases only")

passed = failed = 0
seen_diffs = set()
for cid, kind, text, want in all_cases:
    c_ok, c_out = c_verdict(kind, text, cid)
    s_ok = validators[kind].is_valid(json.loads(text))
    if cid in EXPECTED_DIFFERENCES:
        seen_diffs.add(cid)
        ok = c_ok == want and s_ok != c_ok
        why = f"expected difference ({EXPECTED_DIFFERENCES[cid]}): C {c_ok}, schema {s_ok}, want C {want}"
    else:
        ok = c_ok == want and s_ok == want
        why = f"C {c_ok}, schema {s_ok}, want {want}; C said: {c_out[:200]}"
    if ok:
        passed += 1
        print(f"ok - {cid}")
    else:
        failed += 1
        print(f"not ok - {cid}: {why}")
missing = set(EXPECTED_DIFFERENCES) - seen_diffs
for m in sorted(missing):
    failed += 1
    print(f"not ok - expected difference {m} has no case")
print(f"schemas: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
