// Leader election on a coordination.k8s.io/v1 Lease, client-go's algorithm:
// - a candidate takes the lease when it is free (no holder) or expired; expiry is judged by
//   how long *we* have seen the same record unchanged (observed time on our clock), so
//   clock skew between nodes cannot make two leaders;
// - every write carries the resourceVersion read just before (optimistic concurrency): of
//   two candidates racing for a lease, the apiserver lets exactly one win (409 for the other);
// - the leader renews every retry period; when no renewal succeeded within the renew
//   deadline it stops leading (the signal passed to onStartedLeading aborts);
// - on stop with release (SIGTERM) the leader empties holderIdentity and sets a 1 s lease
//   duration, like ReleaseOnCancel, so a successor takes over at once.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { realClock, sleep, type Clock } from './clock.ts';
import { isAlreadyExists, isConflict, isNotFound } from './errors.ts';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Default: hostname + random suffix, unique per process. */
  identity?: string;
  leaseDurationMs?: number; // 15 s
  renewDeadlineMs?: number; // 10 s
  retryPeriodMs?: number; // 2 s
  /** Called once when this process becomes leader; `signal` aborts when it stops leading. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
  logger?: Logger;
  clock?: Clock;
  /** Time-out of each lease read/write; default: the retry period, at least 5 s. */
  requestTimeoutMs?: number;
}

export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const LEASES = '/apis/coordination.k8s.io/v1';

export class LeaderElector {
  readonly identity: string;
  readonly #opts: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #requestTimeoutMs: number;
  #observed: { record: string; at: number; lease: Lease } | undefined;
  #leading = false;
  #leaderSignal: AbortController | undefined;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #lastLeader = '';
  // onStartedLeading was called, so onStoppedLeading is owed.
  #notified = false;

  constructor(opts: LeaderElectionOptions) {
    this.#opts = opts;
    this.identity = opts.identity ?? defaultIdentity();
    this.#clock = opts.clock ?? realClock;
    this.#leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? Math.max(5_000, this.#retryPeriodMs);
    if (this.#leaseDurationMs <= this.#renewDeadlineMs) throw new Error('leader election: the lease duration must be longer than the renew deadline');
    if (this.#renewDeadlineMs <= this.#retryPeriodMs * 1.2) throw new Error('leader election: the renew deadline must be longer than 1.2 × the retry period');
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Starts campaigning in the background; resolves once the loop has ended (after stop). */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /**
   * Stops campaigning and leading. With `release` (default) a leader hands the lease back
   * so another candidate takes over at once instead of after the lease duration.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.#stop.abort(new Error('leader election stopped'));
    await this.#running?.catch(() => undefined);
    const wasLeading = this.#leading;
    if (wasLeading) this.#stopLeading();
    if (wasLeading && (opts.release ?? true)) await this.#release();
  }

  async #loop(): Promise<void> {
    const stop = this.#stop.signal;
    const log = this.#opts.logger;
    // Acquire: try every retry period (jittered) until this process holds the lease.
    while (!stop.aborted && !this.#leading) {
      if (await this.#tryAcquireOrRenew()) {
        this.#leading = true;
        this.#leaderSignal = new AbortController();
        // stop() raced the acquisition: it will release the lease; start nothing.
        if (stop.aborted) return;
        this.#notified = true;
        log?.info({ lease: `${this.#opts.namespace}/${this.#opts.name}`, identity: this.identity }, 'became leader');
        try {
          this.#opts.onStartedLeading(this.#leaderSignal.signal);
        } catch (err) {
          log?.error({ err }, 'onStartedLeading threw');
        }
        break;
      }
      try {
        await sleep(this.#clock, this.#retryPeriodMs * (1 + 0.2 * Math.random()), stop);
      } catch {
        return;
      }
    }
    // Renew: every retry period; give up leadership when the renew deadline passes without
    // a successful renewal.
    while (!stop.aborted && this.#leading) {
      const deadline = this.#clock.now() + this.#renewDeadlineMs;
      let renewed = false;
      while (!stop.aborted && this.#clock.now() < deadline) {
        try {
          await sleep(this.#clock, this.#retryPeriodMs, stop);
        } catch {
          return;
        }
        if (await this.#tryAcquireOrRenew(deadline - this.#clock.now())) {
          renewed = true;
          break;
        }
      }
      if (stop.aborted) return;
      if (!renewed) {
        log?.error({ lease: `${this.#opts.namespace}/${this.#opts.name}` }, 'failed to renew the lease within the renew deadline; stopped leading');
        this.#stopLeading();
        return;
      }
    }
  }

  #stopLeading(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#leaderSignal?.abort(new Error('lost leadership'));
    if (!this.#notified) return;
    this.#notified = false;
    try {
      this.#opts.onStoppedLeading?.();
    } catch (err) {
      this.#opts.logger?.error({ err }, 'onStoppedLeading threw');
    }
  }

  #path(name?: string): string {
    return `${LEASES}/namespaces/${encodeURIComponent(this.#opts.namespace)}/leases${name ? `/${encodeURIComponent(name)}` : ''}`;
  }

  #timeout(budgetMs?: number): number {
    return Math.max(1_000, Math.min(this.#requestTimeoutMs, budgetMs ?? Infinity));
  }

  /** One round of client-go's tryAcquireOrRenew. Never throws; false means "not this time". */
  async #tryAcquireOrRenew(budgetMs?: number): Promise<boolean> {
    const now = this.#clock.now();
    const client = this.#opts.client;
    const desired: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.round(this.#leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let current: Lease;
      try {
        current = await client.request<Lease>({ path: this.#path(this.#opts.name), timeoutMs: this.#timeout(budgetMs) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const created = await client.request<Lease>({
          method: 'POST',
          path: this.#path(),
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#opts.name, namespace: this.#opts.namespace }, spec: desired },
          timeoutMs: this.#timeout(budgetMs),
        });
        this.#observe(created, this.#clock.now());
        return true;
      }
      const spec = current.spec ?? {};
      const record = JSON.stringify(spec);
      if (!this.#observed || this.#observed.record !== record) this.#observe(current, this.#clock.now());
      const holder = spec.holderIdentity ?? '';
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      const observedAt = this.#observed?.at ?? now;
      const iHold = holder === this.identity;
      if (holder !== '' && !iHold && observedAt + durationMs > now) return false;
      if (iHold) {
        desired.acquireTime = spec.acquireTime ?? desired.acquireTime;
        desired.leaseTransitions = spec.leaseTransitions ?? 0;
      } else {
        desired.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
      }
      const updated = await client.request<Lease>({
        method: 'PUT',
        path: this.#path(this.#opts.name),
        // Carrying metadata.resourceVersion makes this a compare-and-swap.
        body: { ...current, spec: desired },
        timeoutMs: this.#timeout(budgetMs),
      });
      this.#observe(updated, this.#clock.now());
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) {
        this.#opts.logger?.debug({ err: (err as Error).message }, 'lease changed under us; retrying');
      } else {
        this.#opts.logger?.warn({ err }, 'lease read/write failed');
      }
      return false;
    }
  }

  #observe(lease: Lease, at: number): void {
    this.#observed = { record: JSON.stringify(lease.spec ?? {}), at, lease };
    const leader = lease.spec?.holderIdentity ?? '';
    if (leader !== this.#lastLeader) {
      this.#lastLeader = leader;
      if (leader) {
        this.#opts.logger?.info({ leader }, 'new leader observed');
        try {
          this.#opts.onNewLeader?.(leader);
        } catch (err) {
          this.#opts.logger?.error({ err }, 'onNewLeader threw');
        }
      }
    }
  }

  /** Hands the lease back if we still hold it (ReleaseOnCancel). Never throws. */
  async #release(): Promise<void> {
    const lease = this.#observed?.lease;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    const now = this.#clock.now();
    try {
      await this.#opts.client.request<Lease>({
        method: 'PUT',
        path: this.#path(this.#opts.name),
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) } },
        timeoutMs: this.#requestTimeoutMs,
      });
      this.#opts.logger?.info({ lease: `${this.#opts.namespace}/${this.#opts.name}` }, 'released the lease');
    } catch (err) {
      // Someone else already took it, or the apiserver is gone: the lease expires on its own.
      this.#opts.logger?.warn({ err }, 'could not release the lease; it will expire');
    }
  }
}
