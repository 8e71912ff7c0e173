// Runs the DNS/TLS/HTTP checks of every MailDomain in the background, on its interval (sooner,
// with backoff, after a failure; always with jitter so a fleet does not probe in lock-step),
// and wakes the controller only when a result changed. Reconcile reads the latest snapshot
// and never waits on the network itself.
import type { CheckResult } from '../../checks/types.ts';
import { stableJson } from '../../api/stable-json.ts';
import { CERTIFICATE_NOT_ISSUED } from '../../checks/tls-check.ts';

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
  intervalMs: number;
  snapshot?: CheckSnapshot<R>;
  nextRunAt: number;
  running: boolean;
  failures: number;
}

// A tls/ row not probed for want of a certificate is no failure to retry: the certificate's
// issuance changes the target, and that runs the checks at once.
const unhealthy = (r: CheckResult) => r.status === 'Failed' || (r.status === 'Unknown' && r.reason !== CERTIFICATE_NOT_ISSUED);

/** 0: never checked as it is now; 1: its last run failed (a retry); 2: a routine re-check. */
function urgency<R>(e: Entry<R>): number {
  if (!e.snapshot || e.snapshot.request !== e.target) return 0;
  return e.failures > 0 ? 1 : 2;
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

  constructor(opts: CheckSchedulerOptions<R>) {
    // 16 runs at once: a run mostly waits on DNS and TLS round trips, and the engine's own
    // limits (overall and per host) still bound the sockets. With 4, a hoster's MailDomains
    // stayed ChecksPending for minutes after their Certificates were Ready (docs/benchmarks.md).
    this.#opts = { now: Date.now, concurrency: 16, retryBaseMs: 5_000, jitter: 0.1, random: Math.random, ...opts };
  }

  /** Registers or updates a MailDomain's target; a changed target is checked at once. */
  ensure(key: string, target: R, intervalMs: number): void {
    if (this.#stopped) return;
    const fingerprint = stableJson(target);
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#entries.set(key, { target, fingerprint, intervalMs, nextRunAt: this.#opts.now(), running: false, failures: 0 });
    } else if (entry.fingerprint !== fingerprint || entry.intervalMs !== intervalMs) {
      entry.target = target;
      entry.fingerprint = fingerprint;
      entry.intervalMs = intervalMs;
      entry.nextRunAt = this.#opts.now();
      entry.failures = 0;
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

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    const now = this.#opts.now();
    let next = Number.POSITIVE_INFINITY;
    // Urgency first, then the most overdue. Starting due entries in insertion order let the
    // first MailDomains, due again every interval, take every free slot while later ones never
    // ran (a hoster's MailDomains stuck at ChecksPending when a round took longer than the
    // interval). And when a round takes longer than the interval, a target never checked (a
    // certificate just issued) or a retry after a failure is behind every routine re-check
    // already overdue: at 5,000 MailDomains that was a whole round, tens of minutes, for the
    // results that decide Ready and the gate. Those run first; a routine re-check of a passing
    // target only confirms what the status already says.
    const due: Array<[string, Entry<R>]> = [];
    for (const [key, e] of this.#entries) {
      if (e.running) continue;
      if (e.nextRunAt <= now) due.push([key, e]);
      else next = Math.min(next, e.nextRunAt);
    }
    due.sort((a, b) => urgency(a[1]) - urgency(b[1]) || a[1].nextRunAt - b[1].nextRunAt);
    for (const [key, e] of due) {
      if (this.#active < this.#opts.concurrency) this.#start(key, e);
      else next = Math.min(next, e.nextRunAt);
    }
    if (Number.isFinite(next)) {
      this.#timer = setTimeout(() => this.#schedule(), Math.max(10, Math.min(next - now, 2 ** 31 - 1)));
      this.#timer.unref?.();
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
      const failing = !results || results.some(unhealthy);
      e.failures = failing ? e.failures + 1 : 0;
      e.nextRunAt = this.#opts.now() + this.#delay(e);
      // The target changed while this run was in flight: its results describe the old one.
      if (results && e.target === target) {
        const snapshot = { results, checkedAt: new Date(started), request: target };
        const changed = !e.snapshot || essence(e.snapshot.results) !== essence(results);
        e.snapshot = snapshot;
        this.#opts.onRun?.(key, snapshot, this.#opts.now() - started);
        // Even an unchanged result matters to a rollout waiting for probes after it started.
        if (changed || failing || results.some((r) => r.name.startsWith('http/'))) this.#opts.onChange(key);
      } else if (e.target !== target) {
        e.nextRunAt = this.#opts.now();
      }
    })().finally(() => {
      this.#inflight.delete(p);
      this.#schedule();
    });
    this.#inflight.add(p);
  }

  #delay(e: Entry<R>): number {
    const base = e.failures > 0 ? Math.min(e.intervalMs, this.#opts.retryBaseMs * 2 ** (e.failures - 1)) : e.intervalMs;
    const spread = base * this.#opts.jitter;
    return Math.max(1, Math.round(base - spread + 2 * spread * this.#opts.random()));
  }
}
