// Backoff policies. Two shapes: per-key exponential failure backoff for the work queue
// (client-go's ItemExponentialFailureRateLimiter) and a jittered exponential backoff for
// reconnecting watches, so many informers that fail together do not reconnect together
// (the reconnect storm of client-node #1933).

export interface ExponentialBackoffOptions {
  baseMs: number;
  maxMs: number;
  factor?: number;
}

/** Delay for the n-th consecutive failure (n starts at 0): base * factor^n, capped at max. */
export function exponentialDelay(failures: number, opts: ExponentialBackoffOptions): number {
  const factor = opts.factor ?? 2;
  const raw = opts.baseMs * factor ** failures;
  // `raw` overflows to Infinity for large n; the cap keeps it finite.
  return Number.isFinite(raw) ? Math.min(raw, opts.maxMs) : opts.maxMs;
}

/**
 * Per-key failure backoff, the work queue's rate limiter: 5 ms, 10 ms, 20 ms, ... up to the
 * cap (5 min by default). `forget` resets a key after a success.
 */
export class ItemExponentialBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
  #failures = new Map<string, number>();

  constructor(baseMs = 5, maxMs = 5 * 60_000) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  /** The delay before the next retry of `key`; counts one more failure. */
  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return exponentialDelay(failures, { baseMs: this.baseMs, maxMs: this.maxMs });
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}

/**
 * Jittered exponential backoff for reconnects: delay drawn uniformly from
 * [d/2, d] where d = base * 2^failures capped at max ("equal jitter").
 * `random` is injectable for deterministic tests.
 */
export class JitteredBackoff {
  readonly opts: ExponentialBackoffOptions;
  #failures = 0;
  #random: () => number;

  constructor(opts: ExponentialBackoffOptions, random: () => number = Math.random) {
    this.opts = opts;
    this.#random = random;
  }

  next(): number {
    const d = exponentialDelay(this.#failures, this.opts);
    this.#failures++;
    return d / 2 + (d / 2) * this.#random();
  }

  get failures(): number {
    return this.#failures;
  }

  reset(): void {
    this.#failures = 0;
  }
}
