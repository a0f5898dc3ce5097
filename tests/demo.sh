#!/usr/bin/env bash
# demo.sh — the README's demo command: install what is missing, build, then
#  1. validate, hash and check every example contract in policy-packs/examples
#     against its pack's policy and print the decisions as a table;
#  2. start cscd on a temporary socket with the built-in default config and the
#     demo policy, submit an example contract as an unprivileged user, show the
#     streamed output, the signed receipt and its verification, stop cscd.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tests/deps.sh
build=${CSC_BUILD_DIR:-build}
[ -d "$build" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
cscctl="$build/client/cscctl"
cscd="$build/daemon/cscd"

echo "== 1. Example contracts against their packs' policies"
python3 - "$cscctl" <<'PY'
import json, subprocess, sys
cscctl = sys.argv[1]
index = json.load(open("policy-packs/examples/index.json"))
rows = [("contract", "pack", "decision", "reason code", "contract_sha256")]
for ex in index:
    contract = "policy-packs/examples/" + ex["contract"]
    policy = ("policy-packs/default-demo.yaml" if ex["pack"] == "default-demo"
              else "policy-packs/%s/policies/%s.yaml" % (ex["pack"], ex["pack"]))
    subprocess.run([cscctl, "validate", "contract", contract], check=True, capture_output=True)
    sha = subprocess.run([cscctl, "hash", "contract", contract], check=True, capture_output=True, text=True).stdout.strip()
    p = subprocess.run([cscctl, "check", contract, "--policy", policy, "--json"], capture_output=True, text=True)
    d = json.loads(p.stdout)
    rows.append((ex["contract"], ex["pack"], d["decision"], d["reason_codes"][0], sha[:16] + "…"))
widths = [max(len(r[i]) for r in rows) for i in range(5)]
for n, r in enumerate(rows):
    print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if n == 0:
        print("  ".join("-" * w for w in widths))
PY

echo
echo "== 2. cscd on a temporary socket, one contract submitted by an unprivileged user"
if [ ! -x "$cscd" ]; then
  echo "(skipped: cscd is not built in this tree yet)"; exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "(skipped: starting cscd needs root, which it drops per command)"; exit 0
fi
user=csc-demo
id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
tmp=$(mktemp -d /tmp/cscd-demo.XXXXXX)
chmod 0755 "$tmp"
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/keys" "$tmp/state"
mkdir -m 0755 "$tmp/out" && chown "$user" "$tmp/out"
"$cscctl" keygen --key-id demo --out-dir "$tmp/keys" >/dev/null
"$cscd" --socket "$tmp/csc.sock" --state-dir "$tmp/state" --policy policy-packs/default-demo.yaml \
        --signing-key "$tmp/keys/demo.key" --key-id demo 2>"$tmp/cscd.log" &
pid=$!
for _ in $(seq 50); do [ -S "$tmp/csc.sock" ] && break; sleep 0.1; done
cp policy-packs/examples/demo-hello.json "$tmp/contract.json"
chmod 0644 "$tmp/contract.json"
echo "\$ cscctl submit contract.json   (as user $user)"
runuser -u "$user" -- "$cscctl" --socket "$tmp/csc.sock" submit "$tmp/contract.json" --receipt-out "$tmp/out/receipt.json" || true
echo
echo "signed receipt:"
cat "$tmp/out/receipt.json"
"$cscctl" --socket "$tmp/csc.sock" pubkeys --out-dir "$tmp/keys-fetched" >/dev/null 2>&1 || { mkdir -p "$tmp/keys-fetched"; "$cscctl" --socket "$tmp/csc.sock" pubkeys --out-dir "$tmp/keys-fetched" >/dev/null; }
echo "\$ cscctl verify-receipt receipt.json --public-key demo.pub"
"$cscctl" verify-receipt "$tmp/out/receipt.json" --public-key "$tmp/keys-fetched/demo.pub"
kill -TERM "$pid"; wait "$pid" || true; pid=
echo "cscd stopped."
