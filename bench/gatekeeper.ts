#!/usr/bin/env node
// `npm run bench:gatekeeper [-- --quick]`: what the gatekeeper costs, as ratios against a direct
// connection to the same MAPI test server in the same run (never a timed test):
//   1. p50/p99 latency of short MAPI requests (PING) at 500 requests/s, open loop, keep-alive;
//   2. throughput of a 10 MiB streamed Execute answer;
//   3. the gatekeeper's RSS with idle NotificationWait long polls (10,000; see LONG_POLLS).
// Server, gatekeeper and load run in separate processes on loopback, as in a pod.
// Goals: p99 overhead <= 2 ms, throughput >= 0.8x direct, <= 150 MiB at 10,000 long polls.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GATEKEEPER_NODE_OPTIONS } from '../src/builders/gatekeeper.ts';
import { cpuSeconds } from './measure.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The gatekeeper runs as the image runs it: compiled JavaScript, not type-stripped TypeScript
// (type stripping alone adds about 25 MiB of RSS). Only its own modules are compiled, under
// node_modules/.cache so its imports resolve.
const BUILD = join(ROOT, 'node_modules/.cache/gatekeeper-bench');

async function compileGatekeeper(): Promise<string> {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [tsc, '--strict', '--target', 'es2024', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck',
    '--rewriteRelativeImportExtensions', '--allowImportingTsExtensions', '--verbatimModuleSyntax', '--outDir', BUILD, '--rootDir', ROOT,
    join(ROOT, 'src/cli/gatekeeper-command.ts')];
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).once('exit', resolve));
  if (code !== 0) throw new Error(`compiling the gatekeeper failed (tsc exit ${code})`);
  return join(BUILD, 'src/cli/gatekeeper-command.js');
}
const PASSWORD = 'bench-password';
const auth = (user: string) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}`;
const USER = 'user0@example.com';


// GATEKEEPER_BENCH_NODE_OPTIONS compares other V8 settings against the shipped ones.
const NODE_OPTS = process.env.GATEKEEPER_BENCH_NODE_OPTIONS ?? GATEKEEPER_NODE_OPTIONS;
const BARE_PROXY = `import http from 'node:http';
const [port, up] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const u = http.request({ host: '127.0.0.1', port: up, method: req.method, path: req.url, headers: req.rawHeaders, agent }, (ur) => { res.writeHead(ur.statusCode, ur.rawHeaders); ur.pipe(res); });
  u.on('error', () => res.destroy());
  res.on('close', () => { if (!res.writableFinished) u.destroy(); });
  req.pipe(u);
}).listen(port, '127.0.0.1');`;

// ---- roles (child processes) --------------------------------------------------------------

async function serverRole(): Promise<void> {
  const { startFramingServer } = await import('../src/dev/mapi-framing-server.ts');
  const users = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`user${i}@example.com`, PASSWORD]));
  const server = await startFramingServer({ users, pendingMs: 30_000, waitMs: 300_000 });
  process.stdout.write(`${JSON.stringify({ port: server.port, mailboxId: server.mailboxIdOf(USER) })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

/** Opens `count` NotificationWait long polls, each on its own connection, and holds them. */
async function longPollRole(): Promise<void> {
  const [, , , url, path, cookie, countText] = process.argv;
  const count = Number(countText);
  let started = 0;
  let failed = 0;
  const open = () => new Promise<void>((resolve) => {
    const req = http.request(`${url}${path}`, {
      method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/mapi-http', 'X-RequestType': 'NotificationWait', 'X-RequestId': '{0}:1', 'X-ClientInfo': '{0}:1', Authorization: auth(USER), Cookie: cookie!, 'Content-Length': '0' },
    }, (res) => {
      started++;
      res.resume();
      resolve();
    });
    req.setTimeout(60_000, () => req.destroy());
    req.on('error', () => { failed++; resolve(); });
    req.end();
  });
  // Batches: a burst of thousands of SYNs at once would overflow the listen backlog.
  for (let i = 0; i < count; i += 250) await Promise.all(Array.from({ length: Math.min(250, count - i) }, open));
  process.stdout.write(`${JSON.stringify({ started, failed })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

// ---- the run ------------------------------------------------------------------------------

// Every process this run starts ends with it, even when the run fails half-way.
const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

function child(args: string[], env: NodeJS.ProcessEnv = {}): { proc: ChildProcess; line: Promise<string> } {
  const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const line = new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    proc.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code} before answering`)));
  });
  line.catch(() => undefined); // awaited only for processes that answer
  return { proc, line };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

function post(agent: http.Agent, url: string, headers: Record<string, string>): Promise<{ headers: http.IncomingHttpHeaders; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Length': '0', ...headers } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ headers: res.headers, bytes }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end();
  });
}

const mapiHeaders = (type: string, extra: Record<string, string> = {}) => ({
  'Content-Type': 'application/mapi-http', 'X-RequestType': type, 'X-RequestId': '{E2EA4C8A-6C5F-4E5F-8B6A-1F2D3C4B5A69}:1',
  'X-ClientInfo': '{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1', 'X-ClientApplication': 'Outlook/16.0.17928.20114', Authorization: auth(USER), ...extra,
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Open loop at `rate` requests/s for `seconds`; latency of each request in ms. */
async function openLoop(agent: http.Agent, url: string, rate: number, seconds: number, record: number[] | undefined): Promise<void> {
  const t0 = performance.now();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) {
      const start = performance.now();
      const p = post(agent, url, mapiHeaders('PING')).then(() => { record?.push(performance.now() - start); });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
}

/** Direct and through the gatekeeper in alternating 1 s slices, so a busy machine weighs on both alike. */
async function latency(direct: string, through: string, rate: number, seconds: number): Promise<{ d: { p50: number; p99: number; n: number }; g: { p50: number; p99: number; n: number } }> {
  const da = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const ga = new http.Agent({ keepAlive: true, maxSockets: 64 });
  await openLoop(da, direct, rate, 1, undefined);
  await openLoop(ga, through, rate, 1, undefined);
  const ds: number[] = [];
  const gs: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await openLoop(da, direct, rate, 1, ds);
    await openLoop(ga, through, rate, 1, gs);
  }
  da.destroy();
  ga.destroy();
  const stats = (x: number[]) => {
    x.sort((a, b) => a - b);
    return { p50: percentile(x, 50), p99: percentile(x, 99), n: x.length };
  };
  return { d: stats(ds), g: stats(gs) };
}

/** Median MiB/s of `rounds` 10 MiB Execute answers. */
async function throughput(url: string, cookie: string, rounds: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const size = 10 * 1024 * 1024;
  const rates: number[] = [];
  for (let i = 0; i < rounds + 1; i++) {
    const t = performance.now();
    const r = await post(agent, url, mapiHeaders('Execute', { Cookie: cookie, 'X-Test-Response-Bytes': String(size) }));
    if (r.bytes < size) throw new Error(`got ${r.bytes} of ${size} bytes`);
    if (i > 0) rates.push(r.bytes / 1048576 / ((performance.now() - t) / 1000));
  }
  agent.destroy();
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

function rssMiB(pid: number): number {
  if (!existsSync(`/proc/${pid}/status`)) throw new Error(`process ${pid} is gone (see its output above)`);
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function openLongPolls(url: string, path: string, cookie: string, total: number, processes: number): Promise<{ procs: ChildProcess[]; started: number }> {
  const per = Math.ceil(total / processes);
  const kids = Array.from({ length: processes }, (_, i) => child([SELF, '--role-longpolls', url, path, cookie, String(Math.min(per, total - i * per))]));
  const results = await Promise.all(kids.map((k) => k.line.then((l) => JSON.parse(l) as { started: number; failed: number })));
  return { procs: kids.map((k) => k.proc), started: results.reduce((s, r) => s + r.started, 0) };
}

async function main(quick: boolean): Promise<void> {
  const rate = 500;
  const seconds = quick ? 5 : 20;
  // The gatekeeper holds two descriptors per long poll (client and server side). This machine's
  // hard limit is `ulimit -Hn`; below 20,100 the full run measures 9,500 polls and extrapolates
  // linearly from two sizes to 10,000 (stated in the output).
  const target = quick ? 1000 : 10_000;
  const hardLimit = Number(await new Promise<string>((resolve) => {
    const p = spawn('sh', ['-c', 'ulimit -Hn'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('close', () => resolve(out.trim()));
  }));
  let polls = quick ? target : Math.min(target, Math.floor((hardLimit - 1000) / 2 / 100) * 100);

  const accessDir = mkdtempSync(join(tmpdir(), 'gk-bench-'));
  const server = child([SELF, '--role-server']);
  const { port: serverPort, mailboxId } = JSON.parse(await server.line) as { port: number; mailboxId: string };
  // An access list of 10,000 mailboxes, so the lookups are the real size.
  const { accessFiles } = await import('../test/integration/gatekeeper/harness.ts');
  const mailboxes = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`user${i}@example.com`, i % 10 !== 5]));
  const files = accessFiles({ domains: { 'example.com': true, 'other.example': false }, mailboxes, shards: 4 });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(accessDir, name), text);

  const gkPort = await freePort();
  const gkMetrics = await freePort();
  const entry = await compileGatekeeper();
  const launcher = `const m = await import(${JSON.stringify(entry)}); process.exitCode = await m.gatekeeperCommand(process.argv.slice(1));`;
  const gk = child(['--input-type=module', '-e', launcher, '--', '--listen-port', String(gkPort), '--upstream-port', String(serverPort), '--access-dir', accessDir, '--metrics-port', String(gkMetrics), '--log-level', 'warn', '--drain-timeout', '1s'], { NODE_OPTIONS: NODE_OPTS });
  // For the memory profile: the smallest node:http reverse proxy (no decisions, no metrics), same
  // Node options. What it costs per long poll is node:http's, not the gatekeeper's.
  const barePort = await freePort();
  const bare = child(['--input-type=module', '-e', BARE_PROXY, '--', String(barePort), String(serverPort)], { NODE_OPTIONS: NODE_OPTS });
  const direct = `http://127.0.0.1:${serverPort}`;
  const through = `http://127.0.0.1:${gkPort}`;
  const path = `/mapi/emsmdb/?MailboxId=${mailboxId}@example.com`;
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 30_000;
    const tryIt = () => {
      const s = net.connect(gkPort, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => (Date.now() > deadline ? reject(new Error('gatekeeper did not start')) : setTimeout(tryIt, 100)));
    };
    tryIt();
  });
  // Through the gatekeeper once: it learns the MailboxId from Autodiscover, as with Outlook.
  await new Promise<void>((resolve, reject) => {
    const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${USER}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
    const req = http.request(`${through}/autodiscover/autodiscover.xml`, { method: 'POST', agent: false, headers: { Authorization: auth(USER), 'X-MapiHttpCapability': '1', 'Content-Type': 'text/xml' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
  const agent = new http.Agent({ keepAlive: false });
  const connect = await post(agent, `${through}${path}`, mapiHeaders('Connect'));
  if (connect.headers['x-responsecode'] !== '0') throw new Error(`Connect through the gatekeeper: X-ResponseCode ${String(connect.headers['x-responsecode'])}`);
  const cookie = String(connect.headers['set-cookie']).split(';')[0]!;

  const out: string[] = [];
  const line = (s: string) => { out.push(s); process.stdout.write(`${s}\n`); };
  line(`gatekeeper bench (${quick ? 'quick' : 'full'}): loopback, server/gatekeeper/load in separate processes, 10,000-mailbox access list`);

  const load = () => (readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?');
  line(`machine: ${(await import('node:os')).cpus().length} CPUs, load average ${load()} at the start`);
  const idleAtStart = rssMiB(gk.proc.pid!);
  const cpu0 = { gk: cpuSeconds(gk.proc.pid!), server: cpuSeconds(server.proc.pid!) };
  const { d, g } = await latency(`${direct}${path}`, `${through}${path}`, rate, seconds);
  const cpu = { gk: cpuSeconds(gk.proc.pid!) - cpu0.gk, server: cpuSeconds(server.proc.pid!) - cpu0.server };
  line(`latency @${rate}/s, ${g.n} PINGs each: direct p50 ${d.p50.toFixed(2)} ms p99 ${d.p99.toFixed(2)} ms | gatekeeper p50 ${g.p50.toFixed(2)} ms p99 ${g.p99.toFixed(2)} ms | overhead p50 ${(g.p50 - d.p50).toFixed(2)} ms p99 ${(g.p99 - d.p99).toFixed(2)} ms (goal p99 <= 2 ms) ratio p99 ${(g.p99 / d.p99).toFixed(2)}x`);

  // Every PING ran once direct and once through the gatekeeper (plus the warm-up seconds).
  const served = 2 * (d.n + g.n + 2 * rate);
  const gkPer = (cpu.gk / (g.n + rate)) * 1e6;
  const serverPer = (cpu.server / (served / 2)) * 1e6;
  line(`CPU per PING: server ${serverPer.toFixed(0)} µs | gatekeeper ${gkPer.toFixed(0)} µs | ratio ${(gkPer / serverPer).toFixed(2)}x (a load-independent view of the overhead)`);
  const rounds = quick ? 3 : 7;
  const td = await throughput(`${direct}${path}`, cookie, rounds);
  const tg = await throughput(`${through}${path}`, cookie, rounds);
  line(`10 MiB streamed answer, median of ${rounds}: direct ${td.toFixed(0)} MiB/s | gatekeeper ${tg.toFixed(0)} MiB/s | ratio ${(tg / td).toFixed(2)}x (goal >= 0.8x)`);

  const gkPid = gk.proc.pid!;
  const idle = rssMiB(gkPid);
  line(`gatekeeper RSS idle: ${idleAtStart.toFixed(0)} MiB at start, ${idle.toFixed(0)} MiB after the latency and throughput runs (NODE_OPTIONS=${NODE_OPTS})`);
  const measure = async (url: string, pid: number, n: number) => {
    const { procs, started } = await openLongPolls(url, path, cookie, n, quick ? 1 : 3);
    await new Promise((r) => setTimeout(r, 2000));
    const rss = rssMiB(pid);
    for (const p of procs) p.stdin!.end();
    await Promise.all(procs.map((p) => new Promise((r) => p.once('exit', r))));
    await new Promise((r) => setTimeout(r, 2000));
    return { started, rss };
  };
  const report = async (name: string, url: string, pid: number) => {
    const before = rssMiB(pid);
    const half = await measure(url, pid, Math.floor(polls / 2));
    const full = await measure(url, pid, polls);
    const perPollKiB = ((full.rss - half.rss) / (full.started - half.started)) * 1024;
    const at10k = full.rss + ((10_000 - full.started) * perPollKiB) / 1024;
    line(`RSS ${name}: before ${before.toFixed(0)} MiB | ${half.started} long polls ${half.rss.toFixed(0)} MiB | ${full.started} long polls ${full.rss.toFixed(0)} MiB | ~${perPollKiB.toFixed(1)} KiB per poll${full.started < 10_000 ? ` | 10,000 extrapolated ${at10k.toFixed(0)} MiB (descriptor limit ${hardLimit} allows ${polls})` : ''}`);
  };
  if (process.argv.includes('--no-rss')) polls = 0;
  if (polls > 0) await report('gatekeeper', through, gkPid);
  if (polls > 0) await report('bare node:http proxy (profile baseline)', `http://127.0.0.1:${barePort}`, bare.proc.pid!);
  line('goal: gatekeeper <= 150 MiB at 10,000 long polls');

  gk.proc.kill('SIGTERM');
  bare.proc.kill('SIGTERM');
  server.proc.stdin!.end();
  await Promise.all([gk.proc, bare.proc, server.proc].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  rmSync(accessDir, { recursive: true, force: true });
}

const role = process.argv[2];
if (role === '--role-server') await serverRole();
else if (role === '--role-longpolls') await longPollRole();
else await main(process.argv.includes('--quick'));
