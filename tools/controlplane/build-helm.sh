#!/usr/bin/env bash
# Builds helm v3 from its Go module (the Go module proxy is the only source reachable here;
# get.helm.sh is not), for the chart tests (test/integration/chart/). The binary lands in a
# cache folder keyed by the version, next to the control plane's:
#   ${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/mapi-operator}/helm/<version>/bin/helm
# and is reused when present. Prints the binary's path on its last line.
#
#   HELM_VERSION=v3.19.5 bash tools/controlplane/build-helm.sh
set -euo pipefail

version=${HELM_VERSION:-v3.19.5}
cache_root=${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}
dest="$cache_root/helm/$version"
bin="$dest/bin"
helm="$bin/helm"

if [ -x "$helm" ]; then echo "$helm"; exit 0; fi

# shellcheck source=progress.sh
source "$(cd "$(dirname "$0")" && pwd)/progress.sh"
command -v go >/dev/null || { echo "build-helm.sh: Go is required (apt-get install golang or https://go.dev)" >&2; exit 1; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
start=$(date +%s)

# Like helm's Makefile: the default Kubernetes version that `helm template` and `helm lint`
# assume is derived from the k8s.io/client-go the release builds with (client-go v0.34.x →
# Kubernetes 1.34). Without it helm assumes v1.20.0 and refuses charts whose kubeVersion
# asks for anything newer (ours: >=1.30.0-0).
modfile=$(go mod download -json "helm.sh/helm/v3@${version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -n "$modfile" ] && [ -f "$modfile" ] || { echo "build-helm.sh: cannot download helm.sh/helm/v3@${version}" >&2; exit 1; }
client_go=$(sed -n 's#^\s*k8s.io/client-go \(v[0-9.]*\).*#\1#p' "$modfile" | head -n1)
[ -n "$client_go" ] || { echo "build-helm.sh: no k8s.io/client-go in $modfile" >&2; exit 1; }
k8s_major=$(( $(echo "${client_go#v}" | cut -d. -f1) + 1 ))
k8s_minor=$(echo "${client_go#v}" | cut -d. -f2)

ld="-s -w -X helm.sh/helm/v3/internal/version.version=${version}"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ld="$ld -X $p.k8sVersionMajor=${k8s_major} -X $p.k8sVersionMinor=${k8s_minor}"
done

# Build into a scratch folder and move into place, so an interrupted build never leaves a
# half-written binary that the check above would take for a finished one.
mkdir -p "$bin"
tmp=$(mktemp -d "$dest/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" with_progress "helm-${version}" 600 go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@${version}"
mv -f "$tmp/helm" "$helm"

"$helm" version --short >&2
echo "helm ${version} (default Kubernetes ${k8s_major}.${k8s_minor}) built in $(( $(date +%s) - start ))s" >&2
echo "$helm"
