// Runs the DNS/TLS/HTTP checks of every MailDomain in the background, on its interval (sooner,
// with backoff, after a failure; always with jitter so a fleet does not probe in lock-step),
// and wakes the controller only when a result changed. Reconcile reads the latest snapshot
// and never waits on the network itself.
//
// A check that passed and now fails is confirmed by a retry before its snapshot says so, as a
// kubelet probe's failureThreshold confirms a failure: at 5,000 MailDomains one DNS question
// lost on a loaded machine turned a passing domain Ready=False and back 6 s later (status
// writes, Events, the server's gate message; docs/benchmarks.md, twenty-seventh attempt).
import type { CheckResult } from '../../checks/types.ts';
import { stableDigest } from '../../api/stable-json.ts';
import { CERTIFICATE_NOT_ISSUED } from '../../checks/tls-check.ts';
import { MinHeap } from './min-heap.ts';

export interface CheckSnapshot<R = unknown> {
  results: CheckResult[];
  /** When the run that produced these results started. */
  checkedAt: Date;
  /** What that run checked (the target may have changed since). */
  request: R;
}

export interface CheckSchedulerOptions<R> {
  /** The engine call (with the real IO and the shared probe cache bound in). */
  run: (key: string, request: R, signal: AbortSignal) => Promise<CheckResult[]>;
  /** A key's results changed (or its first run finished): reconcile it. */
  onChange: (key: string) => void;
  /** Called after every run, changed or not (metrics). */
  onRun?: (key: string, snapshot: CheckSnapshot<R>, durationMs: number) => void;
  onError?: (key: string, err: unknown) => void;
  now?: () => number;
  /** Runs at once across MailDomains. */
  concurrency?: number;
  /** First retry after a failure; doubles up to the interval. */
  retryBaseMs?: number;
  /** ±fraction of the delay. */
  jitter?: number;
  random?: () => number;
}

interface Entry<R> {
  target: R;
  fingerprint: string;
  /** When the target last changed (or was registered). */
  targetSince: number;
  intervalMs: number;
  snapshot?: CheckSnapshot<R>;
  nextRunAt: number;
  running: boolean;
  failures: number;
  /** Its last run turned a passing row into a failure: the retry under way confirms it before
   *  the snapshot shows it. */
  confirming: boolean;
  /** Bumped whenever the entry is queued again: an older queued slot of it is stale. */
  queued: number;
  /** Order of registration: among entries due at the same time, the older goes first. */
  seq: number;
}

/** An entry's place in a queue, as it was when queued. */
interface Slot<R> {
  key: string;
  entry: Entry<R>;
  queued: number;
  at: number;
}
const earlier = <R>(a: Slot<R>, b: Slot<R>) => a.at < b.at || (a.at === b.at && a.entry.seq < b.entry.seq);

// A tls/ row not probed for want of a certificate is no failure to retry: the certificate's
// issuance changes the target, and that runs the checks at once.
const unhealthy = (r: CheckResult) => r.status === 'Failed' || (r.status === 'Unknown' && r.reason !== CERTIFICATE_NOT_ISSUED);

/** 0: never checked as it is now; 1: its last run failed (a retry); 2: a routine re-check. */
function urgency<R>(e: Entry<R>): number {
  if (!e.snapshot || e.snapshot.request !== e.target) return 0;
  return e.failures > 0 ? 1 : 2;
}
/** Whether a row that passed in `before` does not in `after`. */
function demotes(before: CheckResult[], after: CheckResult[]): boolean {
  const passed = new Set(before.filter((r) => r.status === 'Passed').map((r) => r.name));
  return passed.size > 0 && after.some((r) => unhealthy(r) && passed.has(r.name));
}

const essence = (results: CheckResult[]) => results.map((r) => `${r.name}\u0000${r.status}\u0000${r.reason}\u0000${r.message}`).join('\n');

/** R: what a run needs (the target, plus references to secrets the run itself reads). */
export class CheckScheduler<R> {
  readonly #opts: Required<Omit<CheckSchedulerOptions<R>, 'onRun' | 'onError'>> & Pick<CheckSchedulerOptions<R>, 'onRun' | 'onError'>;
  readonly #entries = new Map<string, Entry<R>>();
  readonly #abort = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #active = 0;
  #stopped = false;
  readonly #inflight = new Set<Promise<void>>();
  #registered = 0;
  readonly #waiting = new MinHeap<Slot<R>>(earlier);
  /** Due entries by urgency (0, 1, 2), each most overdue first. */
  readonly #due = [new MinHeap<Slot<R>>(earlier), new MinHeap<Slot<R>>(earlier), new MinHeap<Slot<R>>(earlier)];

  constructor(opts: CheckSchedulerOptions<R>) {
    // 16 runs at once: a run mostly waits on DNS and TLS round trips, and the engine's own
    // limits (overall and per host) still bound the sockets. With 4, a hoster's MailDomains
    // stayed ChecksPending for minutes after their Certificates were Ready (docs/benchmarks.md).
    this.#opts = { now: Date.now, concurrency: 16, retryBaseMs: 5_000, jitter: 0.1, random: Math.random, ...opts };
  }

  /** Registers or updates a MailDomain's target; a changed target is checked at once. */
  ensure(key: string, target: R, intervalMs: number): void {
    if (this.#stopped) return;
    const fingerprint = stableDigest(target);
    const entry = this.#entries.get(key);
    if (!entry) {
      const created: Entry<R> = { target, fingerprint, targetSince: this.#opts.now(), intervalMs, nextRunAt: this.#opts.now(), running: false, failures: 0, confirming: false, queued: 0, seq: this.#registered++ };
      this.#entries.set(key, created);
      this.#enqueue(key, created);
    } else if (entry.fingerprint !== fingerprint || entry.intervalMs !== intervalMs) {
      if (entry.fingerprint !== fingerprint) entry.targetSince = this.#opts.now();
      entry.target = target;
      entry.fingerprint = fingerprint;
      entry.intervalMs = intervalMs;
      entry.nextRunAt = this.#opts.now();
      entry.failures = 0;
      entry.confirming = false;
      // A running entry is queued again when its run ends.
      if (!entry.running) this.#enqueue(key, entry);
    } else {
      return;
    }
    this.#schedule();
  }

  /** Stops checking a key; whether it was checked. A run in flight reports nothing after this. */
  forget(key: string): boolean {
    return this.#entries.delete(key);
  }

  snapshot(key: string): CheckSnapshot<R> | undefined {
    return this.#entries.get(key)?.snapshot;
  }

  /**
   * Since when the key's latest results describe a target it no longer has (a certificate
   * issued since, a new release): a run of the new one is due or under way. Undefined when
   * they describe the current target, or there are none yet.
   */
  supersededSince(key: string): number | undefined {
    const e = this.#entries.get(key);
    return e?.snapshot && e.snapshot.request !== e.target ? e.targetSince : undefined;
  }

  /** Milliseconds until the key's next run (for status/debugging). */
  nextRunInMs(key: string): number | undefined {
    const e = this.#entries.get(key);
    return e ? Math.max(0, e.nextRunAt - this.#opts.now()) : undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#abort.abort(new Error('check scheduler stopped'));
    await Promise.allSettled([...this.#inflight]);
  }

  // Urgency first, then the most overdue. Starting due entries in insertion order let the
  // first MailDomains, due again every interval, take every free slot while later ones never
  // ran (a hoster's MailDomains stuck at ChecksPending when a round took longer than the
  // interval). And when a round takes longer than the interval, a target never checked (a
  // certificate just issued) or a retry after a failure is behind every routine re-check
  // already overdue: at 5,000 MailDomains that was a whole round, tens of minutes, for the
  // results that decide Ready and the gate. Those run first; a routine re-check of a passing
  // target only confirms what the status already says.
  //
  // Entries wait in a heap by due time and, once due, in one heap per urgency: a free slot
  // costs O(log n). A scan and sort of every entry on each call, and a 10 ms timer while every
  // slot was busy, was the operator's busiest code at 5,000 MailDomains (15 % of its CPU).
  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#opts.now();
    for (let slot = this.#waiting.peek(); slot && slot.at <= now; slot = this.#waiting.peek()) {
      this.#waiting.pop();
      if (this.#current(slot)) this.#due[urgency(slot.entry)]!.push(slot);
    }
    while (this.#active < this.#opts.concurrency) {
      const slot = this.#nextDue();
      if (!slot) break;
      this.#start(slot.key, slot.entry);
    }
    let next = this.#waiting.peek();
    while (next && !this.#current(next)) {
      this.#waiting.pop();
      next = this.#waiting.peek();
    }
    if (next) {
      this.#timer = setTimeout(() => this.#schedule(), Math.max(10, Math.min(next.at - now, 2 ** 31 - 1)));
      this.#timer.unref?.();
    }
  }

  #nextDue(): Slot<R> | undefined {
    for (const heap of this.#due) {
      for (let slot = heap.pop(); slot; slot = heap.pop()) if (this.#current(slot)) return slot;
    }
    return undefined;
  }

  /** Whether a queued slot still stands for its entry (not forgotten, changed or running). */
  #current(slot: Slot<R>): boolean {
    return !slot.entry.running && slot.entry.queued === slot.queued && this.#entries.get(slot.key) === slot.entry;
  }

  #enqueue(key: string, e: Entry<R>): void {
    e.queued++;
    this.#waiting.push({ key, entry: e, queued: e.queued, at: e.nextRunAt });
    // Stale slots (targets changed, keys forgotten) leave only when they come up: drop them
    // once they outnumber the entries.
    const queuedSlots = this.#waiting.size + this.#due.reduce((n, h) => n + h.size, 0);
    if (queuedSlots > 2 * this.#entries.size + 64) {
      this.#waiting.retain((slot) => this.#current(slot));
      for (const heap of this.#due) heap.retain((slot) => this.#current(slot));
    }
  }

  #start(key: string, e: Entry<R>): void {
    e.running = true;
    this.#active++;
    const started = this.#opts.now();
    const target = e.target;
    const p = (async () => {
      let results: CheckResult[] | undefined;
      try {
        results = await this.#opts.run(key, target, this.#abort.signal);
      } catch (err) {
        this.#opts.onError?.(key, err);
      }
      this.#active--;
      e.running = false;
      if (this.#stopped || this.#entries.get(key) !== e) return;
      if (results && !e.confirming && e.target === target && e.snapshot?.request === target && demotes(e.snapshot.results, results)) {
        // Held, not reported (neither the controller nor onRun sees it): the retry tells.
        e.confirming = true;
        e.failures++;
        e.nextRunAt = this.#opts.now() + this.#confirmDelay();
        this.#enqueue(key, e);
        return;
      }
      e.confirming = false;
      const failing = !results || results.some(unhealthy);
      e.failures = failing ? e.failures + 1 : 0;
      e.nextRunAt = this.#opts.now() + this.#delay(e);
      // The target changed while this run was in flight: its results describe the old one.
      if (results && e.target === target) {
        const snapshot = { results, checkedAt: new Date(started), request: target };
        // A first run of a new target counts as a change even with the same rows: the controller
        // may be holding a status until it ends (supersededSince).
        const changed = !e.snapshot || e.snapshot.request !== target || essence(e.snapshot.results) !== essence(results);
        e.snapshot = snapshot;
        this.#opts.onRun?.(key, snapshot, this.#opts.now() - started);
        // Even an unchanged result matters to a rollout waiting for probes after it started.
        if (changed || failing || results.some((r) => r.name.startsWith('http/'))) this.#opts.onChange(key);
      } else if (e.target !== target) {
        e.nextRunAt = this.#opts.now();
      }
      this.#enqueue(key, e);
    })().finally(() => {
      this.#inflight.delete(p);
      this.#schedule();
    });
    this.#inflight.add(p);
  }

  /** The confirming retry: never before the probe cache lets go of the failure it confirms
   *  (FAILURE_TTL_MS, the first retry's delay), so it probes again. */
  #confirmDelay(): number {
    return Math.round(this.#opts.retryBaseMs * (1 + this.#opts.jitter * this.#opts.random()));
  }

  #delay(e: Entry<R>): number {
    const base = e.failures > 0 ? Math.min(e.intervalMs, this.#opts.retryBaseMs * 2 ** (e.failures - 1)) : e.intervalMs;
    const spread = base * this.#opts.jitter;
    return Math.max(1, Math.round(base - spread + 2 * spread * this.#opts.random()));
  }
}
