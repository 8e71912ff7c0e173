// One host is probed once per interval however many MailDomains (or reconciles) ask: results
// are kept per check name + inputs for a TTL, and callers that ask while a probe is running
// share it instead of starting another.
import type { CheckResult, Clock } from './types.ts';
import { shortDigest, stableJson } from '../api/stable-json.ts';

export interface ProbeCacheOptions {
  clock: Clock;
  /** How long a Passed result is reused at most: the re-check interval. */
  ttlMs: number;
  /** Anything else is reused for a shorter time, so a fix is seen soon (default: at most
   *  FAILURE_TTL_MS). */
  failureTtlMs?: number;
}

/**
 * The default life of a result that did not pass: no longer than the check scheduler's first
 * retry of a failing run (5 s), or that retry meets the very answer it retries. It used to be
 * min(TTL, 30 s), a whole interval at the usual 30 s: a certificate the front started serving a
 * second after the first failed handshake was seen only an interval later.
 */
export const FAILURE_TTL_MS = 5_000;

interface Entry {
  expiresAt: number;
  /** The probe while it runs (callers meanwhile share it), then its result: a settled promise
   *  kept beside it was one more object per entry for nothing. */
  value: Promise<CheckResult> | CheckResult;
}

export class ProbeCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #failureTtlMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Intervals are counted from here (see endOfInterval). */
  readonly #origin: number;
  #sweptAt: number;

  constructor(options: ProbeCacheOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
    this.#failureTtlMs = options.failureTtlMs ?? Math.min(options.ttlMs, FAILURE_TTL_MS);
    this.#origin = this.#clock.now();
    this.#sweptAt = this.#origin;
  }

  /** The cached result for this check and inputs, or the result of `probe` (then cached). */
  async get(checkName: string, inputs: unknown, probe: () => Promise<CheckResult>): Promise<CheckResult> {
    const key = probeCacheKey(checkName, inputs);
    const now = this.#clock.now();
    this.#evictExpired(now);
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    // Until the probe ends the entry lives "forever", so concurrent callers share it.
    const running = probe();
    const entry: Entry = { expiresAt: Number.POSITIVE_INFINITY, value: running };
    this.#entries.set(key, entry);
    try {
      const result = await running;
      const settledAt = this.#clock.now();
      entry.expiresAt = result.status === 'Passed' ? this.endOfInterval(settledAt) : settledAt + this.#failureTtlMs;
      entry.value = result;
      return result;
    } catch (err) {
      this.#entries.delete(key);
      throw err;
    }
  }

  /**
   * A Passed result lives until the end of the interval it settled in (at most a TTL), so the
   * results of one run expire together. Living a TTL from each one's own settling, a host's
   * tls/ row and its http/ row (which settles a little later) fell due apart, and the runs of
   * 5,000 MailDomains, one every 60 ms, re-probed them in two runs: two TLS connections an
   * interval to the external host they all share, instead of one.
   * What else a run builds on its results (the external host's kept resolution) expires with
   * them: a bound function, passed on as is.
   */
  readonly endOfInterval = (settledAt: number): number =>
    this.#origin + (Math.floor((settledAt - this.#origin) / this.#ttlMs) + 1) * this.#ttlMs;

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** At most once per failure TTL: a sweep on every lookup made a round of N MailDomains' runs
   *  cost N × (their cached results), quadratic in the number of hosted domains. */
  #evictExpired(now: number): void {
    if (now - this.#sweptAt < this.#failureTtlMs) return;
    this.#sweptAt = now;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

/** Stable across key order; secrets must be hashed by the caller before they get here. The
 *  inputs' shortDigest: a key per check of every MailDomain lives for an interval, and the
 *  whole hex digest made each ~40 B longer (~1.5 MiB at 5,000 MailDomains). Joined, not a
 *  template: a template makes a rope of its parts (and the check name is often one itself),
 *  which a heap snapshot at 5,000 MailDomains showed as 85,620 rope nodes under 24,000 keys; a
 *  joined key is one flat string, 32 B less an entry. */
export function probeCacheKey(checkName: string, inputs: unknown): string {
  return [checkName, '|', shortDigest(stableJson(inputs))].join('');
}
