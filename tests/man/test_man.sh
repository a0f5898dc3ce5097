#!/usr/bin/env bash
# Every man page in docs/ renders with groff -ww and no warnings, and has
# NAME, SYNOPSIS or DESCRIPTION, and SEE ALSO sections.
set -u
dir=$1
fail=0 n=0
for page in "$dir"/*.[0-9]; do
  n=$((n + 1))
  err=$(groff -man -Tutf8 -ww "$page" 2>&1 >/dev/null)
  if [ -n "$err" ]; then echo "not ok - $page: $err"; fail=1; continue; fi
  for sec in NAME DESCRIPTION "SEE ALSO"; do
    grep -q "^\.SH \"\?$sec" "$page" || { echo "not ok - $page: no $sec section"; fail=1; }
  done
  echo "ok - $page"
done
[ "$n" -gt 0 ] || { echo "not ok - no man pages in $dir"; exit 1; }
exit $fail
