#!/usr/bin/env bash
# run-all.sh — the README's test command: install what is missing, build with
# ASan+UBSan, run every test suite, and end with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash tests/deps.sh || exit 1
: "${CSC_CONFORMANCE_DIR:=$(cd "$top/.." && pwd)/shared/conformance}"
export CSC_CONFORMANCE_DIR
build=${CSC_BUILD_DIR:-build-test}
if [ ! -d "$build" ]; then
  meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" | tee "$build/test-summary.txt"
rc=${PIPESTATUS[0]}
ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
xfail=$(sed -n 's/^Expected Fail: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
upass=$(sed -n 's/^Unexpected Pass: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
tout=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$build/test-summary.txt" | tail -1)
passed=$(( ${ok:-0} + ${xfail:-0} ))
failed=$(( ${fail:-0} + ${upass:-0} + ${tout:-0} ))
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
# Each suite prints "<name>: N passed, N failed" for its own checks.
inner=$(grep -hoE '^[a-z+ ]+: [0-9]+ passed, [0-9]+ failed' "$build/meson-logs/testlog.txt" 2>/dev/null |
        awk -F'[:,]' '{split($2,a," "); split($3,b," "); p+=a[1]; f+=b[1]} END {printf "%d passed, %d failed", p, f}')
[ -n "$inner" ] && echo "(checks inside the suites: $inner)"
echo "(${skip:-0} skipped: see the SKIP lines above for why)"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
