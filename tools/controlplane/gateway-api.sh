#!/usr/bin/env bash
# Gateway API CRDs (standard channel) for the test control plane, from the Go module
# sigs.k8s.io/gateway-api (the Go module proxy is the only source reachable here). Nothing of
# Gateway API is committed to this repository. Copies config/crd/standard/*.yaml into the
# cache and prints the cache folder on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache_root=${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}
dest="$cache_root/gateway-api/$GATEWAY_API_VERSION"
command -v go >/dev/null || { echo "gateway-api.sh: Go is required" >&2; exit 1; }

if ! ls "$dest/crds/"*.yaml >/dev/null 2>&1; then
  moddir=$(go mod download -json "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  src="$moddir/config/crd/standard"
  [ -d "$src" ] || { echo "gateway-api.sh: no config/crd/standard in $moddir" >&2; exit 1; }
  mkdir -p "$dest/crds.tmp"
  # Only the CRDs: the folder may also hold a kustomization.
  for f in "$src"/*.yaml; do
    grep -q '^kind: CustomResourceDefinition' "$f" && cp "$f" "$dest/crds.tmp/"
  done
  chmod u+w "$dest/crds.tmp/"*.yaml
  rm -rf "$dest/crds"; mv "$dest/crds.tmp" "$dest/crds"
  echo "Gateway API $GATEWAY_API_VERSION standard CRDs copied to $dest/crds" >&2
fi
echo "$dest"
