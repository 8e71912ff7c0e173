// Soak: steady churn of MailDomains and Mailboxes under one MapiServer for a fixed time,
// sampling the operator's RSS, heap, open sockets and event-loop lag every minute, then
// reporting the slope of each (per hour, with a 95 % interval) over the whole run, after a
// warm-up and over the last hour (bench/soak-report.ts, which also reads a saved run again).
//
//   npm run soak -- --minutes 120 [--tick 15s] [--live 20] [--mailboxes 5] [--out file.json]
//                   [--heap-snapshots 60,115 --snapshot-dir DIR] [--from-source]
//
// Every tick: one MailDomain created (with its Mailboxes), one changed (an alias toggled),
// one Mailbox's MAPI switched, and the oldest MailDomain (and its Mailboxes) deleted once
// more than --live exist. Checks run every 30 s against BIND and the front, so the check
// path (DNS, TLS, HTTP) churns too. The operator must never exit.
//
// --heap-snapshots: the operator writes a V8 heap snapshot at each of those minutes (into
// --snapshot-dir); `node bench/memory/heap-summary.ts --diff A B` then names what grew between
// two of them, the way to find what a heap slope is made of. Writing one costs the operator
// native memory it keeps (RSS +100 MiB at 20 MailDomains): RSS slopes are then reported only up
// to the first snapshot; the JS heap figures are not affected.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { freshNamespace } from '../src/dev/kube.ts';
import { waitFor } from '../src/dev/wait.ts';
import { e2eDomain, e2eMailbox, e2eServer, toFront, type Zones } from '../src/dev/world.ts';
import { buildCompiled, fmt, readOperator, startBenchOperator, startBenchWorld, type OperatorReading } from './scale/harness.ts';
import { soakTable, type SoakSample } from './soak-report.ts';
import { readRssSplit } from './scale/rss-split.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '120' },
    tick: { type: 'string', default: '15' },
    live: { type: 'string', default: '20' },
    mailboxes: { type: 'string', default: '5' },
    'sample-seconds': { type: 'string', default: '60' },
    out: { type: 'string' },
    'heap-snapshots': { type: 'string' },
    'snapshot-dir': { type: 'string', default: 'soak-snapshots' },
    // The operator runs compiled (`npm run build`), as the image runs it, unless this.
    'from-source': { type: 'boolean', default: false },
  },
});
const positive = (flag: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} ${v}: pass a positive number`);
  return n;
};
const minutes = positive('minutes', values.minutes);
const tickMs = positive('tick', values.tick) * 1000;
const live = positive('live', values.live);
const perDomain = positive('mailboxes', values.mailboxes);
const sampleMs = positive('sample-seconds', values['sample-seconds']) * 1000;
const snapshotMinutes = (values['heap-snapshots'] ?? '').split(',').filter(Boolean).map((m) => positive('heap-snapshots', m)).sort((a, b) => a - b);
const snapshotDir = path.resolve(values['snapshot-dir']!);
if (snapshotMinutes.length) mkdirSync(snapshotDir, { recursive: true });

const ns = 'soak';
const POOL = live * 3; // domain names are reused round-robin; their zones exist from the start
const domainName = (i: number) => `d${i % POOL}.soak.test`;
const zones: Zones = { 'hoster.test': toFront('mail') };
for (let i = 0; i < POOL; i++) zones[domainName(i)] = toFront('autodiscover');

const compiled = !values['from-source'];
if (compiled) buildCompiled();
const bw = await startBenchWorld(zones, { label: 'soak' });
const { world } = bw;
const k = world.k;
await freshNamespace(k, ns);
await world.publishCa(ns);
await k.apply(e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.hoster.test', nameserver: world.dns.nameserver, domains: 'Any', replicas: 1 }));
const op = await startBenchOperator(bw, {
  namespaces: [ns], name: 'soak', compiled,
  ...(snapshotMinutes.length ? { nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] } : {}),
});

// The RSS split (files / malloc's arenas / other anonymous mappings) says which part a slope is
// in: glibc's fragmentation shows in malloc's, V8's pages in the other anonymous ones (with
// jemalloc's, which the image preloads: the split cannot tell those two apart).
interface Row extends OperatorReading, Omit<SoakSample, 'heapSpaces'> { liveDomains: number; created: number; deleted: number; changes: number; apiRequests: number }
const rows: Row[] = [];
const alive: number[] = [];
let created = 0;
let deleted = 0;
let changes = 0;
let failures = 0;
let firstSnapshotMinute: number | undefined;
const started = Date.now();
const endAt = started + minutes * 60_000;

const apiRequests = () => [...bw.proxy.counts().values()].reduce((a, b) => a + b, 0);
async function sample(): Promise<void> {
  const r = await readOperator(op);
  const split = readRssSplit(op.child.pid!);
  const row: Row = {
    minute: (Date.now() - started) / 60_000, liveDomains: alive.length, created, deleted, changes, apiRequests: apiRequests(), ...r,
    fileMiB: split?.fileMiB ?? NaN, mallocMiB: split?.mallocMiB ?? NaN, anonymousMiB: split?.anonymousMiB ?? NaN,
  };
  rows.push(row);
  process.stdout.write(`${fmt(row.minute)} min: ${alive.length} live domains, RSS ${fmt(r.rssMiB)} MiB (files ${fmt(row.fileMiB)}, malloc ${fmt(row.mallocMiB)}, other anonymous ${fmt(row.anonymousMiB)}), heap ${fmt(r.heapUsedMiB)}/${fmt(r.heapTotalMiB)} MiB, external ${fmt(r.externalMiB)} MiB, sockets ${r.sockets}, lag p99 ${fmt(r.lagP99Ms)} ms, ${row.apiRequests} API requests; committed/used by space: ${spacesNote(r)}; memory-reducing collections ${JSON.stringify(r.heapReleases)}\n`);
}

const spacesNote = (r: OperatorReading) => Object.entries(r.heapSpaces).filter(([, v]) => v.totalMiB >= 1).map(([space, v]) => `${space} ${fmt(v.totalMiB)}/${fmt(v.usedMiB)}`).join(', ');

const domainManifest = (i: number, alias: boolean) =>
  e2eDomain({ name: `d${i}`, namespace: ns, server: 'hoster', domain: domainName(i), aliases: alias ? [`alt-${domainName(i)}`] : [] });

async function tick(i: number): Promise<void> {
  // Create one domain with its Mailboxes.
  await k.apply({ apiVersion: 'v1', kind: 'List', items: [domainManifest(i, false), ...Array.from({ length: perDomain }, (_, m) => e2eMailbox({ name: `d${i}-u${m}`, namespace: ns, domainRef: `d${i}`, address: `u${m}@${domainName(i)}` }))] });
  alive.push(i);
  created++;
  // Change a random live one: toggle its alias and one Mailbox's MAPI switch.
  const j = alive[Math.floor(Math.random() * alive.length)]!;
  await k.apply(domainManifest(j, (i & 1) === 0));
  await k.apply(e2eMailbox({ name: `d${j}-u0`, namespace: ns, domainRef: `d${j}`, address: `u0@${domainName(j)}`, mapiEnabled: (i & 1) === 1 }));
  changes += 2;
  // Delete the oldest beyond the live target.
  while (alive.length > live) {
    const old = alive.shift()!;
    await k.ok(['delete', 'mailbox', '-n', ns, ...Array.from({ length: perDomain }, (_, m) => `d${old}-u${m}`), '--wait=false', '--ignore-not-found']);
    await k.ok(['delete', 'maildomain', '-n', ns, `d${old}`, '--wait=false', '--ignore-not-found']);
    deleted++;
  }
}

let exitCode = 0;
try {
  await sample();
  let nextSample = Date.now() + sampleMs;
  for (let i = 0; Date.now() < endAt; i++) {
    const tickStart = Date.now();
    try {
      await tick(i);
    } catch (err) {
      failures++;
      process.stderr.write(`tick ${i} failed: ${(err as Error).message}\n`);
    }
    if (op.child.exitCode !== null) throw new Error(`the operator exited with ${op.child.exitCode} (log ${op.logFile})`);
    while (Date.now() >= nextSample) {
      await sample();
      nextSample += sampleMs;
    }
    if (snapshotMinutes.length && Date.now() - started >= snapshotMinutes[0]! * 60_000) {
      // The operator pauses while it writes one (seconds for a ~100 MiB heap).
      process.stdout.write(`heap snapshot at minute ${fmt((Date.now() - started) / 60_000)} into ${snapshotDir}\n`);
      op.child.kill('SIGUSR2');
      firstSnapshotMinute ??= (Date.now() - started) / 60_000;
      snapshotMinutes.shift();
    }
    await delay(Math.max(0, tickMs - (Date.now() - tickStart)));
  }
  await sample();
  // After the churn: every live domain reconciled for its generation (nothing lost).
  await waitFor(async () => {
    const mds = await k.json<{ items: { metadata: { name: string; generation: number }; status?: { observedGeneration?: number } }[] }>(['get', 'maildomains', '-n', ns]);
    return mds.items.length === alive.length && mds.items.every((m) => m.status?.observedGeneration === m.metadata.generation);
  }, { describe: `the ${alive.length} live MailDomains reconciled after the churn`, timeoutMs: 180_000, intervalMs: 2_000 });
} catch (err) {
  exitCode = 1;
  process.stderr.write(`soak failed: ${(err as Error).stack}\n`);
} finally {
  const lines = [
    `soak: ${fmt(rows.at(-1)?.minute ?? 0)} min of churn (tick ${tickMs / 1000} s, ${live} live MailDomains × ${perDomain} Mailboxes): ${created} created, ${deleted} deleted, ${changes} changes, ${failures} failed ticks; operator ${op.child.exitCode === null ? 'still running' : `exited ${op.child.exitCode}`}`,
    `memory-reducing collections (the operator's heap release, by reason): ${JSON.stringify(rows.at(-1)?.heapReleases ?? {})}`,
    '',
    ...soakTable(rows, firstSnapshotMinute),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (values.out) writeFileSync(values.out, JSON.stringify({ minutes, tickMs, live, perDomain, created, deleted, changes, failures, firstSnapshotMinute, rows, summary: lines }, null, 2));
  await op.stop();
  await k(['delete', 'namespace', ns, '--wait=false']);
  await bw.stop();
  process.exit(exitCode);
}
