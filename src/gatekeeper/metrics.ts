// The gatekeeper's Prometheus metrics, in a Registry of its own (the process serves only these).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RequestKind = 'autodiscover' | 'emsmdb' | 'nspi' | 'other';

export class GatekeeperMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'mapi_gatekeeper_requests_total',
    help: 'Requests by kind (autodiscover, emsmdb, nspi, other), decision (allowed, refused) and reason.',
    labelNames: ['kind', 'decision', 'reason'] as const,
    registers: [this.registry],
  });
  readonly unattributed = new Counter({
    name: 'mapi_gatekeeper_unattributed_requests_total',
    help: 'MAPI and Autodiscover requests passed to the server because no mailbox could be told from them.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly openLongPolls = new Gauge({
    name: 'mapi_gatekeeper_open_long_polls',
    help: 'NotificationWait requests in flight.',
    registers: [this.registry],
  });
  readonly endedBySwitch = new Counter({
    name: 'mapi_gatekeeper_requests_ended_by_switch_total',
    help: 'In-flight MAPI requests ended because their mailbox or domain was switched off.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly upstreamLatency = new Histogram({
    name: 'mapi_gatekeeper_upstream_response_seconds',
    help: 'Time from forwarding a request to the server\'s response headers, by kind (long polls excluded).',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'mapi_gatekeeper_upstream_errors_total',
    help: 'Requests the server could not be reached for, or that it broke off.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly accessListReloads = new Counter({
    name: 'mapi_gatekeeper_access_list_reloads_total',
    help: 'Reloads of the access list directory by result (ok, error: the previous list stays).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly accessListLoaded = new Gauge({
    name: 'mapi_gatekeeper_access_list_loaded',
    help: '1 once an access list was read; 0 while every request passes for want of one.',
    registers: [this.registry],
  });
  readonly learnedMailboxIds = new Gauge({
    name: 'mapi_gatekeeper_learned_mailbox_ids',
    help: 'MailboxId GUID to address pairs remembered from Autodiscover answers.',
    registers: [this.registry],
  });

  constructor(withProcessMetrics = true) {
    if (withProcessMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'mapi_gatekeeper_' });
  }
}
