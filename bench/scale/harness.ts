// What the scale benchmark, the soak and the chaos suite share: a private control plane with
// cert-manager (CA ClusterIssuer), BIND and the ingress front (src/dev/world.ts), the
// operator as a process (behind the fault-injecting proxy, or counted by the apiserver's audit
// log), and readings of its /metrics.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestEnvironment, type TestEnvironment } from '../../src/dev/controlplane-environment.ts';
import { repoRoot } from '../../src/dev/controlplane-assets.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { startWorld, type World, type Zones } from '../../src/dev/world.ts';
import { startApiProxy, type ApiProxy } from '../../test/chaos/api-proxy.ts';
import { cpuSeconds, trend } from '../measure.ts';

export interface BenchWorld {
  env: TestEnvironment;
  world: World;
  /** What the operator connects with: the proxy's kubeconfig, or its audited identity's. */
  operatorKubeconfigPath: string;
  stop(): Promise<void>;
}

export interface ProxiedBenchWorld extends BenchWorld {
  proxy: ApiProxy;
}

/** The identities an audited world's apiserver records (ControlPlaneOptions.audit). */
export const AUDITED_OPERATOR = 'mapi-operator';
export const AUDITED_RAW = 'raw-baseline';

export interface AuditedBenchWorld extends BenchWorld {
  /** The audit log, and a kubeconfig per audited identity (AUDITED_OPERATOR, AUDITED_RAW). */
  audit: { logPath: string; kubeconfigs: Record<string, string> };
}

/** A private control plane (2 kwok nodes) with the e2e world on it, and the proxy in front of
 *  the apiserver for the operator (faults, request counts). */
export async function startBenchWorld(zones: Zones, opts: { nodes?: number; label?: string } = {}): Promise<ProxiedBenchWorld> {
  return startOn(zones, opts, undefined, async (env) => {
    const proxy = await startApiProxy({ kubeconfigPath: env.controlPlane.kubeconfigPath });
    return { world: { proxy, operatorKubeconfigPath: proxy.kubeconfigPath }, stop: () => proxy.stop() };
  });
}

/** The same world without the proxy: the operator and the raw baseline connect directly, each
 *  with its own identity, and the apiserver's audit log counts their requests. */
export async function startAuditedBenchWorld(zones: Zones, opts: { nodes?: number; label?: string } = {}): Promise<AuditedBenchWorld> {
  return startOn(zones, opts, [AUDITED_OPERATOR, AUDITED_RAW], async (env) => {
    const audit = env.controlPlane.audit!;
    return { world: { audit, operatorKubeconfigPath: audit.kubeconfigs[AUDITED_OPERATOR]! }, stop: async () => undefined };
  });
}

async function startOn<X extends object>(
  zones: Zones, opts: { nodes?: number; label?: string }, auditUsers: string[] | undefined,
  extra: (env: TestEnvironment) => Promise<{ world: X & { operatorKubeconfigPath: string }; stop(): Promise<void> }>,
): Promise<Omit<BenchWorld, 'operatorKubeconfigPath'> & X & { operatorKubeconfigPath: string }> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = path.join(os.tmpdir(), 'mapi-operator-bench-logs', `${opts.label ?? 'bench'}-${stamp}-${process.pid}`);
  const env = await startEnvironmentRetrying({ logDir, nodes: opts.nodes ?? 2, ...(auditUsers ? { audit: { users: auditUsers } } : {}) });
  // startWorld reads the shared kubeconfig from the environment, as the e2e tests do.
  process.env.MAPI_TEST_KUBECONFIG = env.controlPlane.kubeconfigPath;
  let world: World | undefined;
  try {
    world = await startWorld(zones);
    const x = await extra(env);
    return {
      env, world, ...x.world,
      async stop() {
        await x.stop();
        await world!.stop();
        await env.stop();
      },
    };
  } catch (err) {
    await world?.stop().catch(() => undefined);
    await env.stop();
    throw err;
  }
}

/** On a machine this loaded a component sometimes times out its first TLS handshake with
 *  the apiserver and exits; a fresh control plane is the cure. Three attempts. */
async function startEnvironmentRetrying(opts: { logDir: string; nodes: number; audit?: { users: string[] } }): Promise<TestEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestEnvironment({ ...opts, logDir: `${opts.logDir}-${attempt}` });
    } catch (err) {
      if (attempt >= 3) throw err;
      process.stderr.write(`control plane start failed (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}; retrying\n`);
    }
  }
}

/**
 * The V8 flags the image starts the operator with (its `ENV NODE_OPTIONS`), read from the
 * Dockerfile so the benchmark and the soak measure the memory of what ships, not of a heap V8
 * sized from this machine's 24 GiB.
 */
export function imageNodeOptions(dockerfile = new URL('../../Dockerfile', import.meta.url)): string[] {
  const m = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(dockerfile, 'utf8'));
  if (!m) throw new Error(`${dockerfile.pathname}: no ENV NODE_OPTIONS="..." line; the benchmark reads the image's V8 flags from it`);
  return m[1]!.split(/\s+/).filter(Boolean);
}

/** Where Debian keeps shared libraries, for the architectures the image is built for. */
const HOST_LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/local/lib', '/usr/lib'];

/** The allocator the image starts the operator with: its `ENV LD_PRELOAD` (the library at the
 *  same file name on this machine; the image's path is not here), `MALLOC_CONF` and
 *  `GLIBC_TUNABLES`, read from the Dockerfile as the V8 flags are: malloc's share is a third of
 *  the RSS beside V8's heap. `--operator-env NAME=...` replaces any of them. */
export function imageAllocatorEnv(dockerfile = new URL('../../Dockerfile', import.meta.url), libraryDirs = HOST_LIBRARY_DIRS): Record<string, string> {
  const text = readFileSync(dockerfile, 'utf8');
  const env: Record<string, string> = {};
  for (const name of ['LD_PRELOAD', 'MALLOC_CONF', 'GLIBC_TUNABLES']) {
    const m = new RegExp(`^ENV ${name}=("?)([^"\\s]+)\\1\\s*$`, 'm').exec(text);
    if (m) env[name] = m[2]!;
  }
  if (env.LD_PRELOAD) env.LD_PRELOAD = env.LD_PRELOAD.split(':').map((lib) => hostLibrary(lib, libraryDirs)).join(':');
  return env;
}

function hostLibrary(imagePath: string, dirs: readonly string[]): string {
  const file = path.basename(imagePath);
  const found = dirs.map((d) => path.join(d, file)).find((p) => existsSync(p));
  if (!found) throw new Error(`the image preloads ${imagePath} (ENV LD_PRELOAD); ${file} is in none of ${dirs.join(', ')} here: install it (src/dev/install-test-deps.sh installs libjemalloc2)`);
  return found;
}

/** The operator as a process (against the proxy, or audited), watching `namespaces`, info-level logs.
 *  startOperator gives a start 30 s; on a machine this loaded that is sometimes too short,
 *  so up to three attempts (each leftover is killed first).
 *  `compiled`: the JavaScript the image runs (buildCompiled first), not the TypeScript source. */
export async function startBenchOperator(bw: BenchWorld, o: { namespaces: string[]; name: string; args?: string[]; nodeArgs?: string[]; v8Argv?: string[]; env?: Record<string, string>; compiled?: boolean }): Promise<OperatorProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      const op = await startOperator({
        kubeconfig: bw.operatorKubeconfigPath,
        namespaces: o.namespaces,
        name: o.name,
        // parseArgs keeps the last value: info overrides startOperator's debug (debug logging
        // of thousands of reconciles is a cost of its own that no production run pays).
        args: [...bw.world.operatorArgs, '--log-level', 'info', ...(o.args ?? [])],
        env: { ...imageAllocatorEnv(), ...o.env, NODE_OPTIONS: withNodeFlags(imageNodeOptions(), o.nodeArgs ?? []).join(' ') },
        ...(o.compiled ? { compiled: true } : {}),
        ...(o.v8Argv?.length ? { v8Argv: o.v8Argv } : {}),
      });
      started.add(op.child.pid!);
      return op;
    } catch (err) {
      if (attempt >= 3) throw err;
      process.stderr.write(`operator start failed (attempt ${attempt}): ${(err as Error).message.split('\n').slice(0, 2).join(' ')}\n`);
      killLeftovers();
    }
  }
}

/** The operator's MALLOC_CONF with jemalloc's heap profiling on (`--native-prof DIR`): a sample
 *  every ~512 KiB allocated (a few % of the allocator's time) and a dump into DIR each time
 *  2^intervalLg bytes more have been allocated (op.PID.SEQ.iN.heap; 256 MiB: about a minute of
 *  an idle operator at 1,000 MailDomains, seconds while it creates the children). Not at exit: Node tears its heap down first when its loop ends, so that
 *  dump holds nothing. `conf` is what the operator would run with otherwise (the image's).
 *  Profiling needs jemalloc: the image preloads it. */
export function withNativeProfiling(conf: string | undefined, dir: string, preload: string | undefined, intervalLg = 28): string {
  if (!preload?.includes('jemalloc')) throw new Error(`--native-prof: the operator does not run with jemalloc (LD_PRELOAD=${JSON.stringify(preload ?? '')}); its heap profile is jemalloc's`);
  return [conf, 'prof:true', 'lg_prof_sample:19', `lg_prof_interval:${intervalLg}`, `prof_prefix:${path.join(dir, 'op')}`].filter(Boolean).join(',');
}

/** The operator's environment `env` (its `--operator-env`) with profiling added to the
 *  MALLOC_CONF it would run with (the image's unless `env` sets one); see withNativeProfiling. */
export function nativeProfilingEnv(env: Record<string, string>, dir: string): Record<string, string> {
  const allocator = { ...imageAllocatorEnv(), ...env };
  return { ...env, MALLOC_CONF: withNativeProfiling(allocator.MALLOC_CONF, dir, allocator.LD_PRELOAD) };
}

/** `--operator-env KEY=VALUE` values as an environment (an allocator setting under test, say);
 *  NODE_OPTIONS has --node-flags. */
export function operatorEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`--operator-env ${JSON.stringify(pair)}: expected NAME=VALUE (e.g. --operator-env MALLOC_ARENA_MAX=2)`);
    if (name === 'NODE_OPTIONS') throw new Error('--operator-env NODE_OPTIONS=...: give V8 flags with --node-flags (they follow the image\'s)');
    env[name] = pair.slice(eq + 1);
  }
  return env;
}

/** The image's V8 flags, then `extra`. An old-space size in `extra` replaces the image's
 *  percentage: V8 takes --max-old-space-size-percentage over --max-old-space-size whatever
 *  their order (17,065 MiB here for both, 461 MiB with the size alone). */
export function withNodeFlags(image: string[], extra: string[]): string[] {
  const sized = extra.some((f) => f.startsWith('--max-old-space-size='));
  return [...image.filter((f) => !(sized && f.startsWith('--max-old-space-size-percentage'))), ...extra];
}

const started = new Set<number>();

/** `npm run build`: the compiled JavaScript the image runs (dist/), for startBenchOperator. */
export function buildCompiled(): void {
  execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
}

/** Operator children of this process that never came up (not among the started ones). */
function killLeftovers(): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid === process.pid && /src\/cli\/main\.[tj]s/.test(cmd) && !started.has(Number(pid))) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Prometheus text format → samples (no HELP/TYPE). */
export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

/** A quantile from a cumulative histogram (`<name>_bucket`), linear within the bucket, as PromQL does. */
export function histogramQuantile(samples: Sample[], name: string, q: number, labels: Record<string, string> = {}): number {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !Object.entries(labels).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe].sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

export async function scrape(url: string): Promise<Sample[]> {
  return parseProm((await fetchText(`${url}/metrics`, 10_000)).body);
}

/** Open sockets of a process (Linux: /proc/<pid>/fd links to `socket:[…]`). */
export function openSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

export interface OperatorReading {
  rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number; lagP99Ms: number; sockets: number; handles: number;
  /** V8's heap by space (old, new, code, trusted, large_object, …), committed and in use, MiB:
   *  which space a slope of the committed heap is in (fragmentation of the old space; code
   *  compiled as the process warms up). */
  heapSpaces: Record<string, { totalMiB: number; usedMiB: number }>;
  /** Memory-reducing collections the operator ran so far, by reason (shrunk, crept). */
  heapReleases: Record<string, number>;
  /** Time those collections took, all reasons (s). */
  heapReleaseSeconds: number;
}

/** V8's heap spaces from prom-client's nodejs_heap_space_size_{total,used}_bytes (MiB). */
export function heapSpaces(samples: readonly Sample[]): Record<string, { totalMiB: number; usedMiB: number }> {
  const spaces: Record<string, { totalMiB: number; usedMiB: number }> = {};
  for (const s of samples) {
    const which = s.name === 'nodejs_heap_space_size_total_bytes' ? 'totalMiB' : s.name === 'nodejs_heap_space_size_used_bytes' ? 'usedMiB' : undefined;
    const space = s.labels.space;
    if (!which || !space) continue;
    (spaces[space] ??= { totalMiB: 0, usedMiB: 0 })[which] = s.value / 1024 / 1024;
  }
  return spaces;
}

export async function readOperator(op: OperatorProcess): Promise<OperatorReading> {
  const s = await scrape(op.metricsUrl());
  const mib = (n: number) => n / 1024 / 1024;
  return {
    rssMiB: mib(sum(s, 'process_resident_memory_bytes')),
    heapUsedMiB: mib(sum(s, 'nodejs_heap_size_used_bytes')),
    heapTotalMiB: mib(sum(s, 'nodejs_heap_size_total_bytes')),
    // Buffers and native objects V8 knows of (TLS sockets, zlib): beside RSS it tells native growth from allocator fragmentation.
    externalMiB: mib(sum(s, 'nodejs_external_memory_bytes')),
    lagP99Ms: sum(s, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    sockets: openSockets(op.child.pid!),
    handles: sum(s, 'nodejs_active_handles_total'),
    heapSpaces: heapSpaces(s),
    heapReleases: Object.fromEntries(s.filter((x) => x.name === 'mapi_operator_heap_releases_total').map((x) => [x.labels.reason ?? '', x.value])),
    heapReleaseSeconds: sum(s, 'mapi_operator_heap_release_seconds_total'),
  };
}

/** The process's peak resident set so far (the kernel's VmHWM), in MiB; 0 once it is gone. */
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, 'VmHWM');
}

/** The process's resident set now (MiB; 0 once it is gone). */
export function rssNowMiB(pid: number): number {
  return statusMiB(pid, 'VmRSS');
}

function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Lowest, median and highest of a series of readings (the RSS over a window: at 5,000
 *  MailDomains it swings ~70 MiB with the check cycle, so one reading says little). */
export function spread(values: readonly number[]): { n: number; min: number; median: number; max: number } | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, min: sorted[0]!, median, max: sorted.at(-1)! };
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  return trend(points).slope;
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** CPU seconds a process has used so far; 0 once it is gone (it uses no more). */
export function cpuSecondsOrZero(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** The CPU seconds each named process had used at one moment (processes sharing a name, such
 *  as a restarted component's, are summed). */
export interface CpuReading {
  atMs: number;
  seconds: Record<string, number>;
}

export function readCpu(procs: ReadonlyArray<{ name: string; pid: number }>, read: (pid: number) => number = cpuSecondsOrZero, now: () => number = Date.now): CpuReading {
  const seconds: Record<string, number> = {};
  for (const p of procs) seconds[p.name] = (seconds[p.name] ?? 0) + read(p.pid);
  return { atMs: now(), seconds };
}

/**
 * What each process used between two readings, and the cores all of them kept busy together.
 * A process first read in `to` started in between (its whole time counts); one that is gone by
 * `to` reads 0 there and counts 0, not a negative. On this 2-core machine both of the scale
 * benchmark's legs keep both cores busy, so the ratio of the legs' totals is the ratio of their
 * times: this is where the overhead goes.
 */
export function cpuBetween(from: CpuReading, to: CpuReading): { byProcess: Record<string, number>; total: number; cores: number } {
  const byProcess: Record<string, number> = {};
  for (const [name, s] of Object.entries(to.seconds)) byProcess[name] = Math.max(0, s - (from.seconds[name] ?? 0));
  const total = Object.values(byProcess).reduce((a, b) => a + b, 0);
  const seconds = (to.atMs - from.atMs) / 1000;
  return { byProcess, total, cores: seconds > 0 ? total / seconds : NaN };
}

export type LegCpu = ReturnType<typeof cpuBetween>;

/** The two legs' CPU side by side, the busiest process of the operator's leg first; processes
 *  under half a CPU-second in both legs are left out. */
export function legCpuCell(operatorLeg: LegCpu, rawLeg: LegCpu): string {
  const names = [...new Set([...Object.keys(operatorLeg.byProcess), ...Object.keys(rawLeg.byProcess)])]
    .filter((name) => (operatorLeg.byProcess[name] ?? 0) >= 0.5 || (rawLeg.byProcess[name] ?? 0) >= 0.5)
    .sort((x, y) => (operatorLeg.byProcess[y] ?? 0) - (operatorLeg.byProcess[x] ?? 0) || x.localeCompare(y));
  const cell = (x: number | undefined) => (x === undefined ? '–' : fmt(x, 0));
  const parts = names.map((name) => `${name} ${cell(operatorLeg.byProcess[name])} / ${cell(rawLeg.byProcess[name])}`);
  return `${parts.join('; ')}; total ${fmt(operatorLeg.total, 0)} / ${fmt(rawLeg.total, 0)} (${fmt(operatorLeg.cores, 2)} / ${fmt(rawLeg.cores, 2)} cores; ${fmt(operatorLeg.total / rawLeg.total, 2)}×)`;
}

/**
 * Whether a set of processes has gone quiet: `samples` are [time ms, their CPU seconds
 * together], oldest first; quiet when, over the last `windowMs`, they used less than
 * `maxCores` of a core on average. cert-manager keeps working through its informers'
 * notifications for minutes after its last issuance at N=5,000: a raw leg started then
 * shares the machine with it, and its time (the ratio's denominator) is not a clean one.
 */
export function quietOver(samples: ReadonlyArray<readonly [number, number]>, windowMs: number, maxCores: number): boolean {
  const last = samples[samples.length - 1];
  if (!last) return false;
  // The newest sample at least windowMs before the last one.
  let first: readonly [number, number] | undefined;
  for (const s of samples) if (last[0] - s[0] >= windowMs) first = s;
  if (!first) return false;
  return (last[1] - first[1]) / ((last[0] - first[0]) / 1000) < maxCores;
}

/** Waits (sampling every 5 s) until the processes together are quiet (quietOver) or `maxMs`
 *  has passed; says which, the time it took and the last window's cores. */
export async function waitQuiet(
  pids: number[],
  o: { windowMs: number; maxCores: number; maxMs: number; sampleMs?: number },
  // The tests pass a reader of their own: how much CPU a busy loop gets depends on the load.
  readCpuSeconds: (pid: number) => number = cpuSecondsOrZero,
): Promise<{ quiet: boolean; waitedMs: number; cores: number }> {
  const t0 = Date.now();
  const samples: Array<[number, number]> = [];
  const total = () => pids.reduce((a, p) => a + readCpuSeconds(p), 0);
  for (;;) {
    samples.push([Date.now(), total()]);
    const quiet = quietOver(samples, o.windowMs, o.maxCores);
    const waitedMs = Date.now() - t0;
    if (quiet || waitedMs >= o.maxMs) {
      const last = samples[samples.length - 1]!;
      const from = samples.find((s) => last[0] - s[0] <= o.windowMs) ?? samples[0]!;
      const cores = last[0] > from[0] ? (last[1] - from[1]) / ((last[0] - from[0]) / 1000) : NaN;
      return { quiet, waitedMs, cores };
    }
    await new Promise((r) => setTimeout(r, o.sampleMs ?? 5_000));
  }
}
