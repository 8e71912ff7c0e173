// The access list of one MapiServer at 10, 10,000 and 100,000 mailboxes: how many ConfigMaps
// and bytes it takes, and what building it costs as a ratio against JSON.stringify of the same
// address → flag map, measured in the same run on the same data. Run alone with
// `node bench/access-list.ts`, or as part of `npm run bench`.
import { performance } from 'node:perf_hooks';
import type { MapiServer } from '../src/api/mapiserver.ts';
import { parseMapiServerSpec } from '../src/api/parse.ts';
import { desiredAccessConfigMaps, entryAddress, entryMapiEnabled, type AccessListInput } from '../src/builders/access.ts';

export interface BenchRow { name: string; baseline: string; ms: number; baseMs: number }

export const SIZES = [10, 10_000, 100_000];

function server(): MapiServer {
  const parsed = parseMapiServerSpec({ externalHost: 'mail.hoster.example', image: 'registry.example/bm-mapi:5.3.0', tls: { issuerRef: { name: 'letsencrypt' } } });
  if (!parsed.ok) throw new Error(parsed.message);
  return { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'bluemind', namespace: 'mail', uid: 'u' }, spec: parsed.value };
}

/** Mailboxes over three domains, names shaped like real ones (first.last), every 7th switched off. */
export function accessInput(n: number): AccessListInput {
  const domains = ['example.com', 'example.org', 'tenant-0042.hoster.example'];
  return {
    domains: [
      { name: 'example-com', domains: ['example.com', 'example.org'], mapiEnabled: true },
      { name: 'tenant-0042', domains: ['tenant-0042.hoster.example'], mapiEnabled: true },
    ],
    mailboxes: Array.from({ length: n }, (_, i) => ({ address: `first${i}.last${i % 997}@${domains[i % 3]}`, mapiEnabled: i % 7 !== 0 })),
  };
}

/**
 * Median milliseconds per call of `fn` and of `base`, sampled alternately so both see the same
 * machine load (the ratio is the figure; the milliseconds only say how large the work is).
 * Each sample repeats a call until it lasts about 5 ms, so tiny inputs are above timer noise.
 */
export function compareMs(fn: () => unknown, base: () => unknown, rounds = 9): { ms: number; baseMs: number } {
  const repeats = (f: () => unknown) => {
    const t = performance.now();
    f();
    return Math.max(1, Math.ceil(5 / Math.max(performance.now() - t, 0.001)));
  };
  const sample = (f: () => unknown, k: number) => {
    const t = performance.now();
    for (let i = 0; i < k; i++) f();
    return (performance.now() - t) / k;
  };
  fn(); base();
  const kFn = repeats(fn);
  const kBase = repeats(base);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(sample(fn, kFn));
    b.push(sample(base, kBase));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { ms: median(a), baseMs: median(b) };
}

export interface AccessListFigures { rows: BenchRow[]; lines: string[] }

export function accessListBench(): AccessListFigures {
  const s = server();
  const rows: BenchRow[] = [];
  const lines = ['mailboxes  ConfigMaps  shards  total KiB  largest ConfigMap KiB  (ConfigMap limit 1024 KiB, shard target < 256 KiB)'];
  for (const n of SIZES) {
    const input = accessInput(n);
    const flat = Object.fromEntries(input.mailboxes.map((m) => [entryAddress(m), entryMapiEnabled(m)]));
    rows.push({
      name: `access list, ${n.toLocaleString('en')} mailboxes`,
      baseline: 'JSON.stringify(map)',
      // A new input object each call: the builder keeps what it built for an input it saw.
      ...compareMs(() => desiredAccessConfigMaps(s, { ...input }), () => JSON.stringify(flat)),
    });
    const cms = desiredAccessConfigMaps(s, input);
    const sizes = cms.map((cm) => Object.entries(cm.data ?? {}).reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v), 0));
    const shards = cms.length === 1 ? 1 : cms.length - 1;
    const kib = (b: number) => (b / 1024).toFixed(1);
    lines.push(`${n.toLocaleString('en').padStart(9)}  ${String(cms.length).padStart(10)}  ${String(shards).padStart(6)}  ${kib(sizes.reduce((a, b) => a + b, 0)).padStart(9)}  ${kib(Math.max(...sizes)).padStart(21)}`);
  }
  return { rows, lines };
}

export function formatRows(rows: BenchRow[]): string[] {
  const w = Math.max(...rows.map((r) => r.name.length));
  const b = Math.max(...rows.map((r) => r.baseline.length));
  return [
    `${'benchmark'.padEnd(w)}  ${'baseline'.padEnd(b)}  ${'ms'.padStart(9)}  ${'base ms'.padStart(9)}  ratio`,
    ...rows.map((r) => `${r.name.padEnd(w)}  ${r.baseline.padEnd(b)}  ${r.ms.toFixed(3).padStart(9)}  ${r.baseMs.toFixed(3).padStart(9)}  ${(r.ms / r.baseMs).toFixed(2)}x`),
  ];
}

if (import.meta.main) {
  const { rows, lines } = accessListBench();
  console.log([...formatRows(rows), '', ...lines].join('\n'));
}
