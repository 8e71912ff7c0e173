# syntax=docker/dockerfile:1
# mapi-operator image: Node 24 on distroless (no shell, no package manager), non-root,
# read-only root filesystem friendly, production dependencies only.
#
# Base images are pinned by digest (multi-arch manifest-list digests); bump them together
# with the tag comment. test/integration/image/ replays these stages without a container
# engine and runs the result.
#   node:24-bookworm-slim                      (Node 24.18.0 when pinned)
#   gcr.io/distroless/nodejs24-debian12:nonroot
ARG BUILD_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a

# Compiles TypeScript to dist/ with every dependency (dev ones included).
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npm run build

# Production dependencies only, installed the way a user would (`npm ci --omit=dev`: the
# prepare script sees no TypeScript and skips the build).
FROM ${BUILD_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY src/dev/prepare.cjs ./src/dev/prepare.cjs
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf src

# The allocator the operator runs with: jemalloc, from the Debian release the runtime is built
# on (Debian 12), pinned. Under glibc's malloc the TLS probes and HTTP buffers of thousands of
# MailDomains left fragmented arenas that were never given back (docs/benchmarks.md). Already
# installed (the image replay of test/integration/image on a machine that has it): not again.
FROM ${BUILD_IMAGE} AS allocator
WORKDIR /allocator
RUN (dpkg -s libjemalloc2 >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjemalloc2=5.3.0-1 && rm -rf /var/lib/apt/lists/*)) \
 && cp "$(dpkg -L libjemalloc2 | grep '/libjemalloc.so.2$')" ./libjemalloc.so.2

FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="mapi-operator" \
      org.opencontainers.image.description="Kubernetes operator that runs MAPI over HTTP for Outlook declaratively: certificates, exposure, autodiscover checks and a rollout gate." \
      org.opencontainers.image.source="https://github.com/mapi-operator/mapi-operator" \
      org.opencontainers.image.url="https://github.com/mapi-operator/mapi-operator" \
      org.opencontainers.image.documentation="https://github.com/mapi-operator/mapi-operator/tree/main/docs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="mapi-operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs24-debian12:nonroot"
ENV NODE_ENV=production
# V8 heap sizing, the same on every machine: V8 otherwise sizes the heap from the memory it
# sees (on a 24 GiB node: 32 MiB semi-spaces and a 4 GiB old generation, so garbage piles up
# to hundreds of MiB before a full GC). 8 MiB semi-spaces bound the young generation at
# 16 MiB (RSS 0.79x, throughput unchanged, `npm run bench:memory`); the old generation may
# take 70 % of the container's memory limit, leaving the rest to code, buffers and TLS (a
# tighter heap costs CPU under heavy churn: see docs/benchmarks.md). --expose-gc lets the
# operator ask V8 for a memory-reducing collection once its heap has shrunk after a burst or
# crept in a steady run:
# V8 keeps the pages a collection frees resident otherwise (src/observability/heap-release.ts).
# The chart sets NODE_OPTIONS from `nodeOptions`; the gatekeeper sidecar sets its own.
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size-percentage=70 --expose-gc"
# jemalloc instead of glibc's malloc (the allocator stage above): two arenas (one JavaScript
# thread; fewer arenas hold less memory apart), a background thread that purges, and freed
# pages given back to the kernel after a second instead of kept for reuse. The chart's
# `extraEnv` can override either variable; LD_PRELOAD="" runs glibc's malloc.
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
ENV MALLOC_CONF=background_thread:true,narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0
WORKDIR /app
COPY --from=allocator /allocator/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json LICENSE ./
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "dist/src/cli/main.js"]
CMD ["run", "--leader-elect"]
