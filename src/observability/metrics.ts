// Prometheus metrics under controller-runtime's names, so the dashboards and alerts people
// already run for Go operators work for this one. Each Metrics owns its own Registry (not
// prom-client's global one) so tests and several managers in one process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueMetrics } from '../kube/workqueue.ts';
import type { InformerMetrics, RestartReason } from '../kube/informer.ts';

export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

// controller-runtime's buckets for reconcile time and client-go's for the work queue.
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

export class Metrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly queueDuration: Histogram<'name'>;
  readonly workDuration: Histogram<'name'>;
  readonly leader: Gauge<'name'>;
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  readonly lists: Counter<'resource'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = new Registry())];
    this.reconcileTotal = new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers });
    this.reconcileTime = new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers });
    this.reconcileErrors = new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers });
    this.activeWorkers = new Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'], registers });
    this.maxConcurrentReconciles = new Gauge({ name: 'controller_runtime_max_concurrent_reconciles', help: 'Maximum number of concurrent reconciles per controller', labelNames: ['controller'], registers });
    this.queueDepth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.queueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    this.queueDuration = new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames: ['name'], buckets: QUEUE_BUCKETS, registers });
    this.workDuration = new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames: ['name'], buckets: QUEUE_BUCKETS, registers });
    this.leader = new Gauge({ name: 'leader_election_master_status', help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master', labelNames: ['name'], registers });
    this.watchRestarts = new Counter({ name: 'mapi_operator_watch_restarts_total', help: 'Watches started again, by reason (closed by the server, watchdog, error, gone = relist after 410)', labelNames: ['resource', 'reason'], registers });
    this.lists = new Counter({ name: 'mapi_operator_informer_lists_total', help: 'Full lists done by informers (initial sync and relists)', labelNames: ['resource'], registers });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The adapter a WorkQueue reports through. */
  workQueue(name: string): WorkQueueMetrics {
    return {
      depth: (n) => this.queueDepth.set({ name }, n),
      added: () => this.queueAdds.inc({ name }),
      retried: () => this.queueRetries.inc({ name }),
      queueDuration: (s) => this.queueDuration.observe({ name }, s),
      workDuration: (s) => this.workDuration.observe({ name }, s),
    };
  }

  informer(): InformerMetrics {
    return {
      watchRestarted: (resource: string, reason: RestartReason) => this.watchRestarts.inc({ resource, reason }),
      listed: (resource: string) => this.lists.inc({ resource }),
    };
  }
}
