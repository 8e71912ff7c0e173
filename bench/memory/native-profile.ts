// Who holds the memory beside V8's heap: a jemalloc heap profile of the operator, summed by
// the subsystem that allocated it. The scale benchmark's RSS split ("other anonymous" beyond
// V8's committed heap) says how much there is; this says whose it is — V8's own bookkeeping
// for its pages, TLS connections, the trust store, c-ares, Buffers — which no JS heap
// snapshot shows.
//
// The operator's process must run with jemalloc (the image preloads it) and profiling on;
// `npm run bench:scale -- --native-prof DIR` sets that and summarises the last dump jemalloc
// wrote before the operator stopped after its idle window. By hand:
//
//   MALLOC_CONF=...,prof:true,lg_prof_sample:19,lg_prof_interval:28,prof_prefix:DIR/op  (operator env)
//   node bench/memory/native-profile.ts <node binary> <DIR/op.PID.N.iM.heap> [--top 12]
//
// jeprof (Debian: libjemalloc-dev) symbolises the sampled stacks; a sample stands for ~512 KiB
// of allocations at lg_prof_sample:19, so figures below a few MiB are rough.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** Subsystems, most specific first: a stack is counted under the first whose frames match
 *  (a TLS read's Buffer is TLS, a scavenge's new page is V8's page bookkeeping). */
export const NATIVE_SUBSYSTEMS: ReadonlyArray<{ name: string; frame: RegExp }> = [
  // The measurement's own: a heap snapshot being written (as much as the heap holds) and a run
  // with --cpu-prof, whose profile tree grows natively.
  { name: 'heap snapshot being written', frame: /HeapSnapshot|HeapProfiler|HeapObjectsMap/ },
  { name: "V8's CPU profiler (--cpu-prof)", frame: /SamplingEventsProcessor|CpuProfile|ProfileTree|ProfileNode|ProfilerListener|CodeEntry::/ },
  { name: "V8's page bookkeeping (page metadata, remembered sets)", frame: /MemoryAllocator::|PageMetadata|SlotSet|RememberedSet|TypedSlots/ },
  { name: 'TLS connections (OpenSSL state, socket buffers)', frame: /TLSWrap|NodeBIO|SecureContext::CreateSSL|\bSSL_(?:new|read|write|do_handshake|connect)\b|tls_construct|ssl3_/ },
  { name: 'trust store (CA certificates parsed)', frame: /LoadCACertificates|GetExtraCACertificates|SetCACert|AddCACert|X509_STORE|PEM_read|PEM_ASN1_read/ },
  { name: 'DNS (c-ares)', frame: /\bares_|cares_wrap/ },
  { name: "V8's string table", frame: /StringTable/ },
  { name: 'ArrayBuffers and Buffers', frame: /ArrayBufferAllocator|BackingStore|node::Buffer::/ },
  { name: 'code compilation (V8 compilers, builtins)', frame: /Compiler|compiler::|maglev::|BuiltinLoader|Zone::|Parser::|interpreter::/ },
  { name: 'garbage collection work', frame: /Scavenge|MarkCompact|Sweeper|ConcurrentMarking|MinorMark/ },
  { name: 'process start-up (isolate, snapshot, static data, package.json reads)', frame: /Isolate::Init|Snapshot::Initialize|__static_initialization|NodeMainInstance::NodeMainInstance|modules::BindingData/ },
  { name: 'histograms (event-loop delay)', frame: /Histogram::|\bhdr_/ },
  { name: 'OpenSSL (providers, other)', frame: /\bCRYPTO_|OPENSSL_|\bossl_|\bEVP_/ },
];
export const OTHER_SUBSYSTEM = 'other';

/** The subsystem of one sampled stack (frames in any order). */
export function classifyNativeStack(frames: readonly string[]): string {
  for (const { name, frame } of NATIVE_SUBSYSTEMS) {
    if (frames.some((f) => frame.test(f))) return name;
  }
  return OTHER_SUBSYSTEM;
}

export interface NativeSummary {
  totalBytes: number;
  /** Largest first. */
  bySubsystem: Array<{ name: string; bytes: number }>;
  /** The allocating frames (innermost) holding most, largest first. */
  topLeaves: Array<{ frame: string; bytes: number }>;
}

// The allocator's own frames, and wrappers that only pass a size on (jeprof names jemalloc's
// entry points after a neighbouring symbol: malloc_usable_size).
const ALLOCATOR_FRAME = /malloc|calloc|realloc|\bCRYPTO_(?:z|m|re)alloc|AllocateUninitialized|AlignedAlloc|operator new|Malloced::New|^(?:je_)?mallocx?$/;

/** The innermost frame that is not the allocator's: who asked for the memory. */
export function allocatingFrame(frames: readonly string[]): string {
  const frame = [...frames].reverse().find((f) => !ALLOCATOR_FRAME.test(f)) ?? frames.at(-1) ?? '';
  // jeprof appends <address> to frames it could not name exactly; the name is enough here.
  return frame.replace(/<[0-9a-f]+>(\[inline\])?$/, '');
}

/** Sums jeprof's `--collapsed` output (one `outer;…;inner BYTES` line per stack). */
export function summarizeCollapsed(text: string, top = 12): NativeSummary {
  const bySubsystem = new Map<string, number>();
  const byLeaf = new Map<string, number>();
  let totalBytes = 0;
  for (const line of text.split('\n')) {
    const m = /^(.*) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const frames = m[1]!.split(';');
    const bytes = Number(m[2]);
    totalBytes += bytes;
    const subsystem = classifyNativeStack(frames);
    bySubsystem.set(subsystem, (bySubsystem.get(subsystem) ?? 0) + bytes);
    const leaf = allocatingFrame(frames);
    byLeaf.set(leaf, (byLeaf.get(leaf) ?? 0) + bytes);
  }
  const largest = <K extends string>(m: Map<string, number>, key: K) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([k, bytes]) => ({ [key]: k, bytes }) as Record<K, string> & { bytes: number });
  return { totalBytes, bySubsystem: largest(bySubsystem, 'name'), topLeaves: largest(byLeaf, 'frame').slice(0, top) };
}

/** The newest interval dump in `dir` (op.PID.SEQ.iN.heap) written before `beforeMs`, and its
 *  time; a dump at exit (.f.heap) is left out: Node has freed its heap by then. */
export function newestIntervalDump(dir: string, beforeMs = Number.POSITIVE_INFINITY): { file: string; mtimeMs: number } | undefined {
  return readdirSync(dir).filter((f) => /\.i\d+\.heap$/.test(f))
    .map((f) => ({ file: path.join(dir, f), mtimeMs: statSync(path.join(dir, f)).mtimeMs }))
    .filter((d) => d.mtimeMs < beforeMs)
    .sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
}

/** Symbolises `dump` with jeprof against the binary that wrote it; undefined without jeprof. */
export function summarizeDump(binary: string, dump: string, top = 12): NativeSummary | undefined {
  let collapsed: string;
  try {
    collapsed = execFileSync('jeprof', ['--collapsed', binary, dump], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
  } catch {
    return undefined;
  }
  return summarizeCollapsed(collapsed, top);
}

export function formatNativeSummary(s: NativeSummary): string {
  const mib = (b: number) => (b / 1048576).toFixed(1).padStart(7);
  return [
    `sampled live native allocations: ${mib(s.totalBytes).trim()} MiB`,
    ...s.bySubsystem.map((r) => `${mib(r.bytes)}  ${r.name}`),
    'by allocating frame:',
    ...s.topLeaves.map((r) => `${mib(r.bytes)}  ${r.frame.slice(0, 140)}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '12' } } });
  const [binary, dump] = positionals;
  if (!binary || !dump) {
    console.error('usage: node bench/memory/native-profile.ts <node binary> <jemalloc .heap dump> [--top 12]');
    process.exit(2);
  }
  const summary = summarizeDump(binary, dump, Number(values.top));
  if (!summary) {
    console.error('jeprof failed or is not installed (Debian: apt-get install libjemalloc-dev)');
    process.exit(1);
  }
  console.log(formatNativeSummary(summary));
}
