// Summarises a V8 heap snapshot (node --heapsnapshot-signal=SIGUSR2, v8.writeHeapSnapshot):
// self size by constructor, strings by value (how much repeated strings cost), and the
// retained size of the biggest Maps (informer stores, memo caches) found by dominators
// being too costly here, by the size of what each Map's table holds directly.
//
//   node bench/memory/heap-summary.ts <file.heapsnapshot> [--top 30]
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

export function summarise(file: string, top = 30): HeapSummary {
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
    strings: { count: strCount, bytes: strBytes, distinct: strs.size, duplicateBytes, topRepeated },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (!positionals[0]) throw new Error('usage: node bench/memory/heap-summary.ts <file.heapsnapshot> [--top N]');
  const s = summarise(positionals[0], Number(values.top));
  const mib = (n: number) => (n / 1048576).toFixed(2);
  process.stdout.write(`total self size ${mib(s.totalBytes)} MiB\n\nby constructor (MiB, count):\n`);
  for (const c of s.byConstructor) process.stdout.write(`  ${mib(c.bytes).padStart(8)}  ${String(c.count).padStart(8)}  ${c.name.slice(0, 90)}\n`);
  process.stdout.write(`\nstrings: ${s.strings.count} (${mib(s.strings.bytes)} MiB), ${s.strings.distinct} distinct; repeated copies cost ${mib(s.strings.duplicateBytes)} MiB\n`);
  for (const r of s.strings.topRepeated) process.stdout.write(`  ${mib(r.bytes).padStart(8)}  ${String(r.count).padStart(8)}  ${JSON.stringify(r.value)}\n`);
}
