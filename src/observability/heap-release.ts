// Gives the pages of V8's heap that a burst left behind back to the OS.
//
// V8 (Node 24) keeps the pages a garbage collection frees in a pool, resident, for the heap to
// grow into again, and returns them to the OS only in a memory-reducing collection (memory
// pressure, which Node never signals, or its idle-time memory reducer, which a busy operator
// rarely reaches). After a hoster's onboarding the heap shrinks by tens of MiB and the RSS does
// not: at 1,000 MailDomains, 159 MiB of V8 pages were resident beside a 104 MiB heap. When the
// committed heap has shrunk well below its high-water mark, one memory-reducing collection
// (a full, compacting GC: tens to a few hundred ms at these sizes) returns that pool.
import v8 from 'node:v8';

export interface HeapReleaseSettings {
  /** How far below its high-water mark the committed heap must be (the pool's size, about). */
  minShrinkBytes: number;
  /** At most one release this often: each is a full GC. */
  minGapMs: number;
}

export const DEFAULT_HEAP_RELEASE: HeapReleaseSettings = { minShrinkBytes: 32 * 1024 * 1024, minGapMs: 5 * 60_000 };

export interface HeapWatermark {
  /** Highest committed heap seen since the last release (or the start). */
  highWaterBytes: number;
  /** When the last release ran; undefined: never. */
  lastReleaseAt: number | undefined;
}

/** Whether to release now: the heap has shrunk by at least minShrinkBytes below its
 *  high-water mark, and the last release is at least minGapMs ago. */
export function shouldReleaseHeap(mark: HeapWatermark, committedBytes: number, now: number, settings: HeapReleaseSettings = DEFAULT_HEAP_RELEASE): boolean {
  if (mark.highWaterBytes - committedBytes < settings.minShrinkBytes) return false;
  return mark.lastReleaseAt === undefined || now - mark.lastReleaseAt >= settings.minGapMs;
}

export interface HeapRelease {
  stop(): void;
}

export interface HeapReleaseOptions {
  /** The memory-reducing collection; default: globalThis.gc (the process runs with --expose-gc),
   *  as a last-resort major GC. Without one, nothing is started. */
  collect?: () => Promise<void>;
  /** Committed heap bytes; default v8's total_heap_size. */
  committedBytes?: () => number;
  now?: () => number;
  /** How often the heap is looked at (default 5 s: reading the statistics costs microseconds). */
  sampleMs?: number;
  settings?: HeapReleaseSettings;
  onRelease?: (info: { committedBefore: number; committedAfter: number; rssBefore: number; rssAfter: number; tookMs: number }) => void;
}

/** The collection V8 runs as a last resort: it compacts and returns the pooled pages. */
export function memoryReducingGc(): (() => Promise<void>) | undefined {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return undefined;
  return () => gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
}

/** Watches the heap and releases its freed pages after a shrink (see the top of this file).
 *  Undefined when no memory-reducing collection is available (no --expose-gc). */
export function startHeapRelease(options: HeapReleaseOptions = {}): HeapRelease | undefined {
  const collect = options.collect ?? memoryReducingGc();
  if (!collect) return undefined;
  const committedBytes = options.committedBytes ?? (() => v8.getHeapStatistics().total_heap_size);
  const now = options.now ?? Date.now;
  const settings = options.settings ?? DEFAULT_HEAP_RELEASE;
  const mark: HeapWatermark = { highWaterBytes: committedBytes(), lastReleaseAt: undefined };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    const committed = committedBytes();
    mark.highWaterBytes = Math.max(mark.highWaterBytes, committed);
    if (!shouldReleaseHeap(mark, committed, now(), settings)) return;
    running = true;
    const started = now();
    const rssBefore = process.memoryUsage.rss();
    collect().then(() => {
      const after = committedBytes();
      mark.lastReleaseAt = now();
      mark.highWaterBytes = after;
      options.onRelease?.({ committedBefore: committed, committedAfter: after, rssBefore, rssAfter: process.memoryUsage.rss(), tookMs: now() - started });
    }, () => {
      mark.lastReleaseAt = now();
    }).finally(() => {
      running = false;
    });
  }, options.sampleMs ?? 5_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
