#!/usr/bin/env bash
# Debian packages the check tests need, installed only when missing (idempotent, quiet):
#   bind9   - `named`, the real DNS server of src/dev/dns-server.ts
#   openssl - the test CA of src/dev/pki.ts
#   lua5.4  - runs the Argo CD health check (deploy/argocd/health) in test/unit/gitops
#   libjemalloc2 - the allocator the image preloads; the benchmarks, the soak and the chaos
#             tests start the operator with it as the image does
#   libjemalloc-dev, binutils - jeprof and the tools it symbolises with: the scale benchmark's
#             --native-prof and its test read jemalloc's heap profiles
set -euo pipefail
need=()
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need+=(bind9)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v lua5.4 >/dev/null 2>&1 || need+=(lua5.4)
dpkg -s libjemalloc2 >/dev/null 2>&1 || need+=(libjemalloc2)
command -v jeprof >/dev/null 2>&1 || need+=(libjemalloc-dev)
command -v addr2line >/dev/null 2>&1 || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The packaged service is not wanted: the tests start their own named on a free port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet named 2>/dev/null; then
  systemctl stop named || true
fi
