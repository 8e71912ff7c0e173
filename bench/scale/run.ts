// Scale benchmark (issue 14) on a private local control plane: kwok nodes, cert-manager with
// the test CA ClusterIssuer, BIND and the ingress front serving every domain.
//
//   npm run bench:scale -- [--size small|medium|large] [--shape hoster|platform|all] [--n N]
//                          [--mailboxes 20] [--idle-minutes M] [--concurrency 4] [--cpu-prof DIR]
//                          [--node-flags=--max-old-space-size=269]   (after the image's; "=" form: the value starts with a dash)
//                          [--operator-env NAME=VALUE]...   (more environment for the operator's process)
//                          [--node-argv=--heap-growing-percent=20]   (V8 flags on node's command line: those Node
//                                             refuses in NODE_OPTIONS)
//                          [--timeout-minutes 30]   (per leg) [--ready-wait-minutes 20]   (after the children are
//                                             ready, how long every resource Ready may take before the run goes on)
//                          [--quiet-minutes 15]   (before the raw leg, at most this long for a quiet control plane)
//                          [--heap-snapshot DIR]   (the operator's heap, written once its leg is measured)
//                          [--native-prof DIR]   (jemalloc's heap profile of the operator: its last dump at the end
//                                             of its leg, summed by subsystem: bench/memory/native-profile.ts; needs jeprof)
//                          [--check-interval 30s]   (the MapiServers' checks.interval; the product's default is 5m)
//                          [--from-source]   (the operator runs as the image runs it, compiled by `npm run build`,
//                                             unless this: type stripping adds ~30 MiB of RSS)
//
// Per shape and N, from one run:
//  1. the MapiServers, MailDomains and Mailboxes are created (operator not running yet);
//  2. the operator starts (connected directly, its requests counted by the apiserver's audit
//     log: a counting proxy in between made every request of the operator wait on this
//     process, which the raw leg did not) and the clock runs until every child is
//     ready (every Certificate Ready, every Deployment available) and until every resource
//     is Ready (both read from watches, bench/scale/readiness.ts, not polled LISTs; a run
//     that waited --ready-wait-minutes for the latter reports what was not Ready and goes on); the
//     objects' own timestamps then say in which phase the time went (timeline);
//  3. the raw baseline, in the same run: the very children the operator created, copied to
//     another namespace and applied directly (server-side apply, the operator's concurrency),
//     waiting for the same readiness; overhead = operator time / raw time (goal ≤ 1.3);
//  4. after convergence: DNS queries and TLS handshakes over two check intervals (relays
//     between the probes and BIND/the front), operator writes in an idle window (goal 0),
//     RSS/heap, p50/p99 reconcile time, and how long one change takes to reach its object.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { freshNamespace } from '../../src/dev/kube.ts';
import { e2eDomain, e2eMailbox } from '../../src/dev/world.ts';
import { applyObject, KubeClient, loadKubeConfig, type KubeObject } from '../../src/kube/index.ts';
import { AUDIT_FLUSH_MS, auditCounts, auditWrites, isWriteKey } from '../../src/dev/audit-log.ts';
import {
  AUDITED_OPERATOR, AUDITED_RAW, buildCompiled, cpuBetween, fmt, histogramQuantile, legCpuCell, nativeProfilingEnv, operatorEnv, peakRssMiB, pool, readCpu, readOperator, rssNowMiB, scrape, spread, startAuditedBenchWorld, startBenchOperator, sum, waitQuiet, type LegCpu, type OperatorReading,
} from './harness.ts';
import { startDnsRelay, startTlsRelay } from './relays.ts';
import { SIZES, shapeObjects, type Shape } from './shapes.ts';
import { startHandleTrace } from './handle-trace.ts';
import { readRssSplit, type RssSplit } from './rss-split.ts';
import { newestIntervalDump, summarizeDump, type NativeSummary } from '../memory/native-profile.ts';
import { ReadinessWatch } from './readiness.ts';
import { ROLLOUT_STARTED_ANNOTATION } from '../../src/rollout/decision.ts';
import { parseDuration } from '../../src/api/duration.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'small' },
    shape: { type: 'string', default: 'all' },
    n: { type: 'string' },
    mailboxes: { type: 'string', default: '20' },
    'idle-minutes': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    'cpu-prof': { type: 'string' },
    'native-prof': { type: 'string' },
    // V8 flags after the image's: a pod's memory limit sizes the heap (the chart's 384 MiB gives
    // an old space of ~269 MiB); this machine has no such limit, so a run says it here.
    'node-flags': { type: 'string' },
    'node-argv': { type: 'string' },
    // More environment for the operator's process, NAME=VALUE, repeatable (an allocator setting
    // such as GLIBC_TUNABLES or LD_PRELOAD measured against the same run without it).
    'operator-env': { type: 'string', multiple: true },
    'timeout-minutes': { type: 'string', default: '30' },
    // After every child is ready, how long to wait for every resource Ready before going on to
    // the idle window and the raw leg anyway (reported as not reached, with the reasons): at
    // N=5,000 a few MailDomains still re-checking cost a run its raw leg.
    'ready-wait-minutes': { type: 'string', default: '20' },
    out: { type: 'string' },
    // Every minute: this process's open descriptors and where its live sockets were made.
    'trace-handles': { type: 'boolean', default: false },
    'from-source': { type: 'boolean', default: false },
    // 30s, the shortest allowed, keeps the small run CI does short; a platform team runs 5m.
    'check-interval': { type: 'string', default: '30s' },
    // Before the raw leg, wait (at most this long) until the control plane and cert-manager
    // together use less than a third of a core over 30 s: what the operator's leg left them
    // to do (cert-manager's informer backlog at N=5,000) is no part of the raw leg's time.
    'quiet-minutes': { type: 'string', default: '15' },
    // A V8 heap snapshot of the operator into this directory once its leg is measured (after
    // the change latencies, before it stops): what the live heap at that size is made of.
    'heap-snapshot': { type: 'string' },
  },
});
const sizes = SIZES[values.size!];
if (!sizes) throw new Error(`--size ${values.size}: use small, medium or large`);
if (!['hoster', 'platform', 'all'].includes(values.shape!)) throw new Error(`--shape ${values.shape}: use hoster, platform or all`);
const shapes: Shape[] = values.shape === 'all' ? ['hoster', 'platform'] : [values.shape as Shape];
const num = (flag: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} ${v}: pass a non-negative number`);
  return n;
};
const idleMinutes = num('idle-minutes', values['idle-minutes'], values.size === 'small' ? 2 : 10);
const mailboxesPerDomain = num('mailboxes', values.mailboxes, 20);
const concurrency = num('concurrency', values.concurrency, 4);
const timeoutMs = num('timeout-minutes', values['timeout-minutes'], 30) * 60_000;
const readyWaitMs = num('ready-wait-minutes', values['ready-wait-minutes'], 20) * 60_000;
const quietMs = num('quiet-minutes', values['quiet-minutes'], 15) * 60_000;
const heapSnapshotDir = values['heap-snapshot'] ? path.resolve(values['heap-snapshot']) : undefined;
const nativeProfDir = values['native-prof'] ? path.resolve(values['native-prof']) : undefined;
// Refused now rather than after the control plane is up.
if (nativeProfDir) nativeProfilingEnv(operatorEnv(values['operator-env'] ?? []), nativeProfDir);
const compiled = !values['from-source'];
if (compiled) buildCompiled();
const checkInterval = values['check-interval']!;
const CHECK_INTERVAL_S = (() => {
  try {
    return parseDuration(checkInterval) / 1000;
  } catch (e) {
    throw new Error(`--check-interval ${checkInterval}: ${(e as Error).message}`);
  }
})();
const IDLE_SETTLE_MS = 60_000;
if (CHECK_INTERVAL_S < 30) throw new Error(`--check-interval ${checkInterval}: the CRD's minimum is 30s`);

if (values['trace-handles']) {
  const trace = startHandleTrace();
  setInterval(() => {
    const fds = readdirSync('/proc/self/fd').length;
    const lines = trace.top(8).map((t) => `    ${t.live} ${t.type} ${t.label}`).join('\n');
    process.stdout.write(`[handles] ${fds} descriptors open; live handles by origin:\n${lines}\n`);
  }, 60_000).unref();
}

type Cond = { type: string; status: string; lastTransitionTime?: string };
interface Obj extends KubeObject { status?: { conditions?: Cond[]; observedGeneration?: number; readyReplicas?: number; availableReplicas?: number }; spec?: { replicas?: number } }
const CHILD_KINDS: Array<[string, string]> = [
  ['cert-manager.io/v1', 'Certificate'], ['networking.k8s.io/v1', 'Ingress'], ['v1', 'Service'], ['apps/v1', 'Deployment'],
  ['policy/v1', 'PodDisruptionBudget'], ['v1', 'ConfigMap'],
];
const paths: Record<string, string> = {
  Certificate: '/apis/cert-manager.io/v1', Ingress: '/apis/networking.k8s.io/v1', Service: '/api/v1', Deployment: '/apis/apps/v1',
  PodDisruptionBudget: '/apis/policy/v1', ConfigMap: '/api/v1', MapiServer: '/apis/mapi-operator.io/v1alpha2', MailDomain: '/apis/mapi-operator.io/v1alpha2', Mailbox: '/apis/mapi-operator.io/v1alpha2',
};
const plural = (kind: string) => (kind === 'Ingress' || kind === 'Mailbox' ? `${kind.toLowerCase()}es` : `${kind.toLowerCase()}s`);

async function list(client: KubeClient, kind: string, namespace: string, labelSelector?: string): Promise<Obj[]> {
  const items: Obj[] = [];
  let cont: string | undefined;
  do {
    const page = await client.request<{ items: Obj[]; metadata: { continue?: string } }>({
      path: `${paths[kind]}/namespaces/${namespace}/${plural(kind)}`, query: { limit: 2000, continue: cont, labelSelector }, timeoutMs: 60_000,
    });
    items.push(...page.items);
    cont = page.metadata.continue || undefined;
  } while (cont);
  return items;
}


/**
 * Where the time went, from the objects' own timestamps (1 s resolution), in seconds after
 * `start`: the last child created, the first and last Certificate issued (Ready), the
 * time by which every server's first rollout was released (the last gate to open: the
 * operator's annotation, absent on the raw copies) and the last Deployment available. The overhead is the difference between the
 * two legs' timelines; this says in which phase it arises.
 */
export interface Timeline { lastChildCreatedS: number; lastCreatedByKindS: Record<string, number>; firstCertificateReadyS: number; lastCertificateReadyS: number; gateOpenedS?: number; deploymentsAvailableS: number }
async function timeline(client: KubeClient, ns: string, start: number, leg: 'operator' | 'raw'): Promise<Timeline> {
  // The raw copies carry the operator's annotations too: its release time is not theirs.
  const labelSelector = leg === 'operator' ? 'app.kubernetes.io/managed-by=mapi-operator' : undefined;
  const at = (iso: string | undefined) => (iso ? (Date.parse(iso) - start) / 1000 : NaN);
  const readySince = (o: Obj, type: string) => at(o.status?.conditions?.find((c) => c.type === type && c.status === 'True')?.lastTransitionTime);
  const lists = await Promise.all(CHILD_KINDS.map(([, kind]) => list(client, kind, ns, labelSelector)));
  const byKind = new Map(CHILD_KINDS.map(([, kind], i) => [kind, lists[i]!]));
  const certs = byKind.get('Certificate')!.map((c) => readySince(c, 'Ready'));
  const deployments = byKind.get('Deployment')!;
  const released = leg === 'raw' ? [] : deployments.map((d) => at((d.metadata as { annotations?: Record<string, string> }).annotations?.[ROLLOUT_STARTED_ANNOTATION])).filter((x) => !Number.isNaN(x));
  return {
    lastChildCreatedS: Math.max(...lists.flat().map((o) => at(o.metadata.creationTimestamp))),
    lastCreatedByKindS: Object.fromEntries([...byKind].filter(([, l]) => l.length).map(([kind, l]) => [kind, Math.max(...l.map((o) => at(o.metadata.creationTimestamp)))])),
    firstCertificateReadyS: Math.min(...certs),
    lastCertificateReadyS: Math.max(...certs),
    ...(released.length ? { gateOpenedS: Math.max(...released) } : {}),
    deploymentsAvailableS: Math.max(...deployments.map((d) => readySince(d, 'Available'))),
  };
}

/** Asks the operator for a heap snapshot (SIGUSR2, --heapsnapshot-signal) and waits until
 *  the file is whole: V8 writes it in one go, so its size stops changing. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  let last = -1;
  return until('the heap snapshot', async () => {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) return undefined;
    const size = statSync(path.join(dir, file)).size;
    if (size !== last || size === 0) {
      last = size;
      return undefined;
    }
    return `${path.join(dir, file)} (${(size / 1048576).toFixed(0)} MiB)`;
  }, 2_000, Date.now() + 600_000);
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, intervalMs: number, deadline: number): Promise<T> {
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await delay(intervalMs);
  }
}

interface Result { [key: string]: unknown }

async function runShape(shape: Shape, n: number): Promise<Result> {
  const ns = 'scale';
  const rawNs = 'raw';
  // The zones are known before the relays: startBenchWorld needs them, the relays need BIND.
  const pre = shapeObjects({ shape, n, mailboxesPerDomain, namespace: ns, nameserver: '127.0.0.1:1' });
  const bw = await startAuditedBenchWorld(pre.zones, { label: `scale-${shape}-${n}` });
  const requests = (user: string, from?: number, to?: number) => auditCounts(bw.audit.logPath, { user, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
  const dns = await startDnsRelay(bw.world.dns.nameserver);
  const tlsRelay = await startTlsRelay(bw.world.front.httpsPort);
  const admin = new KubeClient(loadKubeConfig(bw.env.controlPlane.kubeconfigPath));
  // The raw leg applies as its own audited identity: its requests are counted as the operator's are.
  const rawClient = new KubeClient(loadKubeConfig(bw.audit.kubeconfigs[AUDITED_RAW]!));
  const k = bw.world.k;
  const log = (s: string) => process.stdout.write(`[${shape} N=${n}] ${s}\n`);
  // Every process a leg's time goes to: the control plane's (cert-manager's among them), BIND,
  // this benchmark (the front and relays answering the probes, the readiness watches) and, in
  // its leg, the operator.
  const legProcesses = (operatorPid?: number) => [
    ...bw.env.controlPlane.processes(),
    { name: 'named', pid: bw.world.dns.pid },
    { name: 'benchmark', pid: process.pid },
    ...(operatorPid !== undefined ? [{ name: 'operator', pid: operatorPid }] : []),
  ];
  if (values['trace-handles']) {
    log(`servers of this process: DNS relay ${dns.nameserver}, TLS relay :${tlsRelay.port}, front https :${bw.world.front.httpsPort} http :${bw.world.front.httpPort}`);
  }
  try {
    const objs = shapeObjects({ shape, n, mailboxesPerDomain, namespace: ns, nameserver: dns.nameserver, checkInterval });
    const serverCount = objs.servers.length;
    for (const x of [ns, rawNs]) {
      await freshNamespace(k, x);
      await bw.world.publishCa(x);
    }
    const createStart = Date.now();
    await pool([...objs.servers, ...objs.domains, ...objs.mailboxes] as KubeObject[], 16, async (o) => { await applyObject(admin, o, { fieldManager: 'bench' }); });
    log(`created ${objs.servers.length} MapiServers, ${objs.domains.length} MailDomains, ${objs.mailboxes.length} Mailboxes in ${((Date.now() - createStart) / 1000).toFixed(1)} s`);

    // --- the operator
    const cpuAtStart = readCpu(legProcesses());
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    // A directory per leg: the dump read after it is this operator's own.
    const nativeDir = nativeProfDir && path.join(nativeProfDir, `${shape}-${n}`);
    if (nativeDir) mkdirSync(nativeDir, { recursive: true });
    const legEnv = nativeDir ? nativeProfilingEnv(operatorEnv(values['operator-env'] ?? []), nativeDir) : operatorEnv(values['operator-env'] ?? []);
    const op = await startBenchOperator(bw, {
      namespaces: [ns], name: `scale-${shape}`, compiled,
      args: ['--https-port', String(tlsRelay.port), '--concurrency', String(concurrency)],
      env: legEnv,
      nodeArgs: [
        ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []),
        ...(heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapSnapshotDir}`] : []),
        ...(values['node-flags'] ?? '').split(/\s+/).filter(Boolean),
      ],
      v8Argv: (values['node-argv'] ?? '').split(/\s+/).filter(Boolean),
    });
    let peakRss = 0;
    let peakHeap = 0;
    let samples = 0;
    // The heap from the operator's /metrics every 30 s, as a Prometheus would scrape it: at
    // N=5,000 a scrape is ~0.2 s of the operator's CPU, and one every 5 s was 9 % of its CPU
    // (prom-client in its profile), a cost no cluster pays. The RSS peak is the kernel's
    // high-water mark (peakRssMiB), exact whatever the sampling.
    const peaks = setInterval(() => {
      readOperator(op).then((r) => {
        peakRss = Math.max(peakRss, r.rssMiB, peakRssMiB(op.child.pid!));
        peakHeap = Math.max(peakHeap, r.heapUsedMiB);
        // A line a minute: a run stopped before convergence still tells the memory it reached.
        if (++samples % 2 === 0) log(`+${Math.round((Date.now() - t0) / 1000)} s: operator RSS ${fmt(r.rssMiB)} MiB, heap used ${fmt(r.heapUsedMiB)} of ${fmt(r.heapTotalMiB)} MiB, external ${fmt(r.externalMiB)} MiB (peaks ${fmt(peakRss)} / ${fmt(peakHeap)})${splitNote(readRssSplit(op.child.pid!))}${spacesNote(r.heapSpaces)}`);
      }, () => undefined);
    }, 30_000);
    const watch = new ReadinessWatch(admin, ns);
    const tChildren = await until('children ready (operator)', async () => (watch.childrenReady(objs.expectedCertificates, serverCount) ? Date.now() - t0 : undefined), 1_000, deadline);
    const cpuOperatorLeg = cpuBetween(cpuAtStart, readCpu(legProcesses(op.child.pid!)));
    log(`children ready after ${(tChildren / 1000).toFixed(1)} s; CPU-seconds by process: ${JSON.stringify(cpuOperatorLeg)}`);
    const operatorTimeline = await timeline(admin, ns, t0, 'operator');
    log(`operator timeline: ${JSON.stringify(operatorTimeline)}`);
    const readyDeadline = Math.min(deadline, Date.now() + readyWaitMs);
    let lastProgressLog = Date.now();
    const tReady = await until('every resource Ready', async () => {
      if (watch.allReady(serverCount, objs.domains.length, objs.mailboxes.length)) {
        const last = watch.lastBecameReady();
        return last === undefined ? Date.now() - t0 : Math.max(0, last - t0);
      }
      if (Date.now() - lastProgressLog >= 60_000) {
        lastProgressLog = Date.now();
        log(`not every resource Ready yet: ${JSON.stringify(watch.progress() ?? 'the watches are still listing them')}`);
      }
      return Date.now() > readyDeadline ? Number.NaN : undefined;
    }, 1_000, deadline + 60_000);
    const notReady = Number.isNaN(tReady) ? watch.progress() : undefined;
    await watch.stop();
    clearInterval(peaks);
    log(notReady ? `every resource Ready not reached ${((readyDeadline - t0) / 1000).toFixed(0)} s after the start: ${JSON.stringify(notReady)}` : `all Ready after ${(tReady / 1000).toFixed(1)} s`);
    const readyAt = Date.now();
    const atReady = await readOperator(op);
    const splitAtReady = readRssSplit(op.child.pid!);
    peakRss = Math.max(peakRss, peakRssMiB(op.child.pid!));
    const opMetrics = await scrape(op.metricsUrl());

    // Children created per second: creation timestamps (1 s resolution) against the start.
    const children: Obj[] = [];
    for (const [apiVersion, kind] of CHILD_KINDS) {
      // List items carry no apiVersion/kind.
      children.push(...(await list(admin, kind, ns, 'app.kubernetes.io/managed-by=mapi-operator')).map((o) => ({ ...o, apiVersion, kind })));
    }
    const lastCreated = Math.max(...children.map((c) => Date.parse(c.metadata.creationTimestamp ?? '')));
    const createdPerSecond = children.length / Math.max(1, (lastCreated - t0) / 1000);
    const byKind = Object.fromEntries(CHILD_KINDS.map(([, kind]) => [kind, children.filter((c) => c.kind === kind).length]));

    // --- DNS queries and TLS handshakes over two check intervals from here, and, in the same
    // minutes, the idle window after a minute's settling (the last convergence writes and the
    // event series flushed 30 s later are not idle): the operator's writes, from the audit log,
    // the first 50 kept whole (what changed says why; a count does not).
    dns.reset();
    tlsRelay.reset();
    const probeWindow = delay(2 * CHECK_INTERVAL_S * 1000).then(() => ({ dnsBy: dns.byName(), tlsBy: tlsRelay.byName() }));
    let atIdleEnd: (OperatorReading & { minutesAfterReady: number; split: RssSplit | undefined }) | undefined;
    let idleRss: ReturnType<typeof spread>;
    let idleCpu: LegCpu | undefined;
    const idleWindow = delay(IDLE_SETTLE_MS).then(async () => {
      const from = Date.now();
      const cpuAtIdleStart = readCpu(legProcesses(op.child.pid!));
      log(`idle window ${idleMinutes} min; probes counted over 2 × ${checkInterval}`);
      // The RSS every 10 s of the window: with nothing changing it still swings with the check
      // cycle and the heap release, and a single reading lands anywhere in that swing.
      const readings: number[] = [];
      const sampler = setInterval(() => { const mib = rssNowMiB(op.child.pid!); if (mib > 0) readings.push(mib); }, 10_000);
      await delay(idleMinutes * 60_000);
      clearInterval(sampler);
      idleRss = spread(readings);
      // What each process uses at rest: the operator's own is what its pod requests (the checks'
      // interval sets it, so it is given per interval); the control plane's is mostly its other
      // clients' (kwok, the controller manager, this benchmark's watches), not the operator's.
      idleCpu = cpuBetween(cpuAtIdleStart, readCpu(legProcesses(op.child.pid!)));
      log(`CPU-seconds at rest per check interval (${checkInterval}) by process: ${perIntervalNote(cpuPerInterval(idleCpu, idleMinutes * 60 / CHECK_INTERVAL_S))}`);
      // Logged as measured, as the figures below: the raw leg after it may not be waited for.
      if (idleRss) log(`RSS over the idle window (${idleRss.n} readings, 10 s apart): lowest ${fmt(idleRss.min)}, median ${fmt(idleRss.median)}, highest ${fmt(idleRss.max)} MiB`);
      const to = Date.now();
      // The footprint once converged (checks still run on their interval): at Ready the last
      // statuses and certificates are still being handled, and V8 holds their garbage.
      atIdleEnd = { ...(await readOperator(op)), minutesAfterReady: (to - readyAt) / 60_000, split: readRssSplit(op.child.pid!) };
      await delay(AUDIT_FLUSH_MS);
      return { counts: await requests(AUDITED_OPERATOR, from, to), writes: await auditWrites(bw.audit.logPath, { user: AUDITED_OPERATOR, from, to }, 50) };
    });
    const [{ dnsBy, tlsBy }, idleEnd] = await Promise.all([probeWindow, idleWindow]);
    const perInterval = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / 2;
    const maxPerName = (m: Map<string, number>) => Math.max(0, ...m.values()) / 2;
    // Which names, not only how many: the busiest name was a guess for eleven N=5,000 runs.
    const busiest = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([name, count]) => `${name} ${count / 2}`).join(', ');
    const idleWrites = [...idleEnd.counts].filter(([key]) => isWriteKey(key));
    const idleWritesFile = values.out ? `${values.out.replace(/\.json$/, '')}-idle-writes-${shape}-${n}.json` : path.join(os.tmpdir(), `mapi-operator-idle-writes-${shape}-${n}.json`);
    writeFileSync(idleWritesFile, JSON.stringify(idleEnd.writes, null, 1));
    if (idleEnd.writes.length) log(`idle writes kept in ${idleWritesFile}; first: ${idleEnd.writes.slice(0, 3).map((w) => `${w.verb} ${w.resource} ${w.name}: ${w.body.slice(0, 300)}`).join(' | ')}`);
    // Logged as measured: at N=5,000 the raw leg that follows outlasted a session, and these
    // were lost with it.
    log(`DNS ${perInterval(dnsBy)} queries, TLS ${perInterval(tlsBy)} connections per check interval (busiest ${maxPerName(dnsBy)} / ${maxPerName(tlsBy)}: names ${busiest(dnsBy)}; hosts ${busiest(tlsBy)}); ${idleWrites.reduce((a, [, n]) => a + n, 0)} writes in ${idleMinutes} idle min ${JSON.stringify(Object.fromEntries(idleWrites))}; RSS ${fmt(atReady.rssMiB)} MiB, heap ${fmt(atReady.heapUsedMiB)} of ${fmt(atReady.heapTotalMiB)} MiB at Ready${splitNote(splitAtReady)}${atIdleEnd ? `; RSS ${fmt(atIdleEnd.rssMiB)} MiB, heap ${fmt(atIdleEnd.heapUsedMiB)} of ${fmt(atIdleEnd.heapTotalMiB)} MiB at the idle window's end${splitNote(atIdleEnd.split)}` : ''}`);

    // --- one change at the largest N: a new alias, a Mailbox switched off
    const aliasT = Date.now();
    const alias = `alias-${objs.probe.domain}`;
    await k.apply(e2eDomain({ name: objs.probe.domainName, namespace: ns, server: objs.probe.server, domain: objs.probe.domain, aliases: [alias] }));
    const accessName = `${objs.probe.server}-mapi-access`;
    await until('the alias in the access list', async () => {
      const cm = await admin.request<{ data?: Record<string, string> }>({ path: `/api/v1/namespaces/${ns}/configmaps/${accessName}` });
      return cm.data?.['access.json']?.includes(`"${alias}"`) ? true : undefined;
    }, 200, Date.now() + 300_000);
    const aliasMs = Date.now() - aliasT;
    const offT = Date.now();
    await k.apply(e2eMailbox({ name: objs.probe.mailboxName, namespace: ns, domainRef: objs.probe.mailboxDomainRef, address: objs.probe.address, mapiEnabled: false }));
    await until('the Mailbox switched off in the access list', async () => {
      const cms = await list(admin, 'ConfigMap', ns);
      return cms.some((c) => c.metadata.name?.startsWith('s0-mapi-access') && Object.values((c as { data?: Record<string, string> }).data ?? {}).some((v) => v.includes(`"${objs.probe.address}":false`))) ? true : undefined;
    }, 200, Date.now() + 300_000);
    const offMs = Date.now() - offT;
    log(`alias reached the access list in ${aliasMs} ms; Mailbox off in ${offMs} ms`);
    // Writing a heap snapshot allocates natively about as much as the heap holds (1 GiB at
    // N=5,000): the native profile is read from before it.
    const measuredAt = Date.now();
    if (heapSnapshotDir) log(`heap snapshot ${await heapSnapshot(op.child.pid!, heapSnapshotDir)}`);
    await op.stop();
    // jemalloc's last dump (one per 256 MiB allocated) before the snapshot: what was allocated then.
    const nativeDump = nativeDir ? newestIntervalDump(nativeDir, measuredAt) : undefined;
    const nativeBeforeStop = nativeDump && summarizeDump(process.execPath, nativeDump.file, 8);
    const native = nativeBeforeStop && nativeDump ? { ...nativeBeforeStop, dump: nativeDump.file, minutesBeforeStop: (measuredAt - nativeDump.mtimeMs) / 60_000 } : undefined;
    if (nativeDir) log(native ? `native memory ${fmt(native.minutesBeforeStop)} min before the leg's end (${native.dump}): ${fmt(native.totalBytes / 1048576)} MiB sampled` : `no native profile summarised (dump: ${nativeDump?.file ?? 'none'}; jeprof installed?)`);

    // The raw leg starts with cert-manager as the operator's leg did: freshly started. At
    // N=5,000 the one that served the operator's leg had ~10,000 informer notifications
    // pending (its log: "processorListener handler … pendingNotifications", ~1 s each, two
    // cores busy for hours), which a raw leg started then would have shared the machine with.
    // Nor the operator's leg's CertificateRequests, which the operator's leg did not start
    // with either: a fresh cert-manager lists every Secret, and its SelfSigned controller
    // walks every CertificateRequest of the Secret's namespace for each (quadratic, ~1 s a
    // Secret at 5,000); on 2026-12-08 that kept 1.8 cores busy past the 15-minute quiet wait.
    // They are history once their Certificates are issued: cert-manager deletes old ones itself.
    await admin.request({ method: 'DELETE', path: `/apis/cert-manager.io/v1/namespaces/${ns}/certificaterequests`, timeoutMs: 300_000 });
    await bw.env.issuer.restart();
    // Then on a quiet machine (see quiet-minutes): the new one lists what exists first.
    const busy = bw.env.controlPlane.processes().map((p) => p.pid);
    const settled = await waitQuiet(busy, { windowMs: 30_000, maxCores: 0.33, maxMs: quietMs });
    log(`${settled.quiet ? 'control plane quiet' : 'control plane still busy'} after ${(settled.waitedMs / 1000).toFixed(0)} s (${fmt(settled.cores, 2)} cores over the last 30 s)`);

    // --- the raw baseline: the same children, applied directly, same readiness
    const copies = children.map((c) => {
      const { status: _s, ...rest } = c;
      const md = c.metadata;
      // A Service's cluster IP is allocated to the original: the copy gets its own.
      const spec = c.kind === 'Service' ? (({ clusterIP: _ip, clusterIPs: _ips, ...x }) => x)(c.spec as Record<string, unknown>) : c.spec;
      return {
        ...rest, ...(spec ? { spec } : {}),
        metadata: { name: md.name, namespace: rawNs, ...(md.labels ? { labels: md.labels } : {}), ...(md.annotations ? { annotations: md.annotations } : {}) },
      } as KubeObject;
    });
    const cpuAtRawStart = readCpu(legProcesses());
    const r0 = Date.now();
    await pool(copies, concurrency, async (o) => { await applyObject(rawClient, o, { fieldManager: 'raw-baseline' }); });
    const rawApplied = Date.now() - r0;
    const rawWatch = new ReadinessWatch(admin, rawNs);
    const rawReady = await until('children ready (raw)', async () => (rawWatch.childrenReady(objs.expectedCertificates, serverCount) ? Date.now() - r0 : undefined), 1_000, Date.now() + timeoutMs);
    const cpuRawLeg = cpuBetween(cpuAtRawStart, readCpu(legProcesses()));
    await rawWatch.stop();
    await delay(AUDIT_FLUSH_MS);
    const rawRequests = [...(await requests(AUDITED_RAW)).values()].reduce((a, b) => a + b, 0);
    // The operator's requests from its start until every resource was Ready.
    const convergenceCounts = await requests(AUDITED_OPERATOR, t0, readyAt);
    log(`raw: applied ${copies.length} in ${(rawApplied / 1000).toFixed(1)} s, ready after ${(rawReady / 1000).toFixed(1)} s`);
    const rawTimeline = await timeline(admin, rawNs, r0, 'raw');
    log(`raw timeline: ${JSON.stringify(rawTimeline)}`);

    const perDomain: Record<string, number> = {};
    for (const [key, count] of convergenceCounts) {
      const verb = key.split(' ')[0]!;
      perDomain[verb] = (perDomain[verb] ?? 0) + count / objs.domains.length;
    }
    const q = (controller: string, p: number) => histogramQuantile(opMetrics, 'controller_runtime_reconcile_time_seconds', p, { controller }) * 1000;
    return {
      shape, n, servers: serverCount, domains: objs.domains.length, mailboxes: objs.mailboxes.length, concurrency, checkInterval,
      children: children.length, childrenByKind: byKind,
      operatorChildrenReadyS: tChildren / 1000, operatorAllReadyS: tReady / 1000,
      ...(notReady ? { notReadyWhenGivenUp: notReady, readyGivenUpAfterS: (readyDeadline - t0) / 1000 } : {}),
      rawAppliedS: rawApplied / 1000, rawStartedQuiet: settled.quiet, quietWaitS: settled.waitedMs / 1000, rawReadyS: rawReady / 1000, rawRequests,
      overheadChildren: tChildren / rawReady, overheadAllReady: tReady / rawReady,
      cpuOperatorLeg, cpuRawLeg,
      operatorTimeline, rawTimeline,
      childrenPerSecondOperator: createdPerSecond, childrenPerSecondRaw: copies.length / (rawApplied / 1000),
      requestsPerDomain: perDomain, requestsTotal: Object.fromEntries(convergenceCounts),
      idleMinutes, idleWrites: Object.fromEntries(idleWrites), idleWritesFile,
      rssMiB: atReady.rssMiB, heapUsedMiB: atReady.heapUsedMiB, heapTotalMiB: atReady.heapTotalMiB, externalMiB: atReady.externalMiB, rssSplitAtReady: splitAtReady, heapSpacesAtReady: atReady.heapSpaces, heapReleasesAtReady: atReady.heapReleases, heapReleaseSecondsAtReady: atReady.heapReleaseSeconds, peakRssMiB: peakRss, peakHeapMiB: peakHeap,
      atIdleEnd: atIdleEnd && { minutesAfterReady: atIdleEnd.minutesAfterReady, rssMiB: atIdleEnd.rssMiB, heapUsedMiB: atIdleEnd.heapUsedMiB, heapTotalMiB: atIdleEnd.heapTotalMiB, split: atIdleEnd.split, heapSpaces: atIdleEnd.heapSpaces, heapReleases: atIdleEnd.heapReleases, heapReleaseSeconds: atIdleEnd.heapReleaseSeconds },
      rssOverIdleWindowMiB: idleRss,
      ...(idleCpu ? { cpuAtRestPerInterval: cpuPerInterval(idleCpu, idleMinutes * 60 / CHECK_INTERVAL_S) } : {}),
      ...(native ? { nativeBeforeStop: native } : {}),
      dnsQueriesPerInterval: perInterval(dnsBy), dnsDistinctNames: dnsBy.size, dnsMaxPerNamePerInterval: maxPerName(dnsBy), dnsBusiestNames: busiest(dnsBy),
      tlsHandshakesPerInterval: perInterval(tlsBy), tlsDistinctHosts: tlsBy.size, tlsMaxPerHostPerInterval: maxPerName(tlsBy),
      reconcile: Object.fromEntries(['mapiserver', 'maildomain', 'mailbox'].map((c) => [c, { p50ms: q(c, 0.5), p99ms: q(c, 0.99), count: sum(opMetrics, 'controller_runtime_reconcile_total', { controller: c }) }])),
      aliasToAccessListMs: aliasMs, mailboxOffToAccessListMs: offMs,
      operatorLog: op.logFile,
    };
  } finally {
    await dns.stop();
    await tlsRelay.stop();
    await bw.stop();
  }
}

function splitNote(split: RssSplit | undefined): string {
  return split ? `; by mapping: files ${fmt(split.fileMiB)}, malloc arenas ${fmt(split.mallocMiB)}, other anonymous ${fmt(split.anonymousMiB)} MiB (laid out like V8's pages ${fmt(split.v8PageSizedMiB)})` : '';
}

/** CPU-seconds of each process (and all together) per check interval, from `intervals` of them. */
function cpuPerInterval(cpu: LegCpu, intervals: number): Record<string, number> {
  const per: Record<string, number> = {};
  for (const [name, s] of Object.entries(cpu.byProcess)) if (s >= 0.05 * intervals) per[name] = s / intervals;
  per.total = cpu.total / intervals;
  return per;
}

/** `name seconds, …`, the busiest first. */
function perIntervalNote(per: Record<string, number>): string {
  return Object.entries(per).sort((a, b) => b[1] - a[1]).map(([name, s]) => `${name} ${fmt(s)}`).join(', ');
}

/** The heap spaces that move (committed / in use, MiB): which one a burst's growth is in. */
function spacesNote(spaces: OperatorReading['heapSpaces']): string {
  const moving = ['old', 'new', 'large_object', 'new_large_object', 'code', 'trusted'].filter((k) => spaces[k]);
  return moving.length ? `; heap spaces ${moving.map((k) => `${k} ${fmt(spaces[k]!.totalMiB)}/${fmt(spaces[k]!.usedMiB)}`).join(', ')}` : '';
}

function phase(r: Result, key: Exclude<keyof Timeline, 'lastCreatedByKindS'>): string {
  return `${fmt((r.operatorTimeline as Timeline)[key] ?? NaN)} / ${fmt((r.rawTimeline as Timeline)[key] ?? NaN)}`;
}

function table(results: Result[]): string {
  const col = (r: Result, f: (r: Result) => string) => f(r);
  const rows: Array<[string, (r: Result) => string]> = [
    ['objects (servers / domains / mailboxes)', (r) => `${r.servers} / ${r.domains} / ${r.mailboxes}`],
    ['children created by the operator', (r) => String(r.children)],
    ['checks.interval of the MapiServers', (r) => String(r.checkInterval)],
    ['operator: children ready (s)', (r) => fmt(r.operatorChildrenReadyS as number)],
    ['operator: every resource Ready (s)', (r) => (r.notReadyWhenGivenUp
      ? `not reached in ${fmt(r.readyGivenUpAfterS as number)} (Ready: ${JSON.stringify(r.notReadyWhenGivenUp)})`
      : fmt(r.operatorAllReadyS as number))],
    ['raw baseline: same children ready (s)', (r) => fmt(r.rawReadyS as number)],
    ['overhead, children ready (goal ≤ 1.3)', (r) => `${fmt(r.overheadChildren as number, 2)}×`],
    ['overhead, every resource Ready', (r) => `${fmt(r.overheadAllReady as number, 2)}×`],
    // Both legs keep this machine's cores busy: the ratio of their CPU is that of their times,
    // and the processes say where the operator's leg spends more.
    ['CPU-seconds until children ready, operator / raw leg, by process', (r) => legCpuCell(r.cpuOperatorLeg as LegCpu, r.cpuRawLeg as LegCpu)],
    ['CPU-seconds per check interval at rest (idle window), by process', (r) => { const x = r.cpuAtRestPerInterval as Record<string, number> | undefined; return x ? perIntervalNote(x) : 'not read'; }],
    ['timeline, operator / raw (s): last child created', (r) => phase(r, 'lastChildCreatedS')],
    ['… first / last Certificate issued', (r) => `${phase(r, 'firstCertificateReadyS')}; ${phase(r, 'lastCertificateReadyS')}`],
    ['… every server\'s first rollout released (the last gate opened)', (r) => fmt((r.operatorTimeline as Timeline).gateOpenedS ?? NaN)],
    ['… last Deployment available', (r) => phase(r, 'deploymentsAvailableS')],
    ['children created/s (operator / raw)', (r) => `${fmt(r.childrenPerSecondOperator as number)} / ${fmt(r.childrenPerSecondRaw as number)}`],
    ['API requests per MailDomain', (r) => Object.entries(r.requestsPerDomain as Record<string, number>).map(([v, x]) => `${v} ${fmt(x, 2)}`).join(', ')],
    [`operator writes in the idle window`, (r) => `${Object.values(r.idleWrites as Record<string, number>).reduce((a, b) => a + b, 0)} in ${r.idleMinutes} min${Object.keys(r.idleWrites as object).length ? ` (${JSON.stringify(r.idleWrites)})` : ''}`],
    ['operator RSS / heap used at Ready (MiB)', (r) => `${fmt(r.rssMiB as number)} / ${fmt(r.heapUsedMiB as number)}`],
    // What of the RSS is V8's heap (committed, used or not) and what is native: Buffers and
    // other memory V8 knows of (external); the rest is code, stacks and the allocator's own.
    ['… V8 heap committed / external (MiB)', (r) => `${fmt(r.heapTotalMiB as number)} / ${fmt(r.externalMiB as number)}`],
    // The same RSS by mapping (/proc/PID/smaps): V8's pages are among the anonymous mappings;
    // glibc malloc's arenas hold Buffers, OpenSSL's and V8's own native memory, and what they
    // freed but could not give back. Under jemalloc (the image's) that column is 0: its pages
    // are anonymous mappings like V8's, counted in the third.
    ['… by mapping: files / malloc arenas / other anonymous (MiB)', (r) => { const x = r.rssSplitAtReady as RssSplit | undefined; return x ? `${fmt(x.fileMiB)} / ${fmt(x.mallocMiB)} / ${fmt(x.anonymousMiB)}` : 'not read'; }],
    // Mappings laid out like V8's heap pages (a heuristic, rss-split.ts) against the regular
    // spaces' committed size: what is over it is pages V8 freed and keeps pooled.
    ['… laid out like V8 pages / V8 paged spaces committed (old + new + trusted), MiB', (r) => { const x = r.rssSplitAtReady as RssSplit | undefined; const sp = r.heapSpacesAtReady as Record<string, { totalMiB: number }> | undefined; return x && sp ? `${fmt(x.v8PageSizedMiB)} / ${fmt(['old', 'new', 'trusted'].reduce((a, k) => a + (sp[k]?.totalMiB ?? 0), 0))}` : 'not read'; }],
    ['operator RSS / heap used / committed at the end of the idle window (MiB)', (r) => { const x = r.atIdleEnd as { minutesAfterReady: number; rssMiB: number; heapUsedMiB: number; heapTotalMiB: number } | undefined; return x ? `${fmt(x.rssMiB)} / ${fmt(x.heapUsedMiB)} / ${fmt(x.heapTotalMiB)} (${fmt(x.minutesAfterReady)} min after Ready)` : 'not read'; }],
    // The operator's memory-reducing collections (src/observability/heap-release.ts) by reason:
    // whether the RSS read at the idle window's end is before or after one.
    ['operator RSS over the idle window, every 10 s: lowest / median / highest (MiB)', (r) => { const x = r.rssOverIdleWindowMiB as { n: number; min: number; median: number; max: number } | undefined; return x ? `${fmt(x.min)} / ${fmt(x.median)} / ${fmt(x.max)} (${x.n} readings)` : 'not read'; }],
    ['memory-reducing collections by reason (the time they took): at Ready / at the end of the idle window', (r) => {
      const x = r.atIdleEnd as { heapReleases?: Record<string, number>; heapReleaseSeconds?: number } | undefined;
      const took = (s: unknown) => (typeof s === 'number' ? ` (${fmt(s)} s)` : '');
      return `${JSON.stringify(r.heapReleasesAtReady ?? {})}${took(r.heapReleaseSecondsAtReady)} / ${x ? `${JSON.stringify(x.heapReleases ?? {})}${took(x.heapReleaseSeconds)}` : 'not read'}`;
    }],
    // jemalloc's sampled heap profile (--native-prof): who holds the memory beside V8's heap.
    ['native allocations at the end of the operator\'s leg, by subsystem (MiB, --native-prof: the last dump before the heap snapshot)', (r) => { const x = r.nativeBeforeStop as (NativeSummary & { minutesBeforeStop: number }) | undefined; return x ? `${fmt(x.totalBytes / 1048576)} (${fmt(x.minutesBeforeStop)} min before): ${x.bySubsystem.filter((b) => b.bytes >= 524288).map((b) => `${b.name} ${fmt(b.bytes / 1048576)}`).join('; ')}` : 'not profiled'; }],
    ['operator peak RSS (kernel high-water mark) / heap (30 s samples), MiB', (r) => `${fmt(r.peakRssMiB as number)} / ${fmt(r.peakHeapMiB as number)}`],
    ['DNS queries per check interval (distinct names; max per name)', (r) => `${fmt(r.dnsQueriesPerInterval as number)} (${r.dnsDistinctNames}; ${fmt(r.dnsMaxPerNamePerInterval as number)})`],
    ['TLS handshakes per check interval (distinct hosts; max per host)', (r) => `${fmt(r.tlsHandshakesPerInterval as number)} (${r.tlsDistinctHosts}; ${fmt(r.tlsMaxPerHostPerInterval as number)})`],
    ['reconcile p50 / p99 (ms): MapiServer', (r) => { const x = (r.reconcile as Record<string, { p50ms: number; p99ms: number }>).mapiserver!; return `${fmt(x.p50ms)} / ${fmt(x.p99ms)}`; }],
    ['reconcile p50 / p99 (ms): MailDomain', (r) => { const x = (r.reconcile as Record<string, { p50ms: number; p99ms: number }>).maildomain!; return `${fmt(x.p50ms)} / ${fmt(x.p99ms)}`; }],
    ['reconcile p50 / p99 (ms): Mailbox', (r) => { const x = (r.reconcile as Record<string, { p50ms: number; p99ms: number }>).mailbox!; return `${fmt(x.p50ms)} / ${fmt(x.p99ms)}`; }],
    ['a new alias → access list (ms)', (r) => String(r.aliasToAccessListMs)],
    ['a Mailbox switched off → access list (ms)', (r) => String(r.mailboxOffToAccessListMs)],
  ];
  return [
    `| | ${results.map((r) => `${r.shape} N=${r.n}`).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    ...rows.map(([name, f]) => `| ${name} | ${results.map((r) => col(r, f)).join(' | ')} |`),
  ].join('\n');
}

const results: Result[] = [];
for (const shape of shapes) {
  const n = values.n ? num('n', values.n, 0) : sizes[shape];
  results.push(await runShape(shape, n));
  // Each shape's table as soon as it is measured: a long run stopped later keeps it.
  process.stdout.write(`\n${table(results.slice(-1))}\n\n`);
  if (values.out) writeFileSync(values.out, JSON.stringify({ when: new Date().toISOString(), results }, null, 2));
}
const out = table(results);
process.stdout.write(`\n${out}\n`);
if (values.out) writeFileSync(values.out, JSON.stringify({ when: new Date().toISOString(), results, table: out }, null, 2));
process.exit(0);
