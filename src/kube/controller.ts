// A controller: informer events → keys of the primary kind → work queue → reconcile(key).
// Reconcile is level-based: it gets a key, reads the world from the caches, and converges.
// - a thrown error: rate-limited requeue (5 ms doubling to 5 min), error metric and log;
// - `{ requeueAfterMs }`: requeue after that long (and the failure history is forgotten);
// - success: forget the key's failure history.
// Events on other kinds map to primary keys through owner references or a mapper function;
// a periodic resync re-enqueues every primary object so drift is corrected even when no
// event arrives (e.g. DNS changed outside the cluster), in the work queue's low lane.
import type { Logger } from 'pino';
import { objectKey, type KubeObject } from './client.ts';
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import type { Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';
import { ItemExponentialBackoff } from './backoff.ts';
import type { Metrics } from '../observability/metrics.ts';
import { objectLogger } from '../observability/logger.ts';

// The reconcile contract for product controllers: return nothing (done), ask to be called
// again after a delay (`requeueAfterMs`, e.g. the next check interval), or again soon with
// backoff but without counting an error (`requeue: true`); throw to retry with backoff.
export type ReconcileResult = { requeueAfterMs?: number; requeue?: boolean } | void;

export interface ReconcileContext {
  /** Logger with {controller, namespace, name} on every line. */
  log: Logger;
  /** Aborts when the manager shuts down; pass it to long calls. */
  signal: AbortSignal;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

/** Maps an object of a watched kind to keys of the primary kind; on an update `before` is the
 *  version it replaces (a mapper can compare instead of remembering every object). */
export type KeyMapper = (obj: KubeObject, before?: KubeObject) => string[];

export interface WatchSpec {
  informer: Informer;
  /** 'owner': objects owned (ownerReferences) by a primary object map to its key. */
  map: 'owner' | KeyMapper;
}

export interface ControllerOptions {
  name: string;
  /** The primary kind: its own events enqueue its own key. */
  primary: Informer;
  watches?: WatchSpec[];
  reconcile: Reconciler;
  /** Keys reconciled at once, across keys (one key never runs twice at once); default 1. */
  concurrency?: number;
  /** Re-enqueue every primary object this often; 0 or absent: no periodic resync. */
  resyncMs?: number;
  /** Re-enqueue on updates only when this says the change matters (default: generation,
   *  labels, annotations, deletion or any change for kinds without generation). */
  updatePredicate?: (oldObj: KubeObject, newObj: KubeObject) => boolean;
  logger: Logger;
  metrics?: Metrics;
  clock?: Clock;
  rateLimiter?: ItemExponentialBackoff;
  /** Reconcile a key at most once per this many ms (see WorkQueueOptions.minIntervalMs). */
  minIntervalMs?: number;
  /** With minIntervalMs: the share of the time one key's reconciles may take (see WorkQueueOptions.maxWorkShare). */
  maxWorkShare?: number;
}

/** Keys of primary objects that own `obj` (same namespace; cluster-scoped owners by name). */
export function ownerKeys(obj: KubeObject, primaryApiVersion: string, primaryKind: string, primaryNamespaced = true): string[] {
  const group = (v: string) => (v.includes('/') ? v.slice(0, v.indexOf('/')) : '');
  return (obj.metadata.ownerReferences ?? [])
    .filter((o) => o.kind === primaryKind && group(o.apiVersion) === group(primaryApiVersion))
    .map((o) => (primaryNamespaced && obj.metadata.namespace ? `${obj.metadata.namespace}/${o.name}` : o.name));
}

/** Default update filter: what a spec-driven controller cares about. Status-only changes
 *  of kinds with a generation do not trigger a reconcile (our own status writes would
 *  otherwise loop). */
export function meaningfulUpdate(oldObj: KubeObject, newObj: KubeObject): boolean {
  const o = oldObj.metadata;
  const n = newObj.metadata;
  if (n.generation === undefined) return o.resourceVersion !== n.resourceVersion;
  return o.generation !== n.generation
    || o.deletionTimestamp !== n.deletionTimestamp
    || JSON.stringify(o.labels ?? {}) !== JSON.stringify(n.labels ?? {})
    || JSON.stringify(o.annotations ?? {}) !== JSON.stringify(n.annotations ?? {})
    || JSON.stringify(o.ownerReferences ?? []) !== JSON.stringify(n.ownerReferences ?? []);
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #opts: ControllerOptions;
  readonly #clock: Clock;
  readonly #unsubscribe: Array<() => void> = [];
  #resyncTimer: TimerHandle | undefined;
  #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.queue = new WorkQueue({ name: opts.name, clock: this.#clock, rateLimiter: opts.rateLimiter, metrics: opts.metrics?.workQueue(opts.name), ...(opts.minIntervalMs ? { minIntervalMs: opts.minIntervalMs } : {}), ...(opts.maxWorkShare ? { maxWorkShare: opts.maxWorkShare } : {}) });
  }

  /** Puts a key on the queue (e.g. from a timer or an external signal). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * Subscribes to the informers and runs the workers. Resolves after `stop()` once every
   * in-flight reconcile has finished. Call after the informers have synced.
   */
  start(): Promise<void> {
    if (this.#running) return this.#running;
    const { primary, watches = [] } = this.#opts;
    const predicate = this.#opts.updatePredicate ?? meaningfulUpdate;
    const enqueueObj = (obj: KubeObject) => this.queue.add(objectKey(obj));
    this.#unsubscribe.push(primary.addHandlers({
      onAdd: enqueueObj,
      onUpdate: (o, n) => { if (predicate(o, n)) enqueueObj(n); },
      onDelete: enqueueObj,
    }));
    const primaryApiVersion = primary.resource.group ? `${primary.resource.group}/${primary.resource.version}` : primary.resource.version;
    for (const w of watches) {
      const mapper: KeyMapper = w.map === 'owner'
        ? (obj) => ownerKeys(obj, primaryApiVersion, primary.resource.kind, primary.resource.namespaced)
        : w.map;
      const enqueueMapped = (obj: KubeObject, before?: KubeObject) => {
        for (const key of mapper(obj, before)) this.queue.add(key);
      };
      this.#unsubscribe.push(w.informer.addHandlers({
        onAdd: enqueueMapped,
        // Owned objects: any change may need correcting (someone edited our Deployment).
        onUpdate: (o, n) => { if (o.metadata.resourceVersion !== n.metadata.resourceVersion) enqueueMapped(n, o); },
        onDelete: (o) => enqueueMapped(o),
      }));
    }
    this.#scheduleResync();
    const concurrency = Math.max(1, this.#opts.concurrency ?? 1);
    this.#opts.metrics?.maxConcurrentReconciles.set({ controller: this.name }, concurrency);
    this.#opts.metrics?.activeWorkers.set({ controller: this.name }, 0);
    this.#running = this.queue.runWorkers(concurrency, (key) => this.#process(key));
    return this.#running;
  }

  /** Stops taking new work and waits (at most `timeoutMs`) for in-flight reconciles. */
  async stop(timeoutMs = 30_000): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    if (this.#resyncTimer !== undefined) this.#clock.clearTimeout(this.#resyncTimer);
    const drained = this.queue.shutDown();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const result = await Promise.race([drained.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.#opts.logger.warn({ controller: this.name, timeoutMs }, 'reconciles still running at the shutdown deadline; aborting them');
    }
    // Tell reconciles still running (or stuck) to give up.
    this.#abort.abort(new Error('controller stopped'));
  }

  #scheduleResync(): void {
    const every = this.#opts.resyncMs;
    if (!every || every <= 0) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      // Behind the keys events added: at 5,000 MailDomains a resync (every 5 min) outgrew what
      // a pass could reconcile in that time, so the queue stayed full of them and a
      // Certificate just issued waited up to ten minutes for its MailDomain's turn.
      for (const key of this.#opts.primary.keys()) this.queue.add(key, 'low');
      this.#scheduleResync();
    }, every);
  }

  async #process(key: string): Promise<void> {
    // Most reconciles log nothing at the configured level, and a pino child (its bindings
    // serialized and redacted) costs more than many of them: made on first use only.
    let logger: Logger | undefined;
    const logOf = () => (logger ??= objectLogger(this.#opts.logger, this.name, key));
    const metrics = this.#opts.metrics;
    const labels = { controller: this.name };
    metrics?.activeWorkers.inc(labels);
    const started = this.#clock.now();
    try {
      const result = await this.#opts.reconcile(key, { get log() { return logOf(); }, signal: this.#abort.signal });
      const after = result && typeof result === 'object' ? result.requeueAfterMs : undefined;
      if (after !== undefined && after > 0) {
        this.queue.forget(key);
        this.queue.addAfter(key, after);
        metrics?.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      } else if (result && typeof result === 'object' && result.requeue) {
        this.queue.addRateLimited(key);
        metrics?.reconcileTotal.inc({ ...labels, result: 'requeue' });
      } else {
        this.queue.forget(key);
        metrics?.reconcileTotal.inc({ ...labels, result: 'success' });
      }
    } catch (err) {
      metrics?.reconcileErrors.inc(labels);
      metrics?.reconcileTotal.inc({ ...labels, result: 'error' });
      this.queue.addRateLimited(key);
      logOf().error({ err, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
    } finally {
      metrics?.reconcileTime.observe(labels, (this.#clock.now() - started) / 1000);
      metrics?.activeWorkers.dec(labels);
    }
  }
}
