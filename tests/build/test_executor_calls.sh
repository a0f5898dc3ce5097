#!/usr/bin/env bash
# test_executor_calls.sh — the code that runs in the cloned executor (after
# the fork, before exec) calls no allocator, no stdio, no getenv/setenv, no
# qsort, no libcap, no directory stream: only system calls and
# async-signal-safe functions (daemon/sandbox_plan.h). Each of its object
# files is read from the daemon's core library and every undefined symbol is
# checked against a list of what must not be there.
# usage: test_executor_calls.sh LIBCSCD_CORE_A
set -u
command -v nm >/dev/null || { echo "SKIP: nm (binutils) is not installed"; exit 77; }
lib=$1
# The executor's own modules: all of each runs only in the executor and its
# children (sandbox_seccomp.c and sandbox_egress.c also hold monitor code and
# are not listed; their executor parts are one prctl and a few socket calls).
objects="sandbox_run.c.o sandbox_apply.c.o sandbox_resolve.c.o sandbox_mount.c.o sandbox_report.c.o
sandbox_text.c.o sandbox_landlock.c.o safe_open.c.o sandbox_plan_relocate.c.o"
forbidden='^(malloc|calloc|realloc|reallocarray|free|strdup|strndup|asprintf|vasprintf|printf|fprintf|sprintf|snprintf|vprintf|vfprintf|vsprintf|vsnprintf|__[a-z]*printf_chk|puts|fputs|fopen|fdopen|fclose|strerror|strerror_r|getenv|secure_getenv|setenv|unsetenv|clearenv|putenv|qsort|opendir|fdopendir|readdir|closedir|execvp|execlp|syslog|cap_.*|sd_.*|strtok)$'
pass=0 fail=0
# nm on the archive (thin or not) prints "member.o:" before each member's symbols.
listing=$(nm -u "$lib") || { echo "not ok: nm cannot read $lib"; exit 1; }
for o in $objects; do
  syms=$(printf '%s\n' "$listing" | awk -v m="$o:" '$0 ~ /:$/ { on = ($0 == m || $0 ~ ("/" m "$")) ; next } on && NF { print $NF }')
  if ! printf '%s\n' "$listing" | grep -Eq "(^|/)$o:\$"; then
    echo "not ok $o: not in $lib"; fail=$((fail + 1)); continue
  fi
  bad=$(printf '%s\n' "$syms" | sed 's/@.*//' | grep -E "$forbidden" | sort -u | tr '\n' ' ')
  if [ -z "$bad" ]; then
    echo "ok $o: only async-signal-safe calls"; pass=$((pass + 1))
  else
    echo "not ok $o: calls $bad"; fail=$((fail + 1))
  fi
done
echo "executor calls: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
