// Kubernetes Events (events.k8s.io/v1) about our objects, what `kubectl describe` shows.
// Repeats of the same event (same object, type, reason, action, message) within the series
// window are aggregated into one Event's `series.count` instead of creating a flood, and the
// series is written at most every `seriesUpdateMs`. Recording never throws into the caller:
// a failed Event is logged, the reconcile goes on.
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from './client.ts';
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { microTime } from './leader-election.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** events.k8s.io reportingController; default 'mapi-operator'. */
  controller?: string;
  /** reportingInstance: which process (the leader identity). */
  instance: string;
  logger?: Logger;
  clock?: Clock;
  /** Repeats within this window join one series; default 6 min (as client-go). */
  seriesWindowMs?: number;
  /** Minimum time between two writes of one series; default 30 s. */
  seriesUpdateMs?: number;
  requestTimeoutMs?: number;
}

interface SeriesState {
  namespace: string;
  name: string;
  count: number;
  lastObservedMs: number;
  written: Promise<boolean>;
  pendingTimer: TimerHandle | undefined;
  lastWriteMs: number;
}

const REASON_RE = /^[A-Z][A-Za-z0-9]*$/;
const MAX_NOTE = 1024;
const SWEEP_EVERY_MS = 60_000;

export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #series = new Map<string, SeriesState>();
  readonly #inflight = new Set<Promise<unknown>>();
  #nextSweepMs = 0;

  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
  }

  /**
   * Records an event about `regarding`. `reason` is CamelCase (`CertificateIssued`),
   * `action` what the controller did or tried (`Reconcile`, `Apply`). Resolves when the
   * write is done (tests wait for it); it never rejects.
   */
  record(regarding: KubeObject, type: EventType, reason: string, message: string, action = 'Reconcile'): Promise<void> {
    const p = this.#record(regarding, type, reason, message, action).catch((err: unknown) => {
      // The status code says why (403: RBAC lacks events.k8s.io create), so it is logged as such.
      this.#opts.logger?.warn({ err, statusCode: (err as { statusCode?: number }).statusCode, reason, object: `${regarding.metadata.namespace ?? ''}/${regarding.metadata.name ?? ''}` }, 'could not record event');
    });
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
    return p;
  }

  /** Series kept (each within its window, or with a write pending). */
  get seriesCount(): number {
    return this.#series.size;
  }

  normal(regarding: KubeObject, reason: string, message: string, action?: string): Promise<void> {
    return this.record(regarding, 'Normal', reason, message, action);
  }

  warning(regarding: KubeObject, reason: string, message: string, action?: string): Promise<void> {
    return this.record(regarding, 'Warning', reason, message, action);
  }

  /** Writes pending series updates now and waits for every write (graceful shutdown). */
  async flush(): Promise<void> {
    for (const [key, s] of this.#series) {
      if (s.pendingTimer !== undefined) {
        this.#clock.clearTimeout(s.pendingTimer);
        s.pendingTimer = undefined;
        this.#track(this.#writeSeries(key, s));
      }
    }
    await Promise.allSettled([...this.#inflight]);
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined);
    this.#inflight.add(q);
    void q.finally(() => this.#inflight.delete(q));
  }

  async #record(regarding: KubeObject, type: EventType, reason: string, message: string, action: string): Promise<void> {
    if (!REASON_RE.test(reason)) throw new Error(`event reason "${reason}" is not CamelCase`);
    const meta = regarding.metadata;
    if (!meta?.name || !regarding.kind) throw new Error('event about an object without kind or name');
    const now = this.#clock.now();
    const note = message.length > MAX_NOTE ? `${message.slice(0, MAX_NOTE - 3)}...` : message;
    // A digest: a series stays for its window, and the JSON with the note was up to 1 KB each
    // (~7 series per MailDomain while a hoster onboards).
    const key = createHash('sha256').update(JSON.stringify([regarding.apiVersion, regarding.kind, meta.namespace, meta.name, meta.uid, type, reason, action, note])).digest('base64');
    const windowMs = this.#opts.seriesWindowMs ?? 6 * 60_000;
    const existing = this.#series.get(key);
    if (existing && now - existing.lastObservedMs < windowMs && (await existing.written)) {
      existing.count++;
      existing.lastObservedMs = now;
      this.#scheduleSeries(key, existing);
      return;
    }
    if (existing?.pendingTimer !== undefined) this.#clock.clearTimeout(existing.pendingTimer);
    this.#evictOld(now, windowMs);
    // Cluster-scoped objects get their events in `default`, as kubectl expects.
    const namespace = meta.namespace || 'default';
    const name = `${meta.name}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
    const event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.#opts.controller ?? 'mapi-operator',
      reportingInstance: this.#opts.instance.slice(0, 128),
      action,
      reason,
      note,
      type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
    };
    const state: SeriesState = { namespace, name, count: 1, lastObservedMs: now, written: Promise.resolve(false), pendingTimer: undefined, lastWriteMs: now };
    state.written = this.#opts.client
      .request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, body: event, timeoutMs: this.#opts.requestTimeoutMs ?? 10_000 })
      .then(() => true, () => false);
    this.#series.set(key, state);
    if (!(await state.written)) {
      this.#series.delete(key);
      throw new Error(`writing event ${namespace}/${name} (${reason}) failed`);
    }
  }

  #scheduleSeries(key: string, s: SeriesState): void {
    if (s.pendingTimer !== undefined) return;
    const wait = Math.max(0, s.lastWriteMs + (this.#opts.seriesUpdateMs ?? 30_000) - this.#clock.now());
    s.pendingTimer = this.#clock.setTimeout(() => {
      s.pendingTimer = undefined;
      this.#track(this.#writeSeries(key, s));
    }, wait);
  }

  async #writeSeries(_key: string, s: SeriesState): Promise<void> {
    s.lastWriteMs = this.#clock.now();
    try {
      await this.#opts.client.request({
        method: 'PATCH',
        path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(s.namespace)}/events/${encodeURIComponent(s.name)}`,
        body: { series: { count: s.count, lastObservedTime: microTime(s.lastObservedMs) } },
        contentType: 'application/merge-patch+json',
        timeoutMs: this.#opts.requestTimeoutMs ?? 10_000,
      });
    } catch (err) {
      this.#opts.logger?.warn({ err, statusCode: (err as { statusCode?: number }).statusCode, event: `${s.namespace}/${s.name}` }, 'could not update event series');
    }
  }

  /** Series past their window (a lookup ignores them anyway), dropped at most once a
   *  minute: a sweep looks at every series, and on every new Event it was ~1 % of the
   *  operator's CPU at 5,000 MailDomains. */
  #evictOld(now: number, windowMs: number): void {
    if (now < this.#nextSweepMs) return;
    this.#nextSweepMs = now + Math.min(SWEEP_EVERY_MS, windowMs);
    for (const [key, s] of this.#series) {
      if (now - s.lastObservedMs >= windowMs && s.pendingTimer === undefined) this.#series.delete(key);
    }
  }
}
