#!/usr/bin/env bash
# sdk-setup.sh — installs the official MCP TypeScript SDK, pinned, into a
# cache directory (default: BUILD_DIR/mcp-node), once. Node and npm come from
# the machine; on a fresh Debian 12 they are installed from Debian's packages
# (nodejs 18 + npm; the SDK needs node >= 18). Prints the cache directory.
# Exit 77 (skip, with the reason) when node or npm cannot be had.
#   usage: sdk-setup.sh CACHE_DIR
set -euo pipefail
cache=${1:?usage: sdk-setup.sh CACHE_DIR}
version=1.32.2
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    # nodesource's nodejs bundles npm; Debian's needs the npm package too.
    want=(nodejs)
    command -v npm >/dev/null || want+=(npm)
    echo "sdk-setup: installing ${want[*]} from the distribution" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null; }
  fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are not installed (apt-get install nodejs npm) and cannot be installed here" >&2
  exit 77
fi
major=$(node -e 'process.stdout.write(process.versions.node.split(".")[0])')
if [ "$major" -lt 18 ]; then
  echo "SKIP: node $major is older than the SDK needs (>= 18)" >&2
  exit 77
fi
pkg="$cache/node_modules/@modelcontextprotocol/sdk/package.json"
if [ ! -f "$pkg" ] || ! grep -q "\"version\": \"$version\"" "$pkg"; then
  mkdir -p "$cache"
  [ -f "$cache/package.json" ] || echo '{"name":"csc-mcp-test","private":true}' >"$cache/package.json"
  (cd "$cache" && npm install --no-audit --no-fund --no-save --silent "@modelcontextprotocol/sdk@$version" >&2) ||
    { echo "sdk-setup: npm install @modelcontextprotocol/sdk@$version failed" >&2; exit 1; }
fi
echo "$cache"
