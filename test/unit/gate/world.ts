// A pure stand-in for one reconcile round of both controllers: every MailDomain decided by the
// real decideMailDomain (real gate), its verdict handed to the real decideMapiServer (real gate
// and rollout), and the Deployment it applies fed back as the running one. No fake gate.
import type { V1Deployment } from '@kubernetes/client-node';
import type { MailDomain } from '../../../src/api/maildomain.ts';
import type { MapiServer } from '../../../src/api/mapiserver.ts';
import { autodiscoverHosts } from '../../../src/builders/hosts.ts';
import type { CheckResult } from '../../../src/checks/types.ts';
import { decideMailDomain, type MailDomainInputs, type MailDomainPlan } from '../../../src/controllers/maildomain/decide.ts';
import { decideMapiServer, type MapiServerInputs, type MapiServerPlan } from '../../../src/controllers/mapiserver/decide.ts';
import { releaseUnderProbe, type RunningDeployment } from '../../../src/rollout/decision.ts';
import { EXTERNAL, NOW, row } from './fixtures.ts';

export const READY_CERT = { ready: { status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' }, current: true };

/** What DNS and TLS say about one domain's autodiscover host. */
export type DomainWorld = 'published' | 'unpublished' | 'tls-broken';

export function domainChecks(md: MailDomain, world: DomainWorld, http: 'Passed' | 'Failed' = 'Passed'): CheckResult[] {
  return autodiscoverHosts(md.spec).flatMap(({ host }) => [
    world === 'unpublished' ? row(`dns/${host}`, 'Failed', 'NameNotFound') : row(`dns/${host}`, 'Passed', 'CnameToExternalHost'),
    world === 'tls-broken' ? row(`tls/${host}`, 'Failed', 'NameMismatch') : row(`tls/${host}`, 'Passed', 'CertificateValid'),
    row(`http/${host}`, world === 'unpublished' ? 'Failed' : http),
    row(`tls/${EXTERNAL}`, 'Passed', 'CertificateValid'),
  ]);
}

export function decideDomain(md: MailDomain, server: MapiServer | undefined, world: DomainWorld, over: Partial<MailDomainInputs> = {}): MailDomainPlan {
  return decideMailDomain({
    md, ...(server ? { server } : {}),
    claim: { owned: autodiscoverHosts(md.spec).map((h) => h.host), conflicts: [] },
    issuer: {}, certificate: READY_CERT,
    checks: { results: domainChecks(md, world), checkedAt: NOW },
    now: NOW, options: { allowClusterIssuers: true }, ...over,
  });
}

export function hosted(md: MailDomain, plan: MailDomainPlan, results: CheckResult[], httpRelease?: string): MapiServerInputs['domains'][number] {
  const published = new Set((plan.verdict?.hosts ?? []).filter((h) => h.published).map((h) => `http/${h.host}`));
  return {
    name: md.metadata.name, domain: md.spec.domain, accepted: plan.accepted,
    ...(plan.stalled ? { stalled: plan.stalled } : {}), ...(plan.verdict ? { verdict: plan.verdict } : {}),
    httpResults: results.filter((r) => published.has(r.name)),
    ...(httpRelease !== undefined ? { httpRelease } : {}),
  };
}

export interface Round {
  server: MapiServer;
  domains: { md: MailDomain; world: DomainWorld; over?: Partial<MailDomainInputs> }[];
  deployment?: RunningDeployment;
  now?: Date;
  over?: Partial<MapiServerInputs>;
}

export function round({ server, domains, deployment, now = NOW, over = {} }: Round): { server: MapiServerPlan; domains: MailDomainPlan[] } {
  const plans = domains.map((d) => decideDomain(d.md, server, d.world, { now, ...d.over }));
  // Every probe of this round was made against the Deployment as it is now (as the controllers
  // key them: the release, and whether all its pods run).
  const release = deployment ? releaseUnderProbe(deployment) : undefined;
  const plan = decideMapiServer({
    server,
    externalHostClaim: { owned: true },
    issuer: {},
    certificate: READY_CERT,
    ...(deployment ? { deployment } : {}),
    checks: { results: [row(`tls/${EXTERNAL}`, 'Passed', 'CertificateValid'), row(`http/${EXTERNAL}`, 'Passed', 'Served')], checkedAt: now, ...(release !== undefined ? { release } : {}) },
    domains: domains.map((d, i) => hosted(d.md, plans[i]!, domainChecks(d.md, d.world), release)),
    access: { domains: [], mailboxes: [] },
    now,
    options: { allowClusterIssuers: true, progressDeadlineMs: 600_000 },
    ...over,
  });
  return { server: plan, domains: plans };
}

export function deploymentOf(plan: MapiServerPlan): V1Deployment {
  const d = plan.apply.find((o) => (o as { kind?: string }).kind === 'Deployment');
  if (!d) throw new Error('the plan has no Deployment');
  return d as V1Deployment;
}

/** The applied Deployment as the next round reads it: rolled out and ready, or not. */
export function runningFrom(plan: MapiServerPlan, ready = true): RunningDeployment {
  const d = deploymentOf(plan);
  const replicas = d.spec?.replicas ?? 0;
  return {
    replicas,
    template: d.spec!.template,
    annotations: Object.fromEntries(Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('mapi-operator.io/'))),
    status: { replicas, updatedReplicas: ready ? replicas : 0, readyReplicas: ready ? replicas : 0, observedGeneration: 1, generation: 1, progressDeadlineExceeded: false },
  };
}

export const imageOf = (plan: MapiServerPlan): string | undefined => deploymentOf(plan).spec?.template.spec?.containers.find((c) => c.name === 'mapi')?.image;
export const replicasOf = (plan: MapiServerPlan): number | undefined => deploymentOf(plan).spec?.replicas;
