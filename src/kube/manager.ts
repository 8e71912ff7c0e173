// The manager: one per process (`mapi-operator run`). It builds the client, serves
// /healthz, /readyz and /metrics, starts the informers (in every replica, so a new leader
// starts with warm caches), waits for them to sync, and runs the controllers only while this
// process leads. SIGTERM/SIGINT: stop taking new work, let in-flight reconciles finish
// (bounded), release the lease, close the servers, resolve so the CLI exits 0.
import type { Logger } from 'pino';
import { KubeClient, type KubeObject, type ResourceRef } from './client.ts';
import { loadKubeConfig, type ClusterConfig } from './kubeconfig.ts';
import { cacheTransform, dropStatus, Informer, type InformerOptions, type ObjectStore } from './informer.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import type { FieldPacker } from './packed-fields.ts';
import { LeaderElector, defaultIdentity } from './leader-election.ts';
import { EventRecorder } from './events.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLogger } from '../observability/logger.ts';
import { HealthChecks, startServing, type ReadyCheck, type Serving } from '../observability/health-server.ts';

// Loading the configuration (without client-node in the common cases): kubeconfig.ts.
export { loadKubeConfig } from './kubeconfig.ts';

export interface LeaderElectionConfig {
  enabled: boolean;
  /** Namespace of the Lease (the operator's own namespace). */
  namespace: string;
  /** Lease name; default 'mapi-operator-leader'. */
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  /** A KubeConfig already built (tests); else loaded with loadKubeConfig(kubeconfigPath). */
  kubeConfig?: ClusterConfig;
  kubeconfigPath?: string;
  /** `--namespace` (repeatable): watch only these namespaces; empty: all. */
  namespaces?: string[];
  /** `--label-selector`: applied to informers that ask for it (the primary kinds). */
  labelSelector?: string;
  leaderElection?: LeaderElectionConfig;
  /** `--metrics-addr`, default ':8080'; '0' disables. */
  metricsAddr?: string;
  /** `--health-addr`, default ':8081'; '0' disables. */
  healthAddr?: string;
  logger?: Logger;
  metrics?: Metrics;
  /** How long shutdown waits for in-flight reconciles; default 30 s. */
  gracefulShutdownMs?: number;
  /** Install SIGTERM/SIGINT handlers (default true; tests call stop() instead). */
  handleSignals?: boolean;
  /** Time-out for the initial cache sync; default 2 min. */
  cacheSyncTimeoutMs?: number;
  /** Informer tuning passed to every informer (tests shorten the watchdog). */
  informerDefaults?: Pick<InformerOptions, 'watchdogMs' | 'watchTimeoutSeconds' | 'backoff' | 'requestTimeoutMs'>;
}

export type StopReason = 'signal' | 'stopped' | 'lost-leadership' | 'cache-sync-failed';

export interface InformerRequest {
  /** Apply the manager's --label-selector to this kind (only the primary kinds usually). */
  useLabelSelector?: boolean;
  /** Override namespaces (e.g. a cluster-wide view for host-conflict detection). */
  namespaces?: string[];
  labelSelector?: string;
  /** Keep each object's metadata and spec, not its status: for a view that only decides who
   *  declared what (host claims across namespaces), where the status is only memory. */
  withoutStatus?: boolean;
  /** What to keep of each object, after the cache's own transform (cacheTransform) pooled its
   *  strings: for a kind cached by the hundred thousand, a compact record of the fields read.
   *  Part of the informer's identity (by the function's name). */
  compact?: (obj: KubeObject) => KubeObject;
  /** Where the informer keeps the objects (ObjectStore; default a Map). Part of its identity
   *  (by the function's name). */
  store?: () => ObjectStore<KubeObject>;
  /** Keep these fields of each object deflated (FieldPacker), taken off before the cache's
   *  transform so their strings are never pooled. Part of the informer's identity (by the
   *  packer's name). */
  pack?: FieldPacker;
}

/** What an informer asked for with `req` keeps of each object: the cache's own transform
 *  (cacheTransform), then the request's (no status, compact, fields packed). */
export function requestTransform(req: Pick<InformerRequest, 'withoutStatus' | 'compact' | 'pack'>): (o: KubeObject) => KubeObject {
  const { withoutStatus = false, compact, pack: packer } = req;
  return (o) => {
    const unpacked = withoutStatus ? dropStatus(o) : o;
    const values = packer?.take(unpacked);
    const kept = values ? packer!.without(unpacked) : unpacked;
    const out = compact ? compact(cacheTransform(kept)) : cacheTransform(kept);
    return values ? packer!.attach(out, values) : out;
  };
}

export class Manager {
  readonly kubeConfig: ClusterConfig;
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health = new HealthChecks();
  /** Identity in the Lease and in Events' reportingInstance. */
  readonly identity: string;
  readonly events: EventRecorder;
  readonly #opts: ManagerOptions;
  readonly #informers = new Map<string, Informer>();
  readonly #controllers: Array<{ controller: Controller; running?: Promise<void> }> = [];
  #elector: LeaderElector | undefined;
  #serving: Serving | undefined;
  #stopped: { promise: Promise<StopReason>; resolve: (r: StopReason) => void };
  #stopping: Promise<void> | undefined;
  #started = false;
  #controllersRunning = false;
  #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(opts: ManagerOptions = {}) {
    this.#opts = opts;
    this.kubeConfig = opts.kubeConfig ?? loadKubeConfig(opts.kubeconfigPath);
    this.client = new KubeClient(this.kubeConfig);
    this.logger = opts.logger ?? createLogger();
    this.metrics = opts.metrics ?? new Metrics({ defaultMetrics: true });
    this.identity = opts.leaderElection?.identity ?? defaultIdentity();
    this.events = new EventRecorder({ client: this.client, instance: this.identity, logger: this.logger.child({ component: 'events' }) });
    let resolve!: (r: StopReason) => void;
    const promise = new Promise<StopReason>((r) => { resolve = r; });
    this.#stopped = { promise, resolve };
    this.health.add('informers-synced', () => {
      const waiting = [...this.#informers.values()].filter((i) => !i.hasSynced()).map((i) => i.resource.plural);
      return waiting.length === 0 ? true : `caches not synced: ${waiting.join(', ')}`;
    });
  }

  /** The shared informer of a kind (one per resource and selector), created on first use. */
  informer<T extends KubeObject = KubeObject>(resource: ResourceRef, req: InformerRequest = {}): Informer<T> {
    const labelSelector = req.labelSelector ?? (req.useLabelSelector ? this.#opts.labelSelector : undefined);
    const namespaces = req.namespaces ?? this.#opts.namespaces ?? [];
    const withoutStatus = req.withoutStatus ?? false;
    const compact = req.compact;
    const packer = req.pack;
    const id = JSON.stringify([resource.group, resource.version, resource.plural, labelSelector ?? '', namespaces, withoutStatus, compact?.name ?? '', req.store?.name ?? '', packer?.name ?? '']);
    let inf = this.#informers.get(id);
    if (!inf) {
      inf = new Informer<KubeObject>({
        ...this.#opts.informerDefaults,
        client: this.client,
        resource,
        namespaces,
        labelSelector,
        ...(req.store ? { store: req.store } : {}),
        ...(withoutStatus || compact || packer ? { transform: requestTransform(req) } : {}),
        logger: this.logger.child({ component: 'informer' }),
        metrics: this.metrics.informer(),
      });
      this.#informers.set(id, inf);
      if (this.#started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  /** No --namespace: every informer that is not asked for other namespaces sees them all. */
  get watchesAllNamespaces(): boolean {
    return (this.#opts.namespaces ?? []).length === 0;
  }

  /** Registers a controller; it runs only while this process leads. */
  addController(opts: Omit<ControllerOptions, 'logger' | 'metrics'> & { logger?: Logger }): Controller {
    const controller = new Controller({ ...opts, logger: opts.logger ?? this.logger, metrics: this.metrics });
    this.#controllers.push({ controller });
    return controller;
  }

  addReadyCheck(name: string, check: ReadyCheck): void {
    this.health.add(name, check);
  }

  /** True while controllers run: this process leads (or leader election is off). */
  get isLeader(): boolean {
    return this.#controllersRunning && !this.#stopping;
  }

  /** URLs actually served (port 0 resolved). */
  get serving(): Serving | undefined {
    return this.#serving;
  }

  /**
   * Runs until SIGTERM/SIGINT, stop(), a lost lease, or a failed cache sync. Resolves with
   * why, after the graceful shutdown has finished.
   */
  async start(): Promise<StopReason> {
    if (this.#started) throw new Error('manager already started');
    this.#started = true;
    const log = this.logger.child({ component: 'manager' });
    if (this.#opts.handleSignals ?? true) {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        const handler = () => {
          log.info({ signal: sig }, 'shutting down');
          void this.stop('signal');
        };
        process.once(sig, handler);
        this.#signalHandlers.push([sig, handler]);
      }
    }
    this.#serving = await startServing({
      metricsAddr: this.#opts.metricsAddr ?? ':8080',
      healthAddr: this.#opts.healthAddr ?? ':8081',
      registry: this.metrics.registry,
      health: this.health,
    });
    log.info({ metrics: this.#serving.metricsUrl, health: this.#serving.healthUrl, identity: this.identity }, 'serving metrics and health');
    for (const inf of this.#informers.values()) inf.start();
    const syncAbort = new AbortController();
    const syncTimer = setTimeout(() => syncAbort.abort(new Error('cache sync time-out')), this.#opts.cacheSyncTimeoutMs ?? 120_000);
    try {
      await Promise.race([
        Promise.all([...this.#informers.values()].map((i) => i.waitForSync(syncAbort.signal))),
        this.#stopped.promise,
      ]);
    } catch (err) {
      log.error({ err }, 'informer caches did not sync');
      void this.stop('cache-sync-failed');
    } finally {
      clearTimeout(syncTimer);
    }
    if (!this.#stopping) {
      log.info({ informers: this.#informers.size }, 'caches synced');
      const le = this.#opts.leaderElection;
      if (le?.enabled) {
        this.metrics.leader.set({ name: le.name ?? 'mapi-operator-leader' }, 0);
        this.#elector = new LeaderElector({
          client: this.client,
          namespace: le.namespace,
          name: le.name ?? 'mapi-operator-leader',
          identity: this.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          logger: this.logger.child({ component: 'leader-election' }),
          onStartedLeading: () => {
            this.metrics.leader.set({ name: le.name ?? 'mapi-operator-leader' }, 1);
            this.#startControllers();
          },
          onStoppedLeading: () => {
            this.metrics.leader.set({ name: le.name ?? 'mapi-operator-leader' }, 0);
            // Another replica may already be reconciling: stop at once. Exiting (the CLI
            // returns non-zero) gives a clean restart as a candidate, like controller-runtime.
            if (!this.#stopping) void this.stop('lost-leadership');
          },
        });
        void this.#elector.run();
      } else {
        this.#startControllers();
      }
    }
    return this.#stopped.promise;
  }

  #startControllers(): void {
    if (this.#stopping) return;
    this.#controllersRunning = true;
    for (const entry of this.#controllers) entry.running ??= entry.controller.start();
  }

  /** Graceful shutdown; idempotent. */
  stop(reason: StopReason = 'stopped'): Promise<void> {
    this.#stopping ??= this.#shutdown(reason);
    return this.#stopping;
  }

  async #shutdown(reason: StopReason): Promise<void> {
    const log = this.logger.child({ component: 'manager' });
    const graceMs = this.#opts.gracefulShutdownMs ?? 30_000;
    // 1. Stop taking new work; let in-flight reconciles finish (bounded).
    await Promise.all(this.#controllers.map((c) => c.controller.stop(graceMs)));
    this.#controllersRunning = false;
    // 2. Hand the lease over (not when we lost it: it is someone else's now).
    await this.#elector?.stop({ release: reason !== 'lost-leadership' });
    // 3. Flush event series, stop watches, close the servers.
    await this.events.flush();
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    await this.#serving?.close();
    for (const [sig, handler] of this.#signalHandlers) process.removeListener(sig, handler);
    log.info({ reason }, 'stopped');
    this.#stopped.resolve(reason);
  }
}
