// The MailDomain controller: gather (caches and indexes) → decide (pure, decide.ts) → apply
// what drifted → status once. A MailDomain's own children are its autodiscover Certificate and
// exposure; what it means for the server (accepted, passing) is recorded for the MapiServer
// controller, which owns the rollout.
import type { KubeObject, Manager, ReconcileContext, ReconcileResult } from '../../kube/index.ts';
import { splitKey } from '../../kube/index.ts';
import { API_VERSION } from '../../api/common.ts';
import type { MailDomain } from '../../api/maildomain.ts';
import type { MapiServer } from '../../api/mapiserver.ts';
import type { Condition } from '../../api/conditions.ts';
import { parseDuration } from '../../api/duration.ts';
import { releaseUnderProbe } from '../../rollout/decision.ts';
import { serverChildNames, domainChildNames, autodiscoverHosts } from '../../builders/index.ts';
import { domainCheckTarget } from '../../gate/index.ts';
import { transitionEvents } from '../conditions.ts';
import { applyPlan, reportInvalidSpec } from '../apply-plan.ts';
import { keyOf, type ClusterView } from '../cluster-view.ts';
import { notGrantedObjection, ungranted } from '../../policy/grants.ts';
import { ownersByLabel } from '../label-watch.ts';
import type { CheckRequest, CheckRuns } from '../checks/check-runs.ts';
import type { DomainStandings } from '../domain-standings.ts';
import { observedCertificate, runningDeployment, servedCertificates, unissuedHosts } from '../observed.ts';
import { decideMailDomain } from './decide.ts';

export const MAILDOMAIN_CONTROLLER = 'maildomain';

/** Longest a status waits for the run of a changed check target (see reconcile). */
export const STATUS_HOLD_MS = 30_000;

export interface MailDomainControllerOptions {
  manager: Manager;
  view: ClusterView;
  checks: CheckRuns;
  standings: DomainStandings;
  /** The MapiServer controller looks again (a domain's standing changed). */
  enqueueServer: (serverKey: string) => void;
  allowClusterIssuers?: boolean;
  concurrency?: number;
  resyncMs?: number;
  now?: () => Date;
}

export function registerMailDomainController(opts: MailDomainControllerOptions) {
  const { manager, view, checks, standings } = opts;
  const now = opts.now ?? (() => new Date());
  const live: Record<string, typeof view.certificates | undefined> = {
    Certificate: view.certificates, Ingress: view.ingresses, HTTPRoute: view.httpRoutes, ListenerSet: view.listenerSets,
  };
  const liveOf = (kind: string) => live[kind];

  function serverStall(namespace: string, name: string): { reason: string; message: string } | undefined {
    const raw = view.servers.get(namespace, name) ?? view.allServers.get(namespace, name);
    const stalled = (raw?.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === 'Stalled');
    return stalled?.status === 'True' ? { reason: stalled.reason, message: stalled.message } : undefined;
  }

  function forget(key: string): void {
    checks.forget('MailDomain', key);
    const serverKey = standings.delete(key);
    if (serverKey) opts.enqueueServer(serverKey);
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name } = splitKey(key);
    const raw = view.domains.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      // Children go with the owner (garbage collector); only our own memory is ours to drop.
      forget(key);
      return;
    }
    const owner = { ...raw, apiVersion: API_VERSION, kind: 'MailDomain' } as KubeObject;
    const parsed = view.parseDomain(raw);
    if (!parsed.ok) {
      await reportInvalidSpec(manager, owner, parsed.message, 'MailDomain', now(), ctx);
      forget(key);
      return;
    }
    const md = parsed.value;
    const serverKey = `${namespace}/${md.spec.serverRef}`;
    const server = view.server(namespace, md.spec.serverRef);
    const serverObject = server ? undefined : view.servers.get(namespace, md.spec.serverRef) ?? view.allServers.get(namespace, md.spec.serverRef);
    const serverUnreadable = serverObject !== undefined && !serverObject.metadata.deletionTimestamp && !view.parseServer(serverObject).ok;
    // Tenancy Granted: every name it would serve must be granted to its namespace; until then
    // it owns no host (no certificate name, no route, no probe) and never blocks a granted one.
    const notGranted = notGrantedObjection('MailDomain', namespace, [
      ...ungranted(view.grantPolicy, namespace, [md.spec.domain]).map((host) => ({ field: 'spec.domain', host })),
      ...ungranted(view.grantPolicy, namespace, md.spec.aliases).map((host) => ({ field: 'spec.aliases', host })),
      ...ungranted(view.grantPolicy, namespace, autodiscoverHosts(md.spec).map((h) => h.host)).map((host) => ({ field: 'autodiscover host', host })),
    ]);
    const claim = notGranted ? { owned: [], conflicts: [] } : view.autodiscoverClaims(md);
    const issuerRef = md.spec.tls.issuerRef ?? server?.spec.tls.issuerRef;
    const issuerExists = view.issuerExists(namespace, issuerRef);
    const certificate = observedCertificate(view.certificates.get(namespace, domainChildNames(md).certificate), claim.owned);
    const snapshot = checks.snapshot('MailDomain', key);
    const stall = server ? serverStall(namespace, md.spec.serverRef) : undefined;

    const plan = decideMailDomain({
      md,
      ...(server ? { server } : {}),
      ...(serverUnreadable ? { serverUnreadable } : {}),
      ...(stall ? { serverStalled: stall } : {}),
      claim,
      ...(notGranted ? { notGranted } : {}),
      issuer: issuerExists !== undefined ? { exists: issuerExists } : {},
      ...(certificate ? { certificate } : {}),
      ...(snapshot ? { checks: snapshot } : {}),
      ...(server ? { exposure: view.exposureObserved(server.spec.exposure, namespace, domainChildNames(md).ingress) } : {}),
      now: now(),
      options: { allowClusterIssuers: opts.allowClusterIssuers ?? true },
    });
    // Probe only what a server serves: no server, no checks. http/ only once MAPI pods answer.
    const request = server && plan.accepted ? checkRequest(server, md, claim.owned) : undefined;
    if (request) checks.ensure('MailDomain', key, request);
    else checks.forget('MailDomain', key);

    // A status built from results of a target the checks have just moved past (at onboarding,
    // the run made before the certificate was issued, its tls/ rows "not issued yet") would be
    // written again as soon as the run of the new target ends, seconds later: one write more
    // per MailDomain for nothing. The status waits for that run, STATUS_HOLD_MS at most; a new
    // generation or a stall goes out at once.
    const supersededSince = request ? checks.supersededSince('MailDomain', key) : undefined;
    // The owner's status, not the cached object's: the cache keeps it packed and each read of
    // it builds it again (src/kube/packed-fields.ts); the owner was built from it once.
    const status = owner.status as MailDomain['status'] | undefined;
    const holdMs = supersededSince !== undefined && !plan.stalled && status?.observedGeneration === md.metadata.generation
      ? STATUS_HOLD_MS - (now().getTime() - supersededSince)
      : 0;
    const previous = status?.conditions;
    await applyPlan({
      manager, owner, liveOf, ctx,
      plan: holdMs > 0
        ? { ...plan, status }
        : { ...plan, events: [...plan.events, ...transitionEvents(previous, plan.status.conditions)] },
    });

    // What the server's gate needs from this domain; it looks again only when that changed.
    const published = new Set((snapshot?.results ?? []).filter((r) => r.name.startsWith('dns/') && (r.status === 'Passed' || r.status === 'Warning')).map((r) => r.name.slice(4)));
    const changed = standings.set(key, {
      generation: md.metadata.generation,
      serverKey,
      domain: md.spec.domain,
      accepted: plan.accepted,
      ...(plan.stalled ? { stalled: plan.stalled } : {}),
      ...(plan.verdict ? { verdict: plan.verdict } : {}),
      ...(plan.judgedByLastRun ? { judgedByLastRun: true as const } : {}),
      httpResults: (snapshot?.results ?? []).filter((r) => r.name.startsWith('http/') && published.has(r.name.slice(5))),
      ...(snapshot?.release !== undefined ? { httpRelease: snapshot.release } : {}),
    });
    if (changed) opts.enqueueServer(serverKey);
    return holdMs > 0 ? { requeueAfterMs: holdMs } : undefined;
  }

  /** What the checks of a served MailDomain probe, as the caches show its server now. */
  function checkRequest(server: MapiServer, md: MailDomain, ownedHosts: string[]): CheckRequest {
    const namespace = md.metadata.namespace ?? '';
    const deployment = runningDeployment(view.deployments.get(namespace, serverChildNames(server).deployment));
    const includeHttp = (deployment?.status.readyReplicas ?? 0) > 0;
    const caRef = server.spec.checks.caBundle;
    // The certificates its hosts and the server's host should serve: one just issued is
    // checked at once, instead of failing on the handshake made before it for an interval.
    const serverCertificate = view.certificates.get(namespace, serverChildNames(server).certificate);
    const domainCertificate = view.certificates.get(namespace, domainChildNames(md).certificate);
    // concat, not a spread: the check scheduler keeps this array for the domain's lifetime, and
    // a spread leaves it room for ~17 elements (209 B against 71 for the usual two).
    const served = servedCertificates(serverCertificate).concat(servedCertificates(domainCertificate));
    // Hosts whose certificate was never issued are not handshaken until it is (see
    // CERTIFICATE_NOT_ISSUED): at a hoster's onboarding that is most hosts, for most of an hour.
    const unissued = [...unissuedHosts(serverCertificate, [server.spec.externalHost]), ...unissuedHosts(domainCertificate, ownedHosts)];
    return {
      target: domainCheckTarget(md.spec, server.spec, { includeHttp, ...(includeHttp && deployment ? { release: releaseUnderProbe(deployment) } : {}), servedCertificates: served, unissuedHosts: unissued }),
      intervalMs: parseDuration(server.spec.checks.interval),
      namespace,
      ...(caRef?.configMapKeyRef ? { caBundle: { kind: 'ConfigMap' as const, ...caRef.configMapKeyRef } } : {}),
      ...(caRef?.secretKeyRef ? { caBundle: { kind: 'Secret' as const, ...caRef.secretKeyRef } } : {}),
      ...(server.spec.checks.probeCredentials ? { credentialsSecret: server.spec.checks.probeCredentials.secretName } : {}),
    };
  }

  // Any MailDomain change may free or take a host another MailDomain wants: wake every
  // MailDomain (in this shard) that declares one of its hosts, now or before.
  const lastHosts = new Map<string, string[]>();
  const sharingHosts = (obj: KubeObject): string[] => {
    const k = keyOf(obj);
    const p = view.parseDomain(obj);
    const now = p.ok && !obj.metadata.deletionTimestamp && view.allDomains.getByKey(k) ? autodiscoverHosts(p.value.spec).map((h) => h.host) : [];
    const hostsBefore = lastHosts.get(k) ?? [];
    if (now.length) lastHosts.set(k, now);
    else lastHosts.delete(k);
    const out = new Set<string>();
    for (const h of new Set([...now, ...hostsBefore])) for (const other of view.domainKeysClaiming(h)) if (other !== k && view.domains.getByKey(other)) out.add(other);
    return [...out];
  };
  // A server appearing, changing or going changes the verdict of each of its domains; its
  // status writes (frequent, and thousands of domains at a hoster) matter only when they
  // change what a domain reads: whether the server is stalled.
  const changedFor = new Map<string, string>();
  const onlyWhenChanged = (k: string, fingerprint: string | undefined): boolean => {
    if (changedFor.get(k) === fingerprint) return false;
    if (fingerprint === undefined) changedFor.delete(k);
    else changedFor.set(k, fingerprint);
    return true;
  };
  const domainsOfServer = (obj: KubeObject): string[] => {
    const k = keyOf(obj);
    const live = view.servers.getByKey(k) ?? view.allServers.getByKey(k);
    const stall = live ? serverStall(obj.metadata.namespace ?? '', obj.metadata.name ?? '') : undefined;
    const fingerprint = live ? JSON.stringify([live.metadata.uid, live.metadata.generation, live.metadata.deletionTimestamp ?? '', stall ?? null]) : undefined;
    return onlyWhenChanged(`server:${k}`, fingerprint) ? view.domainKeysOf(k) : [];
  };
  // The server's pods becoming ready turns the domains' http/ probes on; a new release, and the
  // same release once all its pods run, has them probe again.
  const domainsOfDeployment = (obj: KubeObject): string[] => {
    const owner = obj.metadata.ownerReferences?.find((o) => o.kind === 'MapiServer' && o.controller);
    if (!owner) return [];
    const serverKey = `${obj.metadata.namespace}/${owner.name}`;
    const d = runningDeployment(view.deployments.getByKey(keyOf(obj)));
    const fingerprint = d ? JSON.stringify([d.status.readyReplicas > 0, releaseUnderProbe(d)]) : undefined;
    return onlyWhenChanged(`deployment:${keyOf(obj)}`, fingerprint) ? view.domainKeysOf(serverKey) : [];
  };
  // A shared Gateway changed: the domains of the servers using it look again.
  const gatewayUsers = (obj: KubeObject): string[] =>
    view.serverKeysUsingGateway(obj.metadata.namespace ?? '', obj.metadata.name ?? '').flatMap((s) => view.domainKeysOf(s));
  // A MailDomain without its own issuerRef uses its server's: both count.
  const domainIssuerRef = (o: KubeObject) => {
    const own = (o.spec as { tls?: { issuerRef?: { kind?: string; name?: string } } } | undefined)?.tls?.issuerRef;
    if (own) return own;
    const ref = (o.spec as { serverRef?: unknown } | undefined)?.serverRef;
    const srv = typeof ref === 'string' ? view.servers.get(o.metadata.namespace, ref) ?? view.allServers.get(o.metadata.namespace, ref) : undefined;
    return (srv?.spec as { tls?: { issuerRef?: { kind?: string; name?: string } } } | undefined)?.tls?.issuerRef;
  };
  const issuerUsers = (obj: KubeObject): string[] => {
    const k = keyOf(obj);
    // A MailDomain without its own issuer uses its server's.
    const viaServer = view.serverKeysUsingIssuer(k).flatMap((s) => view.domainKeysOf(s));
    return [...new Set([...view.domainKeysUsingIssuer(k), ...viaServer])];
  };

  const controller = manager.addController({
    name: MAILDOMAIN_CONTROLLER,
    primary: view.domains,
    watches: [
      { informer: view.certificates, map: 'owner' },
      { informer: view.ingresses, map: 'owner' },
      { informer: view.allDomains, map: sharingHosts },
      { informer: view.servers, map: domainsOfServer },
      { informer: view.deployments, map: domainsOfDeployment },
      { informer: view.issuers, map: issuerUsers },
      ...(view.httpRoutes ? [{ informer: view.httpRoutes, map: 'owner' as const }] : []),
      ...(view.listenerSets ? [{ informer: view.listenerSets, map: 'owner' as const }] : []),
      ...(view.gateways ? [{ informer: view.gateways, map: gatewayUsers }] : []),
      ...[view.grantWatch(view.domains), view.clusterIssuerWatch(view.domains, domainIssuerRef)].filter((w) => w !== undefined),
      ...[view.certificates, view.ingresses].map((informer) => ({ informer, map: ownersByLabel(view.domains, 'MailDomain') })),
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    resyncMs: opts.resyncMs ?? 5 * 60_000,
  });
  return { controller };
}
