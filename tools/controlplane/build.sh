#!/usr/bin/env bash
# Builds the local test control plane from Go modules (the Go module proxy is the only
# source reachable here; setup-envtest's prebuilt downloads are not):
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok.
# Binaries land in a cache folder keyed by the versions, outside the work tree, so a fresh
# clone on the same machine reuses them. Prints the bin folder on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
# shellcheck source=progress.sh
source "$here/progress.sh"

key="k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
cache_root=${MAPI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mapi-operator}
dest="$cache_root/controlplane/$key"
bin="$dest/bin"
want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

complete() { for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if complete; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "build.sh: Go 1.26 is required (apt-get install golang or https://go.dev)" >&2; exit 1; }
mkdir -p "$bin" "$dest/work"
missing=(); for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
echo "building the local control plane from Go modules: ${missing[*]} (a cold first build takes 10-40 minutes; later runs reuse $bin)" >&2
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
start=$(date +%s)

# --- etcd: its go.mod carries local replace lines, so build it from a wrapper module.
if [ ! -x "$bin/etcd" ]; then
  w="$dest/work/etcd"; rm -rf "$w"; mkdir -p "$w"
  cat > "$w/go.mod" <<MOD
module mapi-operator.io/controlplane/etcd

go 1.26

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
MOD
  cat > "$w/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
  (cd "$w" && go mod tidy >/dev/null 2>&1 || go mod tidy
   with_progress "etcd-${ETCD_VERSION}" 120 go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=release-${ETCD_VERSION}" \
     -o "$bin/etcd" go.etcd.io/etcd/server/v3)
fi

# --- Kubernetes: `go install` refuses k8s.io/kubernetes because of its ./staging replace
# lines, so a wrapper requires it and points every staging module at its published tag.
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
need_k8s=0; for b in "${k8s_bins[@]}"; do [ -x "$bin/$b" ] || need_k8s=1; done
if [ $need_k8s = 1 ]; then
  w="$dest/work/kubernetes"; rm -rf "$w"; mkdir -p "$w"
  modfile=$(go mod download -json "k8s.io/kubernetes@${KUBERNETES_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging=$(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$modfile")
  {
    echo "module mapi-operator.io/controlplane/kubernetes"; echo; echo "go 1.26"; echo
    echo "require k8s.io/kubernetes ${KUBERNETES_VERSION}"; echo; echo "replace ("
    for m in $staging; do echo "	$m => $m ${KUBERNETES_STAGING_VERSION}"; done
    echo ")"
  } > "$w/go.mod"
  {
    echo "//go:build tools"; echo; echo "package tools"; echo; echo "import ("
    for b in "${k8s_bins[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; done
    echo ")"
  } > "$w/tools.go"
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  vpkg=k8s.io/component-base/version
  cpkg=k8s.io/client-go/pkg/version
  ld="-s -w"
  for p in $vpkg $cpkg; do
    ld="$ld -X $p.gitVersion=${KUBERNETES_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor}"
    ld="$ld -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  (cd "$w" && go mod tidy
   for b in "${k8s_bins[@]}"; do
     [ -x "$bin/$b" ] && continue
     # kube-apiserver compiles most of the shared packages; the others reuse the build cache.
     estimate=60; [ "$b" = kube-apiserver ] && estimate=300
     with_progress "$b-${KUBERNETES_VERSION}" $estimate go build -trimpath -ldflags "$ld" -o "$bin/$b" "k8s.io/kubernetes/cmd/$b"
   done)
fi

# --- kwok installs with plain `go install`.
if [ ! -x "$bin/kwok" ]; then
  GOBIN="$bin" with_progress "kwok-${KWOK_VERSION}" 90 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
fi

complete || { echo "build.sh: some binaries are missing in $bin" >&2; exit 1; }
echo "control plane built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
