#!/usr/bin/env bash
# test_hardening.sh — the built programs carry the hardening meson.build asks
# for: full RELRO (PT_GNU_RELRO + BIND_NOW), a stack protector, and, in
# builds without a sanitizer, FORTIFY_SOURCE checks.
# usage: test_hardening.sh SANITIZE PROGRAM...
set -u
command -v readelf >/dev/null || { echo "SKIP: readelf (binutils) is not installed"; exit 77; }
sanitize=$1; shift
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok $1"; else fail=$((fail + 1)); echo "not ok $1"; fi; }
for prog in "$@"; do
  name=$(basename "$prog")
  check "$name: PT_GNU_RELRO" "readelf -lW '$prog' | grep -q GNU_RELRO"
  check "$name: BIND_NOW" "readelf -dW '$prog' | grep -Eq '\\(BIND_NOW\\)|\\(FLAGS\\).*NOW|\\(FLAGS_1\\).*NOW'"
  check "$name: stack protector" "readelf -sW '$prog' | grep -q __stack_chk_fail"
  if [ "$sanitize" = none ]; then
    check "$name: FORTIFY_SOURCE" "readelf -sW '$prog' | grep -Eq '__[a-z_]+_chk(@|$)'"
  fi
done
echo "hardening: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
