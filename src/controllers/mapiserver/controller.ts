// The MapiServer controller: gather (caches, indexes, the standings of its MailDomains) →
// decide (pure, decide.ts: the gate over every hosted domain, the rollout) → apply what
// drifted → status once. It owns the server's Certificate, Service, Deployment, PDB, the
// exposure of the external host and the access list of every domain and mailbox it serves.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { KubeObject, Manager, ReconcileContext, ReconcileResult } from '../../kube/index.ts';
import { splitKey } from '../../kube/index.ts';
import { API_VERSION } from '../../api/common.ts';
import type { MapiServer } from '../../api/mapiserver.ts';
import type { MailDomain } from '../../api/maildomain.ts';
import { parseDuration } from '../../api/duration.ts';
import { forgetAccessFiles, liveAccessShardCount, serverChildNames, type AccessListInput } from '../../builders/index.ts';
import { releaseUnderProbe } from '../../rollout/decision.ts';
import { serverCheckTarget } from '../../gate/index.ts';
import { transitionEvents } from '../conditions.ts';
import { applyPlan, reportInvalidSpec } from '../apply-plan.ts';
import { keyOf, type ClusterView } from '../cluster-view.ts';
import { notGrantedObjection, ungranted } from '../../policy/grants.ts';
import { ownersByLabel } from '../label-watch.ts';
import type { CheckRuns } from '../checks/check-runs.ts';
import type { DomainStandings } from '../domain-standings.ts';
import { mailboxVerdicts } from '../mailbox/verdict.ts';
import { observedCertificate, runningDeployment, servedCertificates, unissuedHosts } from '../observed.ts';
import { decideMapiServer } from './decide.ts';
import { ServerMetrics } from './metrics.ts';

export const MAPISERVER_CONTROLLER = 'mapiserver';

/** One MailDomain's part of its server's access list, and what it was derived from. */
interface AccessPart {
  uid: string | undefined;
  generation: number | undefined;
  mailboxRevision: number;
  domain: AccessListInput['domains'][number];
  mailboxes: AccessListInput['mailboxes'];
}

export interface MapiServerControllerOptions {
  manager: Manager;
  view: ClusterView;
  checks: CheckRuns;
  standings: DomainStandings;
  allowClusterIssuers?: boolean;
  progressDeadlineMs?: number;
  /** Image of the gatekeeper sidecar (the operator's own); absent: no sidecar. */
  gatekeeperImage?: string;
  concurrency?: number;
  resyncMs?: number;
  now?: () => Date;
}

export function registerMapiServerController(opts: MapiServerControllerOptions) {
  const { manager, view, checks, standings } = opts;
  const metrics = new ServerMetrics(manager.metrics.registry);
  const now = opts.now ?? (() => new Date());
  // Until its own checks are in, a new process reports the gate as the last run did (lastRunReport).
  const startedAt = now();
  const live: Record<string, typeof view.deployments> = {
    Certificate: view.certificates, Deployment: view.deployments, Service: view.services, ConfigMap: view.configMaps,
    Ingress: view.ingresses, PodDisruptionBudget: view.pdbs,
    ...(view.httpRoutes ? { HTTPRoute: view.httpRoutes } : {}), ...(view.listenerSets ? { ListenerSet: view.listenerSets } : {}),
  };

  // Each domain's part of the access list, kept per server between reconciles: at 5,000
  // MailDomains and 100,000 Mailboxes, deriving every part again took most of a reconcile
  // that runs once a second while domains converge. A part holds while the MailDomain's
  // generation, its acceptance and the revision of its Mailboxes hold; when every part held,
  // the list is the very object of the last reconcile, whose files the builder kept.
  const accessMemo = new Map<string, { parts: Map<string, AccessPart>; access: AccessListInput }>();

  function accessPartOf(md: MailDomain, domainKey: string, mailboxRevision: number): AccessPart {
    const mailboxes: AccessListInput['mailboxes'] = [];
    const views = view.mailboxViews(domainKey);
    const byName = new Map(views.map((v) => [v.name, v]));
    for (const [mailboxName, verdict] of mailboxVerdicts(md, views)) {
      const mailbox = byName.get(mailboxName);
      if (!verdict.valid || !mailbox) continue;
      // The cache's own address string alone when MAPI is on (as nearly always): the cache
      // builds a new spec object on each read, and one kept per Mailbox was 4.6 MiB here.
      mailboxes.push(verdict.effective ? mailbox.spec.address : { address: mailbox.spec.address, mapiEnabled: false });
    }
    return {
      uid: md.metadata.uid, generation: md.metadata.generation, mailboxRevision,
      domain: { name: md.metadata.name, domains: [md.spec.domain, ...md.spec.aliases], mapiEnabled: md.spec.mapi.enabled },
      mailboxes,
    };
  }

  /** Every valid MailDomain of the server, its standing, and its part of the access list. */
  function gatherDomains(server: MapiServer, serverKey: string) {
    const domains = [];
    const before = accessMemo.get(serverKey);
    const parts = new Map<string, AccessPart>();
    let unchanged = before !== undefined;
    for (const domainKey of view.domainKeysOf(serverKey).sort()) {
      const raw = view.domains.getByKey(domainKey);
      if (!raw || raw.metadata.deletionTimestamp) continue;
      const parsed = view.parseDomain(raw);
      if (!parsed.ok) {
        domains.push({ name: raw.metadata.name ?? '', domain: String((raw.spec as { domain?: unknown } | undefined)?.domain ?? ''), accepted: false, stalled: { reason: 'InvalidSpec', message: parsed.message } });
        continue;
      }
      const md = parsed.value;
      // A standing decided for an older generation (or not yet) says nothing about this one.
      const s = standings.get(domainKey);
      const current = s && s.generation === md.metadata.generation && s.serverKey === serverKey ? s : undefined;
      domains.push({
        name: md.metadata.name,
        domain: md.spec.domain,
        accepted: current?.accepted ?? true,
        ...(current?.stalled ? { stalled: current.stalled } : {}),
        ...(current?.verdict ? { verdict: current.verdict } : {}),
        // Not judged by this process yet: no standing for this generation, or one from the rows
        // the last run left.
        ...(!current || current.judgedByLastRun ? { judgedByLastRun: true } : {}),
        ...(current ? { httpResults: current.httpResults } : {}),
        ...(current?.httpRelease !== undefined ? { httpRelease: current.httpRelease } : {}),
      });
      if (current && !current.accepted) continue;
      const revision = view.mailboxRevision(domainKey);
      let part = before?.parts.get(domainKey);
      if (!part || part.uid !== md.metadata.uid || part.generation !== md.metadata.generation || part.mailboxRevision !== revision) {
        part = accessPartOf(md, domainKey, revision);
        unchanged = false;
      }
      parts.set(domainKey, part);
    }
    // Every part held and none went: the same list as last time, as the same object.
    const access: AccessListInput = unchanged && parts.size === before!.parts.size
      ? before!.access
      : { domains: [...parts.values()].map((p) => p.domain), mailboxes: [...parts.values()].flatMap((p) => p.mailboxes) };
    accessMemo.set(serverKey, { parts, access });
    return { domains, access };
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name } = splitKey(key);
    const raw = view.servers.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      checks.forget('MapiServer', key);
      metrics.forget(key);
      accessMemo.delete(key);
      forgetAccessFiles(namespace, name);
      return;
    }
    const owner = { ...raw, apiVersion: API_VERSION, kind: 'MapiServer' } as KubeObject;
    const parsed = view.parseServer(raw);
    if (!parsed.ok) {
      await reportInvalidSpec(manager, owner, parsed.message, 'MapiServer', now(), ctx);
      checks.forget('MapiServer', key);
      return;
    }
    const server = parsed.value;
    const names = serverChildNames(server);
    const claim = view.externalHostClaim(server);
    const notGranted = notGrantedObjection('MapiServer', namespace, ungranted(view.grantPolicy, namespace, [server.spec.externalHost]).map((host) => ({ field: 'spec.externalHost', host })));
    const issuerRef = server.spec.tls.issuerRef;
    const issuerExists = view.issuerExists(namespace, issuerRef);
    const certificate = observedCertificate(view.certificates.get(namespace, names.certificate), [server.spec.externalHost]);
    const deployment = runningDeployment(view.deployments.get(namespace, names.deployment));
    const snapshot = checks.snapshot('MapiServer', key);
    const { domains, access } = gatherDomains(server, key);

    const plan = decideMapiServer({
      server,
      externalHostClaim: claim,
      ...(notGranted ? { notGranted } : {}),
      issuer: issuerExists !== undefined ? { exists: issuerExists } : {},
      ...(certificate ? { certificate } : {}),
      ...(deployment ? { deployment } : {}),
      ...(snapshot ? { checks: snapshot } : {}),
      domains,
      access,
      ...(() => {
        const count = liveAccessShardCount(view.configMaps.get(namespace, names.accessConfigMap) as V1ConfigMap | undefined);
        return count ? { liveAccessShardCount: count } : {};
      })(),
      exposure: view.exposureObserved(server.spec.exposure, namespace, names.ingress),
      now: now(),
      startedAt,
      options: {
        allowClusterIssuers: opts.allowClusterIssuers ?? true,
        progressDeadlineMs: opts.progressDeadlineMs ?? 600_000,
        ...(opts.gatekeeperImage ? { gatekeeperImage: opts.gatekeeperImage } : {}),
      },
    });
    const previous = (raw.status as MapiServer['status'] | undefined)?.conditions;
    await applyPlan({
      manager, owner, liveOf: (kind) => live[kind], ctx,
      plan: { ...plan, events: [...plan.events, ...transitionEvents(previous, plan.status.conditions)] },
    });
    metrics.observe(key, plan.verdict.open, plan.events);

    // Server-level probes: tls/ of the external host always, http/ once MAPI pods are ready.
    // A host it does not own or is not granted is never probed on its behalf.
    if (!claim.owned || notGranted) {
      checks.forget('MapiServer', key);
    } else {
      const includeHttp = (deployment?.status.readyReplicas ?? 0) > 0;
      const caRef = server.spec.checks.caBundle;
      checks.ensure('MapiServer', key, {
        target: serverCheckTarget(server.spec, {
          includeHttp, ...(includeHttp && deployment ? { release: releaseUnderProbe(deployment) } : {}),
          servedCertificates: servedCertificates(view.certificates.get(namespace, names.certificate)),
          unissuedHosts: unissuedHosts(view.certificates.get(namespace, names.certificate), [server.spec.externalHost]),
        }),
        intervalMs: parseDuration(server.spec.checks.interval),
        namespace,
        ...(caRef?.configMapKeyRef ? { caBundle: { kind: 'ConfigMap' as const, ...caRef.configMapKeyRef } } : {}),
        ...(caRef?.secretKeyRef ? { caBundle: { kind: 'Secret' as const, ...caRef.secretKeyRef } } : {}),
        ...(server.spec.checks.probeCredentials ? { credentialsSecret: server.spec.checks.probeCredentials.secretName } : {}),
      });
    }
    return plan.requeueAfterMs ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  // A MailDomain appearing, going, or moving to another server: both servers look again
  // (its verdict changes come through the standings instead).
  const lastServerOf = new Map<string, string>();
  const serversOfDomain = (obj: KubeObject): string[] => {
    const k = keyOf(obj);
    const ref = (obj.spec as { serverRef?: unknown } | undefined)?.serverRef;
    const current = view.domains.getByKey(k) && typeof ref === 'string' ? `${obj.metadata.namespace}/${ref}` : undefined;
    const before = lastServerOf.get(k);
    if (current === before) return [];
    if (current) lastServerOf.set(k, current);
    else lastServerOf.delete(k);
    return [...new Set([current, before].filter((x): x is string => x !== undefined))];
  };
  // Mailboxes change the access list: the server of their MailDomain looks again, only when
  // the spec changed (not on each Mailbox status write). Compared with the version replaced,
  // not with a remembered fingerprint: at 100,000 Mailboxes that memory was ~10 MiB.
  const domainOf = (o: KubeObject): string | undefined => {
    const ref = (o.spec as { domainRef?: unknown } | undefined)?.domainRef;
    return typeof ref === 'string' ? `${o.metadata.namespace}/${ref}` : undefined;
  };
  const serverOfMailbox = (obj: KubeObject, before?: KubeObject): string[] => {
    if (before && before.metadata.generation === obj.metadata.generation && domainOf(before) === domainOf(obj) &&
      (before.metadata.deletionTimestamp === undefined) === (obj.metadata.deletionTimestamp === undefined)) return [];
    const domains = new Set([domainOf(obj), before ? domainOf(before) : undefined]);
    return [...domains].filter((d): d is string => d !== undefined).flatMap((d) => view.serverKeysOfDomain(d));
  };
  // Another server with the same external host appeared, changed or went (claims).
  const lastHost = new Map<string, string>();
  const sharingExternalHost = (obj: KubeObject): string[] => {
    const k = keyOf(obj);
    const host = (obj.spec as { externalHost?: unknown } | undefined)?.externalHost;
    const current = view.allServers.getByKey(k) && !obj.metadata.deletionTimestamp && typeof host === 'string' ? host : undefined;
    const before = lastHost.get(k);
    if (current) lastHost.set(k, current);
    else lastHost.delete(k);
    const out = new Set<string>();
    for (const h of new Set([current, before].filter((x): x is string => x !== undefined))) {
      for (const other of view.serverKeysClaiming(h)) if (other !== k && view.servers.getByKey(other)) out.add(other);
    }
    return [...out];
  };
  const issuerUsers = (obj: KubeObject): string[] => view.serverKeysUsingIssuer(keyOf(obj));
  const serverIssuerRef = (o: KubeObject) => ((o.spec as { tls?: { issuerRef?: { kind?: string; name?: string } } } | undefined)?.tls?.issuerRef);
  // A shared Gateway changed (listeners, allowedListeners): its users look again.
  const gatewayUsers = (obj: KubeObject): string[] => view.serverKeysUsingGateway(obj.metadata.namespace ?? '', obj.metadata.name ?? '');

  const controller = manager.addController({
    name: MAPISERVER_CONTROLLER,
    primary: view.servers,
    watches: [
      { informer: view.deployments, map: 'owner' },
      { informer: view.services, map: 'owner' },
      { informer: view.configMaps, map: 'owner' },
      { informer: view.ingresses, map: 'owner' },
      { informer: view.certificates, map: 'owner' },
      { informer: view.pdbs, map: 'owner' },
      { informer: view.domains, map: serversOfDomain },
      { informer: view.mailboxes, map: serverOfMailbox },
      { informer: view.allServers, map: sharingExternalHost },
      { informer: view.issuers, map: issuerUsers },
      ...(view.httpRoutes ? [{ informer: view.httpRoutes, map: 'owner' as const }] : []),
      ...(view.listenerSets ? [{ informer: view.listenerSets, map: 'owner' as const }] : []),
      ...(view.gateways ? [{ informer: view.gateways, map: gatewayUsers }] : []),
      ...[view.grantWatch(view.servers), view.clusterIssuerWatch(view.servers, serverIssuerRef)].filter((w) => w !== undefined),
      ...[view.deployments, view.services, view.configMaps, view.ingresses, view.certificates, view.pdbs].map((informer) => ({ informer, map: ownersByLabel(view.servers, 'MapiServer') })),
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    resyncMs: opts.resyncMs ?? 5 * 60_000,
    // A server's reconcile gathers every domain and mailbox of it; while its domains converge
    // they change its inputs several times a second. Once a second is often enough, and less
    // often while a reconcile is long (a hoster's access list rebuilt as thousands of
    // Mailboxes arrive): a quarter of the time at most, so its MailDomains' own reconciles,
    // which the gate waits for, keep the rest.
    minIntervalMs: 1_000,
    maxWorkShare: 0.25,
  });
  return { controller };
}
