// Wires the three controllers onto one manager: one cluster view (informers and indexes),
// one set of check runs, the standings the MailDomains hand to their server.
import type { Manager } from '../kube/index.ts';
import type { CheckResult, CheckTarget } from '../checks/types.ts';
import { ClusterView } from './cluster-view.ts';
import type { Tenancy } from '../policy/grants.ts';
import { CheckRuns, type CheckKind } from './checks/check-runs.ts';
import { DomainStandings } from './domain-standings.ts';
import { registerMapiServerController } from './mapiserver/controller.ts';
import { registerMailDomainController } from './maildomain/controller.ts';
import { registerMailboxController } from './mailbox/controller.ts';

export interface ControllersOptions {
  manager: Manager;
  /** Runs the check engine for a fully resolved target (real IO and the shared cache bound in). */
  runChecks: (target: CheckTarget, signal: AbortSignal, intervalMs: number) => Promise<CheckResult[]>;
  onCheckRun?: (kind: CheckKind, key: string, results: CheckResult[], durationMs: number, target: CheckTarget) => void;
  /** A checked object is not checked any more (deleted, or no longer served). */
  onCheckForget?: (kind: CheckKind, key: string) => void;
  allowClusterIssuers?: boolean;
  progressDeadlineMs?: number;
  gatekeeperImage?: string;
  concurrency?: number;
  /** Mailboxes reconciled at once; default: concurrency. */
  mailboxConcurrency?: number;
  resyncMs?: number;
  /** The cluster serves Gateway API (gateway.networking.k8s.io/v1 with ListenerSet): watch it. */
  gatewayApi?: boolean;
  /** Granted: only hosts a MailDomainGrant gives to the namespace (src/policy/grants.ts). */
  tenancy?: Tenancy;
}

export function registerControllers(opts: ControllersOptions): { checks: CheckRuns } {
  const { manager } = opts;
  const view = new ClusterView(manager, { gatewayApi: opts.gatewayApi ?? false, tenancy: opts.tenancy ?? 'Open', allowClusterIssuers: opts.allowClusterIssuers ?? true });
  const standings = new DomainStandings();
  const common = { manager, view, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) };
  const resync = opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {};
  let enqueue: (kind: CheckKind, key: string) => void = () => {};
  const checks = new CheckRuns({
    client: manager.client,
    log: manager.logger.child({ component: 'checks' }),
    runChecks: opts.runChecks,
    onChange: (kind, key) => enqueue(kind, key),
    ...(opts.onCheckRun ? { onRun: opts.onCheckRun } : {}),
    ...(opts.onCheckForget ? { onForget: opts.onCheckForget } : {}),
  });
  const servers = registerMapiServerController({
    ...common, ...resync, checks, standings,
    ...(opts.allowClusterIssuers !== undefined ? { allowClusterIssuers: opts.allowClusterIssuers } : {}),
    ...(opts.progressDeadlineMs !== undefined ? { progressDeadlineMs: opts.progressDeadlineMs } : {}),
    ...(opts.gatekeeperImage ? { gatekeeperImage: opts.gatekeeperImage } : {}),
  });
  const domains = registerMailDomainController({
    ...common, ...resync, checks, standings,
    enqueueServer: (key) => servers.controller.enqueue(key),
    ...(opts.allowClusterIssuers !== undefined ? { allowClusterIssuers: opts.allowClusterIssuers } : {}),
  });
  registerMailboxController({ ...common, ...(opts.mailboxConcurrency ? { concurrency: opts.mailboxConcurrency } : {}) });
  enqueue = (kind, key) => (kind === 'MapiServer' ? servers.controller : domains.controller).enqueue(key);
  return { checks };
}
