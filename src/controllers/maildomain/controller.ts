// The MailDomain controller: gather (caches + the latest check snapshot) → decide (pure,
// decide.ts) → apply what drifted → write status once → emit Events. The network checks run
// in the CheckScheduler, outside reconcile.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Manager, KubeObject, ReconcileResult, ReconcileContext, Informer } from '../../kube/index.ts';
import { applyObject, applyStatusIfChanged, deleteObject, splitKey, isNotFound } from '../../kube/index.ts';
import { API_VERSION, type MailDomain } from '../../api/maildomain.ts';
import type { Mailbox } from '../../api/mailbox.ts';
import { parseMailDomain, parseMailboxSpec } from '../../api/parse.ts';
import { parseDuration } from '../../api/duration.ts';
import type { CheckResult, CheckTarget, ProbeCredentials } from '../../checks/types.ts';
import { gateDecision } from '../../gate/gate-decision.ts';
import { servedHosts, childNames, templateHash } from '../../builders/index.ts';
import { setConditions } from '../conditions.ts';
import { needsApply, withAppliedHash } from '../drift.ts';
import { CERTIFICATES, CONFIGMAPS, DEPLOYMENTS, INGRESSES, ISSUERS, MAILBOXES, MAILDOMAINS, MANAGED_SELECTOR, OWNED_KINDS, SECRETS, SERVICES } from '../resources.ts';
import { accessList, type MailboxView } from '../mailbox/verdict.ts';
import type { RunningDeployment } from '../../rollout/decision.ts';
import { decideMailDomain, transitionEvents, type CertificateObserved } from './decide.ts';
import type { Claimant } from './host-claims.ts';
import { CheckScheduler } from './check-scheduler.ts';
import { checkTargetFor } from './check-target.ts';

export const CONTROLLER_NAME = 'maildomain';

export interface CheckRequest {
  target: CheckTarget;
  /** The MailDomain's checks.interval: MailDomains with the same interval share probe results. */
  intervalMs: number;
  namespace: string;
  caBundle?: { kind: 'ConfigMap' | 'Secret'; name: string; key: string };
  credentialsSecret?: string;
}

export interface MailDomainControllerOptions {
  manager: Manager;
  /** Runs the check engine for a fully resolved target (real IO and shared cache bound in). */
  runChecks: (target: CheckTarget, signal: AbortSignal, intervalMs: number) => Promise<CheckResult[]>;
  allowClusterIssuers?: boolean;
  progressDeadlineMs?: number;
  concurrency?: number;
  resyncMs?: number;
  now?: () => Date;
  onCheckRun?: (key: string, results: CheckResult[], durationMs: number) => void;
}

const SECRET_READ_TIMEOUT_MS = 10_000;

interface CertificateObject extends KubeObject {
  spec?: { dnsNames?: string[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[] };
}

function runningDeployment(d: V1Deployment | undefined): RunningDeployment | undefined {
  if (!d?.spec?.template) return undefined;
  const conditions = d.status?.conditions ?? [];
  return {
    replicas: d.spec.replicas ?? 1,
    template: d.spec.template,
    annotations: Object.fromEntries(Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('mapi-operator.io/') && k !== 'mapi-operator.io/applied-hash')),
    status: {
      replicas: d.status?.replicas ?? 0,
      updatedReplicas: d.status?.updatedReplicas ?? 0,
      readyReplicas: d.status?.readyReplicas ?? 0,
      observedGeneration: d.status?.observedGeneration ?? 0,
      generation: d.metadata?.generation ?? 0,
      progressDeadlineExceeded: conditions.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded'),
    },
  };
}

function observedCertificate(cert: CertificateObject | undefined, hosts: string[]): CertificateObserved | undefined {
  if (!cert) return undefined;
  const ready = cert.status?.conditions?.find((c) => c.type === 'Ready');
  const sameNames = JSON.stringify(cert.spec?.dnsNames ?? []) === JSON.stringify(hosts);
  const fresh = ready?.observedGeneration === undefined || ready.observedGeneration === cert.metadata.generation;
  return { ...(ready ? { ready } : {}), current: sameNames && fresh };
}

export function registerMailDomainController(opts: MailDomainControllerOptions) {
  const { manager } = opts;
  const now = opts.now ?? (() => new Date());
  const log = manager.logger.child({ controller: CONTROLLER_NAME });
  const mailDomains = manager.informer<KubeObject>(MAILDOMAINS, { useLabelSelector: true });
  // Host ownership is decided across every namespace and shard.
  const allMailDomains = manager.informer<KubeObject>(MAILDOMAINS, { namespaces: [] });
  const owned = (ref: typeof DEPLOYMENTS) => manager.informer<KubeObject>(ref, { labelSelector: MANAGED_SELECTOR });
  const deployments = owned(DEPLOYMENTS);
  const services = owned(SERVICES);
  const configMaps = owned(CONFIGMAPS);
  const ingresses = owned(INGRESSES);
  const certificates = owned(CERTIFICATES);
  const issuers = manager.informer<KubeObject>(ISSUERS);
  const mailboxes = manager.informer<KubeObject>(MAILBOXES);
  const liveOf: Record<string, Informer<KubeObject>> = { Deployment: deployments, Service: services, ConfigMap: configMaps, Ingress: ingresses, Certificate: certificates };

  const client = manager.client;

  async function readKey(kind: 'ConfigMap' | 'Secret', namespace: string, name: string, key: string, signal: AbortSignal): Promise<string | undefined> {
    const ref = kind === 'Secret' ? SECRETS : CONFIGMAPS;
    try {
      const obj = await client.request<{ data?: Record<string, string> }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/${ref.plural}/${name}`, timeoutMs: SECRET_READ_TIMEOUT_MS, signal, object: `${kind} ${namespace}/${name}` });
      const raw = obj.data?.[key];
      if (raw === undefined) return undefined;
      return kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  const scheduler = new CheckScheduler<CheckRequest>({
    run: async (_key, req, signal) => {
      let target = req.target;
      if (req.caBundle) {
        const pem = await readKey(req.caBundle.kind, req.namespace, req.caBundle.name, req.caBundle.key, signal);
        if (pem) target = { ...target, caBundlePem: pem };
      }
      if (req.credentialsSecret) {
        const [username, password, address] = await Promise.all(['username', 'password', 'address'].map((k) => readKey('Secret', req.namespace, req.credentialsSecret!, k, signal)));
        if (username && password && address) target = { ...target, probeCredentials: { username, password, address } satisfies ProbeCredentials };
      }
      return opts.runChecks(target, signal, req.intervalMs);
    },
    onChange: (key) => controller.enqueue(key),
    onRun: (key, snapshot, ms) => opts.onCheckRun?.(key, snapshot.results, ms),
    onError: (key, err) => log.warn({ key, err }, 'check run failed'),
  });

  function claimants(): Claimant[] {
    return allMailDomains.list().flatMap((o) => {
      const parsed = parseMailDomain(o);
      if (!parsed.ok || o.metadata.deletionTimestamp) return [];
      return [{ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', creationTimestamp: o.metadata.creationTimestamp, spec: parsed.value.spec }];
    });
  }

  // Parsed Mailboxes by uid, valid for one generation: a MailDomain with 10,000 Mailboxes
  // must not re-validate all of them on every reconcile.
  const parsedMailboxes = new Map<string, { generation: number | undefined; view: MailboxView | undefined }>();
  function mailboxViews(namespace: string, domainRef: string): MailboxView[] {
    const views: MailboxView[] = [];
    for (const m of mailboxes.list(namespace) as unknown as Mailbox[]) {
      if ((m.spec as { domainRef?: unknown } | undefined)?.domainRef !== domainRef) continue;
      const uid = m.metadata.uid ?? `${namespace}/${m.metadata.name}`;
      let hit = parsedMailboxes.get(uid);
      if (!hit || hit.generation !== m.metadata.generation) {
        const spec = parseMailboxSpec(m.spec);
        hit = { generation: m.metadata.generation, view: spec.ok ? { namespace, name: m.metadata.name, creationTimestamp: m.metadata.creationTimestamp, spec: spec.value } : undefined };
        parsedMailboxes.set(uid, hit);
      }
      if (hit.view) views.push(hit.view);
    }
    return views;
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name } = splitKey(key);
    const raw = mailDomains.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      // Children go with the owner (garbage collector); only our own memory is ours to drop.
      scheduler.forget(key);
      return;
    }
    const parsed = parseMailDomain(raw);
    if (!parsed.ok) {
      // Reported, never rewritten: only the status subresource is written.
      const status = {
        observedGeneration: raw.metadata.generation,
        conditions: setConditions((raw.status as { conditions?: [] } | undefined)?.conditions, [
          { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: `${parsed.message}; fix the MailDomain and apply it again` },
          { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: parsed.message },
          { type: 'Reconciling', status: 'False', reason: 'InvalidSpec', message: 'waiting for a valid spec' },
        ], raw.metadata.generation, now()),
      };
      await applyStatusIfChanged(client, { ...raw, apiVersion: API_VERSION, kind: 'MailDomain' }, { ...(raw.status as object), ...status }, { signal: ctx.signal });
      return;
    }
    const md = parsed.value as MailDomain;
    const names = childNames(md);
    const hosts = servedHosts(md.spec);
    const deployment = runningDeployment(deployments.get(namespace, names.deployment) as unknown as V1Deployment | undefined);
    const certificate = observedCertificate(certificates.get(namespace, names.certificate) as CertificateObject | undefined, hosts);
    const issuerRef = md.spec.tls.issuerRef;
    const issuerExists = issuerRef.kind === 'Issuer' && issuers.hasSynced() ? issuers.get(namespace, issuerRef.name) !== undefined : undefined;

    const plan = decideMailDomain({
      md,
      claimants: claimants(),
      ...(certificate ? { certificate } : {}),
      ...(issuerExists !== undefined ? { issuerExists } : {}),
      ...(deployment ? { deployment } : {}),
      ...(scheduler.snapshot(key) ? { checks: scheduler.snapshot(key)! } : {}),
      gate: (results) => {
        const cert = results.find((r) => r.name === 'certificate');
        return gateDecision(results, {
          require: md.spec.checks.require, externalHost: md.spec.externalHost,
          autodiscoverHosts: checkTargetFor(md.spec, { includeHttp: false }).autodiscoverHosts,
          certificate: { ready: cert?.status === 'Passed', reason: cert?.reason ?? 'Pending', message: cert?.message ?? '' },
        });
      },
      mailboxes: accessList(md, mailboxViews(namespace, md.metadata.name)),
      now: now(),
      options: { allowClusterIssuers: opts.allowClusterIssuers ?? true, progressDeadlineMs: opts.progressDeadlineMs ?? 600_000 },
    });

    // Apply what drifted, children first, so the status describes what exists.
    let applied = 0;
    for (const obj of plan.apply as KubeObject[]) {
      const desired = withAppliedHash(obj);
      const live = liveOf[obj.kind ?? '']?.get(namespace, obj.metadata.name ?? '');
      if (!needsApply(desired, live)) continue;
      await applyObject(client, desired, { signal: ctx.signal });
      applied++;
    }
    for (const p of plan.prune) {
      const live = liveOf[p.kind]?.get(namespace, p.name);
      const ours = live?.metadata.ownerReferences?.some((o) => o.uid === md.metadata.uid);
      if (live && ours) await deleteObject(client, OWNED_KINDS[p.kind]!, namespace, p.name, { signal: ctx.signal });
    }
    const mdObject = raw as KubeObject;
    const previousConditions = (raw.status as MailDomain['status'] | undefined)?.conditions;
    for (const e of [...plan.events, ...transitionEvents(previousConditions, plan.status.conditions)]) {
      void manager.events.record({ ...mdObject, apiVersion: API_VERSION, kind: 'MailDomain' }, e.type, e.reason, e.message);
    }
    const { written } = await applyStatusIfChanged(client, { ...raw, apiVersion: API_VERSION, kind: 'MailDomain' }, plan.status, { signal: ctx.signal });
    if (applied > 0 || written) ctx.log.debug({ applied, statusWritten: written, rollout: plan.status.rollout?.state }, 'reconciled');

    // Tell the scheduler what to check now; http/ probes only once MAPI pods are ready.
    const includeHttp = (deployment?.status.readyReplicas ?? 0) > 0 && md.spec.mapi.enabled;
    const caRef = md.spec.checks.caBundle;
    const intervalMs = parseDuration(md.spec.checks.interval);
    scheduler.ensure(key, {
      target: checkTargetFor(md.spec, { includeHttp, ...(includeHttp && deployment ? { release: templateHash(deployment.template) } : {}) }),
      intervalMs,
      namespace,
      ...(caRef?.configMapKeyRef ? { caBundle: { kind: 'ConfigMap' as const, ...caRef.configMapKeyRef } } : {}),
      ...(caRef?.secretKeyRef ? { caBundle: { kind: 'Secret' as const, ...caRef.secretKeyRef } } : {}),
      ...(md.spec.checks.probeCredentials ? { credentialsSecret: md.spec.checks.probeCredentials.secretName } : {}),
    }, intervalMs);
    return plan.requeueAfterMs ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  // A Mailbox matters to its MailDomain when it appears, goes, or its spec changes; its own
  // status writes (10,000 of them at scale) must not rebuild the domain's access list.
  const mailboxSeen = new Map<string, { generation: number | undefined; ref: string | undefined }>();
  const mapToDomain = (obj: KubeObject): string[] => {
    const ns = obj.metadata.namespace;
    const ref = (obj.spec as { domainRef?: string } | undefined)?.domainRef;
    const uid = obj.metadata.uid ?? '';
    const before = mailboxSeen.get(uid);
    const stillThere = mailboxes.get(ns, obj.metadata.name ?? '') !== undefined;
    if (!stillThere) {
      mailboxSeen.delete(uid);
      parsedMailboxes.delete(uid);
    } else if (before && before.generation === obj.metadata.generation) {
      return [];
    } else {
      mailboxSeen.set(uid, { generation: obj.metadata.generation, ref });
    }
    // A Mailbox moved to another MailDomain leaves the old one's list too.
    const refs = new Set([ref, before?.ref].filter((r): r is string => Boolean(r)));
    return ns ? [...refs].map((r) => `${ns}/${r}`) : [];
  };
  // Any MailDomain change may free or take a host another MailDomain wants.
  const everyDomainSharingHosts = (obj: KubeObject): string[] => {
    const parsed = parseMailDomain(obj);
    const theirs = new Set(parsed.ok ? servedHosts(parsed.value.spec) : []);
    return mailDomains.list().filter((o) => {
      const p = parseMailDomain(o);
      return p.ok && servedHosts(p.value.spec).some((h) => theirs.has(h));
    }).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  };
  const issuerUsers = (obj: KubeObject): string[] => mailDomains.list(obj.metadata.namespace).filter((o) => {
    const ref = (o.spec as { tls?: { issuerRef?: { kind?: string; name?: string } } } | undefined)?.tls?.issuerRef;
    return ref?.kind === 'Issuer' && ref.name === obj.metadata.name;
  }).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

  const controller = manager.addController({
    name: CONTROLLER_NAME,
    primary: mailDomains,
    watches: [
      { informer: deployments, map: 'owner' },
      { informer: services, map: 'owner' },
      { informer: configMaps, map: 'owner' },
      { informer: ingresses, map: 'owner' },
      { informer: certificates, map: 'owner' },
      { informer: mailboxes, map: mapToDomain },
      { informer: issuers, map: issuerUsers },
      { informer: allMailDomains, map: everyDomainSharingHosts },
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    resyncMs: opts.resyncMs ?? 5 * 60_000,
  });
  return { controller, scheduler };
}
