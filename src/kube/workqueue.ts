// A work queue with client-go's guarantees, so a reconcile never races itself:
// - a key is never handed to two workers at once;
// - adding a key that is already queued is a no-op (adds collapse into one);
// - adding a key while it is being processed marks it dirty; it is queued once, after `done`;
// - per-key exponential failure backoff (`addRateLimited`, `forget`);
// - delayed adds (`addAfter`) keep the earliest requested time per key;
// - `runWorkers(n)` bounds concurrency across keys;
// - optionally (`minIntervalMs`), a key is handed out at most once per interval: the adds in
//   between collapse into one, handed out when the interval has passed; with `maxWorkShare`
//   the interval stretches for a key whose work is long, so no key holds the workers (and
//   the event loop) for more than that share of the time;
// - two lanes: a `low` add (a periodic resync) waits behind the keys an event added, and is
//   promoted when an event adds the same key; every LOW_LANE_TURN-th key comes from the low
//   lane while both have keys, so a resync is late under load but never starved;
// - `shutDown()` stops handing out work and resolves when in-flight work is done.
import { ItemExponentialBackoff } from './backoff.ts';
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { Fifo } from './fifo.ts';

/** What the queue reports; observability/metrics.ts provides the Prometheus implementation. */
export interface WorkQueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queueDuration(seconds: number): void;
  /** Seconds a worker spent on a key. */
  workDuration(seconds: number): void;
}

export interface WorkQueueOptions {
  name: string;
  clock?: Clock;
  rateLimiter?: ItemExponentialBackoff;
  metrics?: WorkQueueMetrics;
  /** A key is handed out at most once per this many ms (default 0: as often as it is added).
   *  For a key that many events concern at once (a server and its thousands of mailboxes),
   *  reconciling once per burst instead of once per event. */
  minIntervalMs?: number;
  /** With minIntervalMs: a key's next start waits at least its last work's duration divided
   *  by this (0.25: a key that took 2 s waits 8 s from its start). Default 1: no stretch
   *  beyond the key's own duration. */
  maxWorkShare?: number;
}

interface Waiter {
  resolve(key: string | undefined): void;
}

/** `high`: an event (something changed); `low`: a periodic resync (nothing is known to have). */
export type Priority = 'high' | 'low';

/** While both lanes have keys, one in this many comes from the low lane. */
export const LOW_LANE_TURN = 5;

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: ItemExponentialBackoff;
  readonly #metrics: WorkQueueMetrics | undefined;

  // FIFOs of keys ready for a worker, by lane. A key promoted from the low lane leaves a stale
  // entry there; an entry is live while #dirty holds its key with its lane and it is not being
  // processed. #queued counts the live ones.
  readonly #queue = new Fifo<string>();
  readonly #lowQueue = new Fifo<string>();
  #queued = 0;
  #highStreak = 0;
  // Keys that need processing (queued, or re-added while processing), with their lane.
  #dirty = new Map<string, Priority>();
  #processing = new Set<string>();
  // When each queued key was added, for the queue-duration metric.
  #addedAt = new Map<string, number>();
  #startedAt = new Map<string, number>();
  // Delayed adds: the earliest due time per key wins.
  #delayed = new Map<string, { at: number; handle: TimerHandle }>();
  #waiters: Waiter[] = [];
  // When each key may be handed out again (only with minIntervalMs).
  readonly #minIntervalMs: number;
  readonly #maxWorkShare: number;
  #allowedAt = new Map<string, number>();
  #shuttingDown = false;
  #drained: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.#clock = opts.clock ?? realClock;
    this.#rateLimiter = opts.rateLimiter ?? new ItemExponentialBackoff();
    this.#metrics = opts.metrics;
    this.#minIntervalMs = opts.minIntervalMs ?? 0;
    this.#maxWorkShare = Math.min(1, Math.max(0.01, opts.maxWorkShare ?? 1));
  }

  add(key: string, priority: Priority = 'high'): void {
    if (this.#shuttingDown) return;
    const pending = this.#dirty.get(key);
    if (pending !== undefined) {
      // An event for a key a resync queued: it goes with the events now.
      if (priority === 'high' && pending === 'low') {
        this.#dirty.set(key, 'high');
        if (!this.#processing.has(key)) this.#queue.push(key);
      }
      return;
    }
    const wait = this.#untilAllowed(key);
    if (wait > 0 && !this.#processing.has(key)) {
      this.addAfter(key, wait);
      return;
    }
    this.#metrics?.added();
    this.#dirty.set(key, priority);
    // A key being processed is queued again by `done`, never handed out twice at once.
    if (this.#processing.has(key)) return;
    this.#enqueue(key, priority);
  }

  /** Adds `key` after `ms`; with several pending delays for one key the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.#clock.clearTimeout(existing.handle);
    const handle = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, handle });
  }

  /** Re-adds a failed key after its per-key backoff (5 ms doubling, capped). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics?.retried();
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Clears the failure history of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /** Keys ready for a worker (not counting delayed ones or those being processed). */
  len(): number {
    return this.#queued;
  }

  /** Keys waiting for a delayed add. */
  pendingDelayed(): number {
    return this.#delayed.size;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * The next key to process, waiting until one is ready; `undefined` once the queue is shut
   * down. The caller must call `done(key)` when finished.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push({ resolve }));
  }

  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) {
      const worked = this.#clock.now() - started;
      this.#metrics?.workDuration(worked / 1000);
      if (this.#minIntervalMs > 0) this.#allowedAt.set(key, started + Math.max(this.#minIntervalMs, worked / this.#maxWorkShare));
    }
    // Re-added while it was processing: queue it once now (or once its interval has passed).
    const lane = this.#dirty.get(key);
    if (lane !== undefined && !this.#shuttingDown) {
      const wait = this.#untilAllowed(key);
      if (wait > 0) {
        this.#dirty.delete(key);
        this.addAfter(key, wait);
      } else {
        this.#enqueue(key, lane);
      }
    }
    if (this.#processing.size === 0) {
      for (const resolve of this.#drained.splice(0)) resolve();
    }
  }

  /**
   * Runs `concurrency` workers that take keys and call `handler`, each key at most once at a
   * time. Resolves when the queue is shut down and every worker has finished its key.
   * `handler` must not throw; errors it lets escape are swallowed so a worker never dies.
   */
  async runWorkers(concurrency: number, handler: (key: string) => Promise<void>): Promise<void> {
    const worker = async () => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
        } catch {
          // The controller handles and reports errors; a worker loop must survive anything.
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  }

  /**
   * Stops handing out keys (queued and delayed keys are dropped) and resolves once every key
   * in flight is `done`.
   */
  shutDown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { handle } of this.#delayed.values()) this.#clock.clearTimeout(handle);
    this.#delayed.clear();
    this.#queue.clear();
    this.#lowQueue.clear();
    this.#queued = 0;
    this.#addedAt.clear();
    this.#metrics?.depth(0);
    for (const w of this.#waiters.splice(0)) w.resolve(undefined);
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /** Ms before `key` may be handed out again (0: now). */
  #untilAllowed(key: string): number {
    if (this.#minIntervalMs <= 0) return 0;
    const at = this.#allowedAt.get(key);
    return at === undefined ? 0 : Math.max(0, at - this.#clock.now());
  }

  #enqueue(key: string, lane: Priority): void {
    (lane === 'high' ? this.#queue : this.#lowQueue).push(key);
    this.#queued++;
    this.#addedAt.set(key, this.#clock.now());
    this.#metrics?.depth(this.#queued);
    const waiter = this.#waiters.shift();
    if (waiter) {
      const next = this.#take();
      waiter.resolve(next);
    }
  }

  #take(): string | undefined {
    const key = this.#next();
    if (key === undefined) return undefined;
    this.#queued--;
    this.#dirty.delete(key);
    this.#processing.add(key);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics?.queueDuration((this.#clock.now() - added) / 1000);
    this.#startedAt.set(key, this.#clock.now());
    if (this.#minIntervalMs > 0) this.#rememberStart(key);
    this.#metrics?.depth(this.#queued);
    return key;
  }

  /** The next live key: the high lane first, the low lane's turn every LOW_LANE_TURN keys. */
  #next(): string | undefined {
    for (;;) {
      const lowTurn = this.#queue.length === 0 || (this.#lowQueue.length > 0 && this.#highStreak >= LOW_LANE_TURN - 1);
      const fromLow = lowTurn && this.#lowQueue.length > 0;
      const key = fromLow ? this.#lowQueue.shift() : this.#queue.shift();
      if (key === undefined) return undefined;
      // Stale: promoted to the high lane (taken there, or still waiting there), or taken.
      if (this.#processing.has(key) || this.#dirty.get(key) !== (fromLow ? 'low' : 'high')) continue;
      this.#highStreak = fromLow ? 0 : this.#lowQueue.length > 0 ? this.#highStreak + 1 : 0;
      return key;
    }
  }

  #rememberStart(key: string): void {
    const now = this.#clock.now();
    this.#allowedAt.set(key, now + this.#minIntervalMs);
    // Only keys still waiting matter: keep the map as small as the recent keys.
    if (this.#allowedAt.size > 1_000) {
      for (const [k, at] of this.#allowedAt) if (at <= now && !this.#processing.has(k)) this.#allowedAt.delete(k);
    }
  }
}
