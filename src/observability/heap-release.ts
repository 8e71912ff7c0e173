// Gives the pages of V8's heap that a burst left behind back to the OS.
//
// V8 (Node 24) keeps the pages a garbage collection frees in a pool, resident, for the heap to
// grow into again, and returns them to the OS only in a memory-reducing collection (memory
// pressure, which Node never signals, or its idle-time memory reducer, which a busy operator
// rarely reaches). After a hoster's onboarding the heap shrinks by tens of MiB and the RSS does
// not: at 1,000 MailDomains, 159 MiB of V8 pages were resident beside a 104 MiB heap. When the
// committed heap has shrunk well below its high-water mark, one memory-reducing collection
// (a full, compacting GC: tens to a few hundred ms at these sizes) returns that pool.
//
// A steady run creeps instead: the soaks saw V8's committed heap rise 1-3 MiB an hour at a flat
// heap in use (its code and trusted spaces: code compiled and bytecode kept as paths warm up),
// with nothing shrinking to trigger the release above. So the release also runs when the
// committed heap stands well above the lowest heap in use of the last 5-10 minutes (about the
// live heap: the heap in use just after a collection), at most every half hour; like Go's
// scavenger, it keeps a long-running process near what it holds.
//
// Between the two, a burst that ends with a smaller shrink: at 5,000 MailDomains the heap fell
// 18 MiB after the last certificates were issued and stayed there, and ~60 MiB of anonymous
// memory stood beside V8's heap ten minutes later. So once the committed heap has stood at least
// 8 MiB below its high-water mark for two minutes (the burst is over, not a collection's dip
// between two allocations), the release runs too, at most every ten minutes.
import v8 from 'node:v8';
import { Counter, type Registry } from 'prom-client';

export interface HeapReleaseSettings {
  /** How far below its high-water mark the committed heap must be (the pool's size, about). */
  minShrinkBytes: number;
  /** At most one release this often: each is a full GC. */
  minGapMs: number;
  /** Committed heap over the lowest recent heap in use (HeapWatermark.lowUsedBytes), as a
   *  fraction of that heap in use, from which a steady run's creep is released. */
  maxSlackRatio: number;
  /** …and at least this many bytes (a small heap's new space alone is several MiB of it). */
  minSlackBytes: number;
  /** At most one release for creep this often. */
  slackGapMs: number;
  /** How far below its high-water mark the committed heap must stand… */
  settledShrinkBytes: number;
  /** …for this long, for the burst to count as over. */
  settledAfterMs: number;
  /** At most one release after a settled burst this often (since any release). */
  settledGapMs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_HEAP_RELEASE: HeapReleaseSettings = {
  minShrinkBytes: 32 * MiB, minGapMs: 5 * 60_000,
  // V8 sizes its heap at ~1.3-1.5x the live heap after a collection: above 1.5x it holds pages
  // it does not need.
  maxSlackRatio: 0.5, minSlackBytes: 8 * MiB, slackGapMs: 30 * 60_000,
  settledShrinkBytes: 8 * MiB, settledAfterMs: 2 * 60_000, settledGapMs: 10 * 60_000,
};

export interface HeapWatermark {
  /** Highest committed heap seen since the last release (or the start). */
  highWaterBytes: number;
  /** Since when the committed heap has stood settledShrinkBytes or more below highWaterBytes,
   *  without a sample above; undefined: it does not. */
  belowSince?: number | undefined;
  /** Lowest heap in use over the last few minutes: about the live heap (the heap in use just
   *  after a collection). */
  lowUsedBytes: number;
  /** When the last release ran; undefined: never. */
  lastReleaseAt: number | undefined;
  /** When the watch started: the creep's gap counts from here before the first release (a
   *  process starting up is still growing). */
  startedAt: number;
}

export type HeapReleaseReason = 'shrunk' | 'settled' | 'crept';

/** Whether to release now, and why: the heap has shrunk by at least minShrinkBytes below its
 *  high-water mark (and the last release is minGapMs ago); or it has stood settledShrinkBytes
 *  below it for settledAfterMs (and the last release is settledGapMs ago); or the committed heap
 *  stands more than maxSlackRatio (and minSlackBytes) above the heap in use at its lowest (and
 *  the last release, or the start, is slackGapMs ago). */
export function shouldReleaseHeap(mark: HeapWatermark, committedBytes: number, now: number, settings: HeapReleaseSettings = DEFAULT_HEAP_RELEASE): HeapReleaseReason | undefined {
  const sinceRelease = mark.lastReleaseAt === undefined ? Infinity : now - mark.lastReleaseAt;
  if (mark.highWaterBytes - committedBytes >= settings.minShrinkBytes && sinceRelease >= settings.minGapMs) return 'shrunk';
  if (mark.belowSince !== undefined && now - mark.belowSince >= settings.settledAfterMs && mark.highWaterBytes - committedBytes >= settings.settledShrinkBytes && sinceRelease >= settings.settledGapMs) return 'settled';
  const slack = committedBytes - mark.lowUsedBytes;
  if (slack >= settings.minSlackBytes && slack > settings.maxSlackRatio * mark.lowUsedBytes && now - (mark.lastReleaseAt ?? mark.startedAt) >= settings.slackGapMs) return 'crept';
  return undefined;
}

/** The lowest of a series over the last one to two windows (two buckets: the current one and
 *  the one before). */
export class RecentLow {
  #current = Infinity;
  #previous = Infinity;
  #bucketStart: number;
  readonly windowMs: number;
  constructor(windowMs: number, now: number) {
    this.windowMs = windowMs;
    this.#bucketStart = now;
  }

  add(value: number, now: number): number {
    if (now - this.#bucketStart >= this.windowMs) {
      // A gap of more than one window leaves nothing recent in the previous bucket.
      this.#previous = now - this.#bucketStart >= 2 * this.windowMs ? Infinity : this.#current;
      this.#current = Infinity;
      this.#bucketStart = now;
    }
    this.#current = Math.min(this.#current, value);
    return Math.min(this.#current, this.#previous);
  }

  /** After a release: what was low before says nothing of the heap now. */
  reset(now: number): void {
    this.#current = this.#previous = Infinity;
    this.#bucketStart = now;
  }
}

/** How far back the heap in use at its lowest is looked for: V8 runs a full collection every few
 *  minutes in a steady run, and only just after one is the heap in use the live heap. */
const LOW_USED_WINDOW_MS = 5 * 60_000;

export interface HeapRelease {
  stop(): void;
}

/** One release: why, the committed heap and the RSS before and after it (bytes), and how long
 *  the collection took. */
export interface HeapReleaseInfo { reason: HeapReleaseReason; committedBefore: number; committedAfter: number; rssBefore: number; rssAfter: number; tookMs: number }

export interface HeapReleaseOptions {
  /** The memory-reducing collection; default: globalThis.gc (the process runs with --expose-gc),
   *  as a last-resort major GC. Without one, nothing is started. */
  collect?: () => Promise<void>;
  /** Committed heap and heap in use, bytes; default v8's total_heap_size and used_heap_size. */
  heapBytes?: () => { committed: number; used: number };
  now?: () => number;
  /** How often the heap is looked at (default 5 s: reading the statistics costs microseconds). */
  sampleMs?: number;
  settings?: HeapReleaseSettings;
  onRelease?: (info: HeapReleaseInfo) => void;
}

/** The collection V8 runs as a last resort: it compacts and returns the pooled pages. */
export function memoryReducingGc(): (() => Promise<void>) | undefined {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return undefined;
  return () => gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
}

/** Watches the heap and releases its freed pages after a shrink, a settled burst or a creep (see
 *  the top of this file).
 *  Undefined when no memory-reducing collection is available (no --expose-gc). */
export function startHeapRelease(options: HeapReleaseOptions = {}): HeapRelease | undefined {
  const collect = options.collect ?? memoryReducingGc();
  if (!collect) return undefined;
  const heapBytes = options.heapBytes ?? (() => {
    const h = v8.getHeapStatistics();
    return { committed: h.total_heap_size, used: h.used_heap_size };
  });
  const now = options.now ?? Date.now;
  const settings = options.settings ?? DEFAULT_HEAP_RELEASE;
  const first = heapBytes();
  const low = new RecentLow(LOW_USED_WINDOW_MS, now());
  const mark: HeapWatermark = { highWaterBytes: first.committed, lowUsedBytes: low.add(first.used, now()), lastReleaseAt: undefined, startedAt: now() };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    const { committed, used } = heapBytes();
    mark.highWaterBytes = Math.max(mark.highWaterBytes, committed);
    mark.belowSince = mark.highWaterBytes - committed >= settings.settledShrinkBytes ? mark.belowSince ?? now() : undefined;
    mark.lowUsedBytes = low.add(used, now());
    const reason = shouldReleaseHeap(mark, committed, now(), settings);
    if (!reason) return;
    running = true;
    const t0 = now();
    const rssBefore = process.memoryUsage.rss();
    collect().then(() => {
      const after = heapBytes();
      mark.lastReleaseAt = now();
      mark.highWaterBytes = after.committed;
      mark.belowSince = undefined;
      low.reset(now());
      mark.lowUsedBytes = low.add(after.used, now());
      options.onRelease?.({ reason, committedBefore: committed, committedAfter: after.committed, rssBefore, rssAfter: process.memoryUsage.rss(), tookMs: now() - t0 });
    }, () => {
      mark.lastReleaseAt = now();
    }).finally(() => {
      running = false;
    });
  }, options.sampleMs ?? 5_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The releases as metrics in `registry`: how many, by reason, and the time they took (each a
 *  full, compacting collection that pauses the process: its rate is the share of a core the
 *  releases cost). Returns the onRelease to pass to startHeapRelease. */
export function heapReleaseMetrics(registry: Registry): (info: HeapReleaseInfo) => void {
  const releases = new Counter({ name: 'mapi_operator_heap_releases_total', help: 'Memory-reducing collections run after the heap shrank (reason "shrunk"), stood below its peak after a burst ("settled") or crept well above the heap in use ("crept"), giving the pages V8 kept back to the OS', labelNames: ['reason'], registers: [registry] });
  const seconds = new Counter({ name: 'mapi_operator_heap_release_seconds_total', help: 'Time spent in the memory-reducing collections of mapi_operator_heap_releases_total (each a full, compacting collection that pauses the process)', labelNames: ['reason'], registers: [registry] });
  return (info) => {
    releases.inc({ reason: info.reason });
    seconds.inc({ reason: info.reason }, info.tookMs / 1000);
  };
}
