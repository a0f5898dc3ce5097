#!/usr/bin/env bash
# Runs every normative CSC v0.1 fixture through the built cscctl with the
# shared runner. Skips (77) with a clear message when the fixtures are absent.
cscctl=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=${CSC_CONFORMANCE_DIR:-$here/../../../shared/conformance}
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "SKIP: conformance fixtures not found (set CSC_CONFORMANCE_DIR; looked at '${dir}')"
  exit 77
fi
runner="$dir/../tools/conformance.py"
if [ ! -f "$runner" ]; then
  echo "SKIP: conformance runner $runner not found"
  exit 77
fi
# The shared runner writes its temporary files under $TMPDIR: give it one to drop.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TMPDIR=$work python3 "$runner" "$cscctl" "$dir"
