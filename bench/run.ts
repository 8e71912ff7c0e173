#!/usr/bin/env node
// `npm run bench`: the hot paths of the operator, each reported as a ratio against a baseline
// measured in the same run on the same data, so the figures compare across machines and
// loads (a ratio of 3 means "3 times the cost of the baseline"). Never a timed assertion.
import { performance } from 'node:perf_hooks';
import { parseMailDomainSpec, parseMapiServerSpec } from '../src/api/parse.ts';
import type { MailDomain } from '../src/api/maildomain.ts';
import type { MapiServer } from '../src/api/mapiserver.ts';
import { autodiscoverHosts, desiredDomainObjects, desiredServerObjects, desiredServerPodTemplate } from '../src/builders/index.ts';
import { accessListBench, accessInput } from './access-list.ts';
import { decideMailDomain } from '../src/controllers/maildomain/decide.ts';
import { decideMapiServer } from '../src/controllers/mapiserver/decide.ts';
import { domainVerdict } from '../src/gate/index.ts';
import { containsDesired, needsApply, withAppliedHash } from '../src/controllers/drift.ts';
import { WorkQueue } from '../src/kube/workqueue.ts';
import type { CheckResult } from '../src/checks/types.ts';

interface Row { name: string; baseline: string; ms: number; baseMs: number }
const rows: Row[] = [];

/** Median of `rounds` timings of fn (after a warm-up), in milliseconds. */
function time(fn: () => unknown, rounds = 7): number {
  for (let i = 0; i < 2; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

async function timeAsync(fn: () => Promise<unknown>, rounds = 5): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

function bench(name: string, baseline: string, fn: () => unknown, base: () => unknown): void {
  rows.push({ name, baseline, ms: time(fn), baseMs: time(base) });
}

const parsedOrThrow = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};
const server: MapiServer = {
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'bluemind', namespace: 'mail', uid: 's', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: parsedOrThrow(parseMapiServerSpec({ externalHost: 'mail.hoster.example', image: 'registry.example/bm-mapi:5.3.0', tls: { issuerRef: { name: 'letsencrypt' } } })),
};
function hosted(name: string, aliases: number): MailDomain {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name, namespace: 'mail', uid: `u-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: parsedOrThrow(parseMailDomainSpec({ serverRef: 'bluemind', domain: `${name}.example`, aliases: Array.from({ length: aliases }, (_, i) => `alias${i}.${name}.example`) })),
  };
}
const passing = (hosts: string[]): CheckResult[] => hosts.flatMap((h) => [
  { name: `dns/${h}`, status: 'Passed' as const, reason: 'CnameToExternalHost', message: `${h} ok`, details: {} },
  { name: `tls/${h}`, status: 'Passed' as const, reason: 'CertificateValid', message: `${h} ok`, details: {} },
]);
const readyCertificate = { ready: { status: 'True', reason: 'Ready', message: 'ok' }, current: true };

// 1a. A MailDomain's whole decision (100 aliases), against copying its inputs.
const md = hosted('example-com', 100);
const mdHosts = autodiscoverHosts(md.spec).map((h) => h.host);
const mdInputs = {
  md, server, claim: { owned: mdHosts, conflicts: [] }, issuer: {}, certificate: readyCertificate,
  checks: { results: passing(mdHosts), checkedAt: new Date() }, now: new Date(), options: { allowClusterIssuers: true },
};
bench('decideMailDomain, 100 aliases', 'structuredClone(inputs)', () => decideMailDomain(mdInputs), () => structuredClone(mdInputs));

// 1b. A hoster's server decision: the gate over 1,000 hosted domains and the access list of
// 20,000 mailboxes, against copying its inputs.
const domainCount = 1_000;
const standings = Array.from({ length: domainCount }, (_, i) => {
  const d = hosted(`d${i}`, 1);
  const hosts = autodiscoverHosts(d.spec);
  const verdict = domainVerdict(passing(hosts.map((h) => h.host)), { require: 'Any', autodiscoverHosts: hosts, certificate: { name: 'certificate', status: 'Passed', reason: 'Ready', message: 'ok', details: {} } });
  return { name: d.metadata.name, domain: d.spec.domain, accepted: true, verdict, httpResults: [] };
});
const serverInputs = {
  server, externalHostClaim: { owned: true }, issuer: {}, certificate: readyCertificate,
  checks: { results: passing([server.spec.externalHost]), checkedAt: new Date() },
  domains: standings, access: accessInput(20_000), now: new Date(), options: { allowClusterIssuers: true, progressDeadlineMs: 600_000 },
};
bench(`decideMapiServer, ${domainCount} domains, 20,000 mailboxes`, 'structuredClone(inputs)', () => decideMapiServer(serverInputs), () => structuredClone(serverInputs));

// 2. The access list at 10, 10,000 and 100,000 mailboxes, against JSON.stringify of the same
// map (bench/access-list.ts samples both alternately, so they see the same machine load).
const accessList = accessListBench();
rows.push(...accessList.rows);

// 3. Drift detection on every child of a MapiServer (10,000 mailboxes) and of a MailDomain with
// 100 aliases, against a JSON round trip of them.
const hostedDomain = (() => {
  const parsed = parseMailDomainSpec({ serverRef: 'bluemind', domain: 'example.com', aliases: Array.from({ length: 100 }, (_, i) => `alias${i}.example.org`) });
  if (!parsed.ok) throw new Error(parsed.message);
  return { apiVersion: 'mapi-operator.io/v1alpha2' as const, kind: 'MailDomain' as const, metadata: { name: 'example-com', namespace: 'mail', uid: 'd' }, spec: parsed.value };
})();
const children = [
  ...desiredServerObjects({ server, exposeExternalHost: true, deployment: { replicas: 2, template: desiredServerPodTemplate(server, { gatekeeperImage: 'registry.example/mapi-operator:0.2.0' }) }, access: accessInput(10_000) }),
  ...desiredDomainObjects({ md: hostedDomain, server, hosts: autodiscoverHosts(hostedDomain.spec).map((h) => h.host) }),
].map((o) => withAppliedHash(o as { metadata?: { annotations?: Record<string, string> } }));
const live = structuredClone(children);
bench(`needsApply over ${children.length} children`, 'JSON.stringify(children) x2', () => children.every((c, i) => !needsApply(c, live[i])), () => JSON.stringify(children) === JSON.stringify(live));
bench(`containsDesired over ${children.length} children`, 'JSON.stringify(children) x2', () => children.every((c, i) => containsDesired(c, live[i])), () => JSON.stringify(children) === JSON.stringify(live));

// 4. Work queue: 10,000 keys through add/get/done, against an array used as a FIFO.
const keys = Array.from({ length: 10_000 }, (_, i) => `ns/key-${i}`);
const queueMs = await timeAsync(async () => {
  const q = new WorkQueue({ name: 'bench' });
  for (const k of keys) { q.add(k); q.add(k); }
  for (let i = 0; i < keys.length; i++) { const k = await q.get(); q.done(k!); }
  await q.shutDown();
});
const arrayMs = await timeAsync(async () => {
  const a: string[] = [];
  const seen = new Set<string>();
  for (const k of keys) for (let j = 0; j < 2; j++) if (!seen.has(k)) { seen.add(k); a.push(k); }
  while (a.length) { const k = a.shift()!; seen.delete(k); await Promise.resolve(k); }
});
rows.push({ name: 'work queue, 10,000 keys added twice', baseline: 'array + set FIFO', ms: queueMs, baseMs: arrayMs });

const w = Math.max(...rows.map((r) => r.name.length));
const b = Math.max(...rows.map((r) => r.baseline.length));
console.log(`${'benchmark'.padEnd(w)}  ${'baseline'.padEnd(b)}  ${'ms'.padStart(9)}  ${'base ms'.padStart(9)}  ratio`);
for (const r of rows) {
  console.log(`${r.name.padEnd(w)}  ${r.baseline.padEnd(b)}  ${r.ms.toFixed(3).padStart(9)}  ${r.baseMs.toFixed(3).padStart(9)}  ${(r.ms / r.baseMs).toFixed(2)}x`);
}

console.log(`\naccess list of one MapiServer:\n${accessList.lines.join('\n')}`);
