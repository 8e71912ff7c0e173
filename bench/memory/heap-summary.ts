// Summarises a V8 heap snapshot (node --heapsnapshot-signal=SIGUSR2, v8.writeHeapSnapshot):
// self size by constructor, strings by value (how much repeated strings cost), and the
// retained size of the biggest Maps (informer stores, memo caches) found by dominators
// being too costly here, by the size of what each Map's table holds directly.
//
//   node bench/memory/heap-summary.ts <file.heapsnapshot> [--top 30]
//   node bench/memory/heap-summary.ts --diff <earlier.heapsnapshot> <later.heapsnapshot> [--top 30]
//     what grew between two snapshots of the same process: by constructor, and which string
//     values gained copies (a slow leak shows as a few kinds growing by one entry per churn).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSummary {
  totalBytes: number;
  byConstructor: Array<{ name: string; count: number; bytes: number }>;
  strings: { count: number; bytes: number; distinct: number; duplicateBytes: number; topRepeated: Array<{ value: string; count: number; bytes: number }> };
}

export interface HeapGrowth {
  totalBytes: number;
  byConstructor: Array<{ name: string; count: number; bytes: number }>;
  strings: Array<{ value: string; count: number; bytes: number }>;
}

/** Differences later − earlier, largest growth first. */
export function growth(earlier: string, later: string, top = 30): HeapGrowth {
  const a = summarise(earlier, Number.MAX_SAFE_INTEGER);
  const b = summarise(later, Number.MAX_SAFE_INTEGER);
  const delta = <T extends { count: number; bytes: number }>(before: Map<string, T>, after: Map<string, T>) => {
    const out: Array<{ key: string; count: number; bytes: number }> = [];
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const x = before.get(key);
      const y = after.get(key);
      out.push({ key, count: (y?.count ?? 0) - (x?.count ?? 0), bytes: (y?.bytes ?? 0) - (x?.bytes ?? 0) });
    }
    return out.sort((p, q) => q.bytes - p.bytes).slice(0, top);
  };
  return {
    totalBytes: b.totalBytes - a.totalBytes,
    byConstructor: delta(new Map(a.byConstructor.map((c) => [c.name, c])), new Map(b.byConstructor.map((c) => [c.name, c]))).map(({ key, ...d }) => ({ name: key, ...d })),
    strings: delta(a.strings.all, b.strings.all).map(({ key, ...d }) => ({ value: key.slice(0, 60), ...d })),
  };
}

export function summarise(file: string, top = 30): HeapSummary & { strings: { all: Map<string, { count: number; bytes: number }> } } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const nf = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const by = new Map<string, { count: number; bytes: number }>();
  const strs = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  let strCount = 0;
  let strBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const size = snap.nodes[i + iSize]!;
    total += size;
    const key = type === 'object' || type === 'native' || type === 'closure' ? `${type}:${name}` : type === 'string' || type === 'concatenated string' || type === 'sliced string' ? 'string' : `${type}`;
    const e = by.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += size;
    by.set(key, e);
    if (type === 'string') {
      strCount++;
      strBytes += size;
      const s = strs.get(name) ?? { count: 0, bytes: 0 };
      s.count++;
      s.bytes += size;
      strs.set(name, s);
    }
  }
  let duplicateBytes = 0;
  for (const s of strs.values()) if (s.count > 1) duplicateBytes += (s.bytes / s.count) * (s.count - 1);
  const topRepeated = [...strs].filter(([, s]) => s.count > 1).map(([value, s]) => ({ value: value.slice(0, 60), count: s.count, bytes: s.bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
  return {
    totalBytes: total,
    byConstructor: [...by].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.bytes - a.bytes).slice(0, top),
    strings: { count: strCount, bytes: strBytes, distinct: strs.size, duplicateBytes, topRepeated, all: strs },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, diff: { type: 'boolean', default: false } } });
  const usage = 'usage: node bench/memory/heap-summary.ts [--diff <earlier>] <file.heapsnapshot> [--top N]';
  if (!positionals[0] || (values.diff && !positionals[1])) throw new Error(usage);
  const mib = (n: number) => (n / 1048576).toFixed(2);
  if (values.diff) {
    const g = growth(positionals[0], positionals[1]!, Number(values.top));
    process.stdout.write(`total self size ${g.totalBytes >= 0 ? '+' : ''}${mib(g.totalBytes)} MiB\n\ngrowth by constructor (MiB, count):\n`);
    for (const c of g.byConstructor) process.stdout.write(`  ${mib(c.bytes).padStart(8)}  ${String(c.count).padStart(8)}  ${c.name.slice(0, 90)}\n`);
    process.stdout.write('\nstring values that gained copies (MiB, copies):\n');
    for (const r of g.strings) process.stdout.write(`  ${mib(r.bytes).padStart(8)}  ${String(r.count).padStart(8)}  ${JSON.stringify(r.value)}\n`);
    process.exit(0);
  }
  const s = summarise(positionals[0], Number(values.top));
  process.stdout.write(`total self size ${mib(s.totalBytes)} MiB\n\nby constructor (MiB, count):\n`);
  for (const c of s.byConstructor) process.stdout.write(`  ${mib(c.bytes).padStart(8)}  ${String(c.count).padStart(8)}  ${c.name.slice(0, 90)}\n`);
  process.stdout.write(`\nstrings: ${s.strings.count} (${mib(s.strings.bytes)} MiB), ${s.strings.distinct} distinct; repeated copies cost ${mib(s.strings.duplicateBytes)} MiB\n`);
  for (const r of s.strings.topRepeated) process.stdout.write(`  ${mib(r.bytes).padStart(8)}  ${String(r.count).padStart(8)}  ${JSON.stringify(r.value)}\n`);
}
