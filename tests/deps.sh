#!/usr/bin/env bash
# deps.sh — install the Debian 12 packages cscd needs to build and test,
# only when something is missing (so repeated runs cost nothing).
set -euo pipefail
pkgs=(
  meson ninja-build gcc pkg-config
  libfyaml-dev libsodium-dev libsystemd-dev libseccomp-dev libcap-dev libsqlite3-dev
  python3 python3-jsonschema python3-yaml python3-pip python3-setuptools
  passwd util-linux iproute2 procps groff-base systemd clang libclang-rt-14-dev valgrind
  logrotate systemd-container curl openssl git
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
