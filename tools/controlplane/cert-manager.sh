#!/usr/bin/env bash
# cert-manager for the test control plane, from its Go module (the Go module proxy is the
# only source reachable here). Nothing of cert-manager is committed to this repository.
#   cert-manager.sh             copies the CRDs (plain controller-gen YAML in deploy/crds/)
#                               into the cache; prints the cache folder on its last line
#   cert-manager.sh controller  also builds cert-manager's controller (see below)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=progress.sh
source "$here/progress.sh"

cache_root=${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}
dest="$cache_root/cert-manager/$CERT_MANAGER_VERSION"
command -v go >/dev/null || { echo "cert-manager.sh: Go is required" >&2; exit 1; }

if ! ls "$dest/crds/"*.yaml >/dev/null 2>&1; then
  moddir=$(go mod download -json "github.com/cert-manager/cert-manager@${CERT_MANAGER_VERSION}" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$moddir/deploy/crds" ] || { echo "cert-manager.sh: no deploy/crds in $moddir" >&2; exit 1; }
  # deploy/crds holds controller-gen output (no Helm templating); refuse anything templated.
  if grep -l '{{' "$moddir"/deploy/crds/*.yaml >&2; then
    echo "cert-manager.sh: the CRDs above contain Helm templating; strip it before use" >&2; exit 1
  fi
  mkdir -p "$dest/crds.tmp"
  cp "$moddir"/deploy/crds/*.yaml "$dest/crds.tmp/"
  chmod u+w "$dest/crds.tmp/"*.yaml
  rm -rf "$dest/crds"; mv "$dest/crds.tmp" "$dest/crds"
  echo "cert-manager $CERT_MANAGER_VERSION CRDs copied to $dest/crds" >&2
fi

# --- The controller: cert-manager's cmd/controller is a nested module the proxy does not
# serve, so cert-manager-controller/main.go wires the controllers from the main module
# (pkg/controller/...). The wrapper pins the Kubernetes libraries to the control plane's
# staging version, so the Go build cache of build.sh is reused.
if [ "${1:-}" = controller ] && [ ! -x "$dest/bin/cert-manager-controller" ]; then
  # Two test runs starting at once must not build into the same work folder.
  mkdir -p "$dest"; exec 9>"$dest/.build.lock"; flock 9
fi
if [ "${1:-}" = controller ] && [ ! -x "$dest/bin/cert-manager-controller" ]; then
  start=$(date +%s)
  w="$dest/work"; rm -rf "$w"; mkdir -p "$w" "$dest/bin"
  cp "$here/cert-manager-controller/main.go" "$w/main.go"
  {
    echo "module mapi-operator.io/controlplane/cert-manager-controller"; echo; echo "go 1.26"; echo
    echo "require ("
    echo "	github.com/cert-manager/cert-manager ${CERT_MANAGER_VERSION}"
    for m in api apimachinery client-go apiextensions-apiserver component-base apiserver kube-aggregator; do
      echo "	k8s.io/$m ${KUBERNETES_STAGING_VERSION}"
    done
    echo ")"
  } > "$w/go.mod"
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  (cd "$w" && go mod tidy && with_progress "cert-manager-controller-${CERT_MANAGER_VERSION}" 240 go build -trimpath -ldflags "-s -w" -o "$dest/bin/cert-manager-controller" .)
  echo "built cert-manager-controller $CERT_MANAGER_VERSION in $(( $(date +%s) - start ))s" >&2
fi
echo "$dest"
