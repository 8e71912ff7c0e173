// Who holds the heap: the dominator tree of a V8 heap snapshot (what Chrome DevTools calls
// "retained size"), printed top-down from the GC roots. heap-summary.ts says what the heap is
// made of (strings, arrays, objects); this says which structure keeps them — an informer's
// store, an index, a controller's map — and found, at 1,000 MailDomains, an index keeping a
// second key string per Mailbox. A shared object (a cached Mailbox held by the store and by
// indexes) belongs to no single owner: such objects are listed by shape.
//
//   node bench/memory/heap-retainers.ts <file.heapsnapshot> [--min-mib 0.5] [--depth 6]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Retainer {
  /** How the owner reaches it: a property name, or [index] for elements and internals. */
  edge: string;
  /** type:name, e.g. object:Informer, object:Map, string:… */
  label: string;
  retainedBytes: number;
  children: Retainer[];
}

export interface RetainerReport {
  totalBytes: number;
  /** The dominator tree from the root, nodes retaining at least minBytes, to `depth` levels. */
  tree: Retainer[];
  /** Plain objects held by more than one structure, grouped by their property names: the
   *  cached Kubernetes objects (a store and its indexes) land here. */
  sharedByShape: Array<{ shape: string; count: number; retainedBytes: number }>;
}

export function retainers(file: string, opts: { minBytes?: number; depth?: number } = {}): RetainerReport {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const iType = meta.node_fields.indexOf('type');
  const iName = meta.node_fields.indexOf('name');
  const iSize = meta.node_fields.indexOf('self_size');
  const iEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const { nodes, edges, strings } = snap;
  const n = nodes.length / nf;
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + iEdges]! * ef;
    firstEdge[i + 1] = e;
  }
  // Weak references keep nothing alive; shortcuts duplicate other edges.
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const strong = (e: number) => edges[e + eType] !== weak && edges[e + eType] !== shortcut;
  const target = (e: number) => edges[e + eTo]! / nf;

  // Post-order from the root (node 0), iteratively: a million nodes overflow recursion.
  const order = new Int32Array(n).fill(-1);
  const post: number[] = [];
  const next = new Uint32Array(n);
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  next[0] = firstEdge[0]!;
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    if (next[v]! < firstEdge[v + 1]!) {
      const e = next[v]!;
      next[v] = e + ef;
      if (!strong(e)) continue;
      const w = target(e);
      if (!seen[w]) {
        seen[w] = 1;
        next[w] = firstEdge[w]!;
        stack.push(w);
      }
    } else {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  // Predecessors in compressed rows.
  const predStart = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) if (seen[v]) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (strong(e)) predStart[target(e) + 1]!++;
  for (let i = 0; i < n; i++) predStart[i + 1]! += predStart[i]!;
  const preds = new Uint32Array(predStart[n]!);
  const fill = predStart.slice();
  for (let v = 0; v < n; v++) if (seen[v]) for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (strong(e)) preds[fill[target(e)]!++] = v;
  // Immediate dominators: Cooper, Harvey and Kennedy's iterative algorithm over the post-order.
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const v = post[k]!;
      let d = -1;
      for (let p = predStart[v]!; p < predStart[v + 1]!; p++) {
        const u = preds[p]!;
        if (seen[u] && idom[u] !== -1) d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(n);
  for (const v of post) {
    retained[v]! += nodes[v * nf + iSize]!;
    if (v !== 0) retained[idom[v]!]! += retained[v]!;
  }
  const dominated = new Map<number, number[]>();
  for (let v = 1; v < n; v++) {
    if (!seen[v] || idom[v]! < 0) continue;
    const list = dominated.get(idom[v]!);
    if (list) list.push(v);
    else dominated.set(idom[v]!, [v]);
  }
  const label = (v: number) => `${nodeTypes[nodes[v * nf + iType]!]}:${String(strings[nodes[v * nf + iName]!]).slice(0, 60).replace(/\s+/g, ' ')}`;
  const edgeName = (from: number, to: number) => {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += ef) {
      if (target(e) !== to) continue;
      const t = edgeTypes[edges[e + eType]!];
      return t === 'element' || t === 'hidden' ? `[${edges[e + eName]}]` : String(strings[edges[e + eName]!]);
    }
    return '~';
  };
  const minBytes = opts.minBytes ?? 512 * 1024;
  const maxDepth = opts.depth ?? 6;
  const build = (v: number, depth: number): Retainer[] =>
    (dominated.get(v) ?? []).filter((c) => retained[c]! >= minBytes).sort((a, b) => retained[b]! - retained[a]!)
      .map((c) => ({ edge: edgeName(v, c), label: label(c), retainedBytes: retained[c]!, children: depth < maxDepth ? build(c, depth + 1) : [] }));

  // Plain objects with more than one holder: no single owner is charged for them.
  const shapes = new Map<string, { count: number; retainedBytes: number }>();
  for (const v of post) {
    if (label(v) !== 'object:Object') continue;
    let holders = 0;
    for (let p = predStart[v]!, first = -1; p < predStart[v + 1]! && holders < 2; p++) {
      if (preds[p] !== first) holders++;
      if (first === -1) first = preds[p]!;
    }
    if (holders < 2) continue;
    const props: string[] = [];
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += ef) if (edgeTypes[edges[e + eType]!] === 'property') props.push(String(strings[edges[e + eName]!]));
    const shape = `{${props.filter((p) => p !== '__proto__').sort().join(',').slice(0, 100)}}`;
    const s = shapes.get(shape) ?? { count: 0, retainedBytes: 0 };
    s.count++;
    s.retainedBytes += retained[v]!;
    shapes.set(shape, s);
  }
  return {
    totalBytes: retained[0]!,
    tree: build(0, 0),
    sharedByShape: [...shapes].map(([shape, s]) => ({ shape, ...s })).sort((a, b) => b.retainedBytes - a.retainedBytes),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'min-mib': { type: 'string', default: '0.5' }, depth: { type: 'string', default: '6' } } });
  if (!positionals[0]) throw new Error('usage: node bench/memory/heap-retainers.ts <file.heapsnapshot> [--min-mib 0.5] [--depth 6]');
  const r = retainers(positionals[0], { minBytes: Number(values['min-mib']) * 1048576, depth: Number(values.depth) });
  const mib = (b: number) => (b / 1048576).toFixed(2).padStart(7);
  process.stdout.write(`live heap ${mib(r.totalBytes)} MiB\n\nretained by (MiB; owner → edge → what):\n`);
  const print = (list: Retainer[], depth: number) => {
    for (const x of list) {
      process.stdout.write(`${mib(x.retainedBytes)}  ${'  '.repeat(depth)}${x.edge} → ${x.label}\n`);
      print(x.children, depth + 1);
    }
  };
  print(r.tree, 0);
  process.stdout.write('\nheld by several structures, by shape (MiB, count):\n');
  for (const s of r.sharedByShape.slice(0, 20)) process.stdout.write(`${mib(s.retainedBytes)}  ${String(s.count).padStart(8)}  ${s.shape}\n`);
}
