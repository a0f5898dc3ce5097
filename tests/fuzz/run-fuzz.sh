#!/usr/bin/env bash
# run-fuzz.sh — build the libFuzzer harnesses with clang (ASan+UBSan) and run
# each for SECONDS (default 60), starting from tests/fuzz/corpus/NAME and
# keeping what it finds in OUT/corpus/NAME. Crashes are written to OUT/crashes
# and fail the run.   usage: run-fuzz.sh [SECONDS] [OUT_DIR] [HARNESS...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-60}
out=${2:-$top/build-fuzz}
shift 2 2>/dev/null || shift $#
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(frame contract policy approval receipt config redact jsonrpc egress egress_proto mon_proto)
cc=${CLANG:-clang}
if ! command -v "$cc" >/dev/null; then
  echo "SKIP: clang not found (install clang and libclang-rt-14-dev)"; exit 77
fi
mkdir -p "$out/crashes"
flags=(-g -O1 -std=c17 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$top/common" $(pkg-config --cflags libsodium libfyaml))
libs=($(pkg-config --libs libsodium libfyaml))
srcs=()
for f in "$top"/common/*.c; do srcs+=("$f"); done
total_runs=0 failed=0
for n in "${names[@]}"; do
  bin="$out/fuzz_$n"
  extra=()   # daemon modules with a harness of their own
  case $n in
    config) extra=(-I"$top/daemon" "$top/daemon/config.c" "$top/daemon/env_names.c" "$top/daemon/egress/egress_match.c" "$top/daemon/protected_paths.c") ;;
    redact) extra=(-I"$top/daemon" "$top/daemon/redact.c") ;;
    mon_proto) extra=(-I"$top/daemon" "$top/daemon/mon_proto.c") ;;
    jsonrpc) extra=(-I"$top/client" "$top/client/mcp_rpc.c" "$top/client/mcp_args.c" "$top/client/mcp_result.c") ;;
    egress|egress_proto) extra=(-I"$top/daemon/egress" "$top/daemon/egress/egress_parse.c"
                                "$top/daemon/egress/egress_match.c" "$top/daemon/egress/egress_proto.c") ;;
  esac
  if ! "$cc" "${flags[@]}" "$here/fuzz_$n.c" "${extra[@]}" "${srcs[@]}" "${libs[@]}" -o "$bin" 2>"$out/build-$n.log"; then
    echo "not ok - fuzz_$n does not build:"; cat "$out/build-$n.log"; failed=1; continue
  fi
  mkdir -p "$out/corpus/$n"
  log="$out/fuzz-$n.log"
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions="$here/lsan.supp" "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/crashes/$n-" "$out/corpus/$n" "$here/corpus/$n" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1)
  total_runs=$((total_runs + ${runs:-0}))
  if [ $rc -ne 0 ]; then
    echo "not ok - fuzz_$n found a problem (rc $rc):"; grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head; failed=1
  else
    echo "ok - fuzz_$n: ${runs:-?} runs in ${secs}s"
  fi
done
echo "fuzz: ${#names[@]} harnesses, $total_runs executions, ${secs}s each"
exit $failed
