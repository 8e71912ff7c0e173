// The MailDomain reconcile, minus the I/O: the MailDomain, its MapiServer, its host claims, its
// certificate and its checks go in; its own children (one Certificate for its autodiscover
// hosts, their exposure pointing at the server's Service), its status, its Events and its
// verdict for the server's gate come out. A MailDomain never touches the server's Deployment:
// the MapiServer decides the rollout from every domain's verdict.
//
// Ready means: accepted by its server and passing the gate's domain rule (certificate Ready,
// autodiscover published and served per autodiscover.require). It does not wait for the
// server's rollout: the MapiServer's own Ready covers that, and a domain that passes should
// not read as broken because a sibling domain holds the server.
import type { Condition } from '../../api/conditions.ts';
import type { MailDomain, MailDomainStatus } from '../../api/maildomain.ts';
import type { MapiServer } from '../../api/mapiserver.ts';
import { autodiscoverHosts, autodiscoverURLs, mailDomainNames, desiredDomainObjects, domainChildNames } from '../../builders/index.ts';
import { exposurePrune, exposureReport, type ExposureKind, type ExposureObserved } from '../../exposure/index.ts';
import type { CheckResult } from '../../checks/types.ts';
import { normalizeHost } from '../../checks/host-names.ts';
import { CERTIFICATE_ISSUING } from '../../checks/advisory-checks.ts';
import { domainVerdict, type DomainVerdict } from '../../gate/index.ts';
import {
  certificateCheck, checkRows, issuerObjection, setConditions,
  type CertificateObserved, type ConditionInput, type ControllerEvent, type Objection,
} from '../conditions.ts';

export interface HostClaimConflict {
  host: string;
  owner: { namespace: string; name: string };
}

export interface MailDomainInputs {
  md: MailDomain;
  /** The MapiServer spec.serverRef names, parsed; undefined when there is none. */
  server?: MapiServer;
  /** The server's own stall, if any (reported on the domain; it does not change the verdict). */
  serverStalled?: Objection;
  /** spec.serverRef names a MapiServer that exists but whose spec cannot be read (then server is undefined). */
  serverUnreadable?: boolean;
  /** Its autodiscover hosts it owns, and those an older MailDomain owns. */
  claim: { owned: string[]; conflicts: HostClaimConflict[] };
  /** Tenancy Granted: some of its names are not granted to the namespace; the caller then
   *  passes no owned hosts, so it gets no certificate name and no route. */
  notGranted?: Objection;
  /** The effective issuer (spec.tls.issuerRef, else the server's): whether it exists. */
  issuer: { exists?: boolean };
  certificate?: CertificateObserved;
  checks?: { results: CheckResult[]; checkedAt: Date };
  /** The front's view of the exposure (Gateway, our route and ListenerSet); absent: nothing known. */
  exposure?: ExposureObserved;
  now: Date;
  options: { allowClusterIssuers: boolean };
}

export interface MailDomainPlan {
  apply: object[];
  prune: { kind: 'Certificate' | ExposureKind; name: string }[];
  status: MailDomainStatus;
  /** Always empty today: a MailDomain's Events are its condition transitions (transitionEvents,
   *  in the caller); kept so both plans have one shape. */
  events: ControllerEvent[];
  /** This domain's standing in its server's gate; undefined when it is not accepted. */
  verdict: DomainVerdict | undefined;
  /** Its conditions were judged by the rows the last run left (inheritedResults): this process
   *  has not checked it yet, so its server's status keeps reporting the last run too. */
  judgedByLastRun: boolean;
  /** Served by its server and not stalled: only accepted domains count in the server's gate. */
  accepted: boolean;
  stalled?: Objection;
}

function conflictMessage(conflicts: HostClaimConflict[]): string {
  const shown = conflicts.slice(0, 10).map((c) => `${c.host} is already served by MailDomain ${c.owner.namespace}/${c.owner.name}`).join('; ');
  const more = conflicts.length > 10 ? `; and ${conflicts.length - 10} more` : '';
  return `${shown}${more}: remove the host from spec.autodiscover.hosts (or the domain from this MailDomain or the other one): an autodiscover host belongs to one MailDomain, the older claim wins`;
}

// Policies that need a person, first objection wins.
function stallingPolicy(inputs: MailDomainInputs, server: MapiServer): Objection | undefined {
  const { md, claim, options } = inputs;
  if (inputs.notGranted) return inputs.notGranted;
  if (claim.conflicts.length > 0) return { reason: 'HostConflict', message: conflictMessage(claim.conflicts) };
  const own = md.spec.tls.issuerRef;
  return issuerObjection(own ?? server.spec.tls.issuerRef, own ? 'spec.tls.issuerRef' : `spec.tls.issuerRef (inherited from MapiServer ${server.metadata.name})`,
    md.metadata.namespace, inputs.issuer, options.allowClusterIssuers);
}

/** Rows of the domain's own hosts: the external host's rows belong to the MapiServer, unless
 *  an SRV record sends this domain's Outlook clients there (then its tls/ row is the domain's). */
function domainRows(results: CheckResult[], externalHost: string): CheckResult[] {
  return withoutServerRows(results, externalHost).filter((r) => r.name !== 'certificate');
}

/**
 * A MailDomain run's rows without those about its server's external host, which are the
 * MapiServer's own (its run checks that host and its status and metrics report it), unless the
 * domain's SRV record points there: that tls/ row judges the domain's publication. What the
 * MailDomain's status and its metric series show.
 */
export function withoutServerRows(results: CheckResult[], externalHost: string): CheckResult[] {
  const srvTargets = new Set(results.flatMap((r) => (r.name.startsWith('dns/') && typeof r.details['srvTarget'] === 'string' ? [`tls/${normalizeHost(r.details['srvTarget'])}`] : [])));
  const external = normalizeHost(externalHost);
  return results.filter((r) => r.name.slice(r.name.indexOf('/') + 1) !== external || srvTargets.has(r.name));
}

/**
 * What a new process (a restart, a failover) judges by until its own first run of this
 * domain's checks ends: the rows the previous run wrote for this generation. Without them every
 * MailDomain's status went "checks pending" and then back to the same verdict: two writes per
 * MailDomain and a flap of its conditions (and Events) on each restart. The gate does not take
 * them: a rollout waits for this process's own results. Not inherited: rows of another
 * generation, and an SRV-only answer (its row does not keep the SRV target the verdict reads).
 */
export function inheritedResults(md: MailDomain, status = md.status): CheckResult[] | undefined {
  if (!status?.checks?.length || status.observedGeneration === undefined || status.observedGeneration !== md.metadata.generation) return undefined;
  const rows = status.checks.filter((r) => r.name !== 'certificate');
  if (!rows.some((r) => r.name.startsWith('dns/')) || rows.some((r) => r.reason === 'SrvRecordOnly')) return undefined;
  return rows.map((r) => ({ name: r.name, status: r.status, reason: r.reason, message: r.message, details: {} }));
}

export function decideMailDomain(inputs: MailDomainInputs): MailDomainPlan {
  const { md, server, now } = inputs;
  const generation = md.metadata.generation;
  // Read once: a cached MailDomain's status is built again on each read (src/kube/packed-fields.ts).
  const mdStatus = md.status;
  const previous = mdStatus?.conditions as Condition[] | undefined;
  const names = domainChildNames(md);
  const conditionsOf = (list: ConditionInput[]) => setConditions(previous, list, generation, now);

  if (!server) {
    // Nothing to serve it yet: keep what exists (a Certificate is slow and rate-limited to
    // re-issue), write nothing new, look again when the MapiServer appears.
    // An unreadable server is as unusable as a missing one, but "create it" would send a person
    // looking for the wrong fix.
    const message = inputs.serverUnreadable
      ? `spec.serverRef: MapiServer ${md.spec.serverRef} in namespace ${md.metadata.namespace} has a spec the operator cannot read (see its Stalled condition); fix that MapiServer, or set spec.serverRef to another one`
      : `spec.serverRef: no MapiServer ${md.spec.serverRef} in namespace ${md.metadata.namespace}; create it, or set spec.serverRef to an existing MapiServer`;
    const conditions = conditionsOf([
      { type: 'Accepted', status: 'False', reason: 'ServerNotFound', message },
      { type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'waiting for the MapiServer, nothing needs a person yet' },
      { type: 'Reconciling', status: 'True', reason: 'ServerNotFound', message },
      { type: 'Ready', status: 'False', reason: 'ServerNotFound', message },
    ]);
    return {
      apply: [], prune: [], verdict: undefined, accepted: false, judgedByLastRun: false,
      status: { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions, ...(mdStatus?.checks ? { checks: mdStatus.checks } : {}) },
      events: [],
    };
  }

  const stall = stallingPolicy(inputs, server);
  const declared = autodiscoverHosts(md.spec);
  const owned = new Set(inputs.claim.owned.map(normalizeHost));
  // Hosts another MailDomain owns get no certificate name and no route, and are not judged.
  const ownHosts = declared.filter((h) => owned.has(normalizeHost(h.host)));
  const hostNames = ownHosts.map((h) => h.host);

  const cert = certificateCheck(names.certificate, inputs.certificate);
  const inherited = inputs.checks ? undefined : inheritedResults(md, mdStatus);
  const rows = inputs.checks ? domainRows(inputs.checks.results, server.spec.externalHost) : inherited ?? [];
  const judged = inputs.checks !== undefined || inherited !== undefined;
  const verdictInput = { require: md.spec.autodiscover.require, autodiscoverHosts: ownHosts, domains: mailDomainNames(md.spec), certificate: cert };
  const verdict = domainVerdict(judged ? [cert, ...rows] : [cert], verdictInput);
  const gateVerdict = inherited ? domainVerdict([cert], verdictInput) : verdict;
  const accepted = !stall;

  const issuerStall = stall && stall.reason !== 'HostConflict';
  const exposure = exposureReport({ exposure: server.spec.exposure, namespace: md.metadata.namespace, name: names.ingress, hosts: hostNames, observed: inputs.exposure ?? { gatewayApi: false } });
  const apply = desiredDomainObjects({ md, server, hosts: hostNames, ...(exposure.attachment ? { gatewayAttachment: exposure.attachment } : {}) })
    // A refused issuer never signs: the Certificate stays as it is until the policy allows it.
    .filter((o) => !(issuerStall && (o as { kind?: string }).kind === 'Certificate'));
  const prune: MailDomainPlan['prune'] = [
    ...(hostNames.length === 0 ? [{ kind: 'Certificate' as const, name: names.certificate }] : []),
    // Exposure objects of another kind than the current one (ingress ↔ gateway), or all without a host.
    ...exposurePrune({ exposure: server.spec.exposure, name: names.ingress, noHosts: hostNames.length === 0, desired: apply, ...(inputs.exposure?.existing ? { existing: inputs.exposure.existing } : {}) }),
  ];

  const conditions = conditionsOf([...domainConditions(inputs, server, stall, cert, verdict, judged), exposure.condition]);
  const status: MailDomainStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    autodiscoverURLs: autodiscoverURLs(hostNames),
    checks: checkRows(mdStatus?.checks, [cert, ...rows], now),
  };
  return {
    // Condition transitions become Events in the caller (transitionEvents), once for both kinds.
    apply, prune, status, events: [],
    verdict: accepted ? gateVerdict : undefined, accepted, judgedByLastRun: inherited !== undefined, ...(stall ? { stalled: stall } : {}),
  };
}

function domainConditions(inputs: MailDomainInputs, server: MapiServer, stall: Objection | undefined, cert: CheckResult, verdict: DomainVerdict, checksRan: boolean): ConditionInput[] {
  const serverName = server.metadata.name;
  const serverNote = inputs.serverStalled ? ` (MapiServer ${serverName} is Stalled, ${inputs.serverStalled.reason}: ${inputs.serverStalled.message})` : '';
  const out: ConditionInput[] = [];
  out.push(stall
    ? { type: 'Accepted', status: 'False', reason: stall.reason, message: stall.message }
    : { type: 'Accepted', status: 'True', reason: 'Accepted', message: `served by MapiServer ${serverName}${serverNote}` });
  out.push(cert.status === 'Passed'
    ? { type: 'CertificateReady', status: 'True', reason: 'CertificateReady', message: cert.message }
    : { type: 'CertificateReady', status: cert.status === 'Unknown' ? 'Unknown' : 'False', reason: cert.status === 'Unknown' ? CERTIFICATE_ISSUING : 'CertificateNotReady', message: cert.message });
  const failingHosts = verdict.hosts.filter((h) => !h.published).map((h) => h.missing).join('; ');
  out.push(!checksRan
    ? { type: 'AutodiscoverPublished', status: 'Unknown', reason: 'ChecksPending', message: 'the DNS checks have not run yet' }
    : verdict.published
      ? { type: 'AutodiscoverPublished', status: 'True', reason: 'AutodiscoverPublished', message: `published for ${verdict.hosts.filter((h) => h.published).map((h) => h.host).join(', ')} (require: ${inputs.md.spec.autodiscover.require})` }
      : { type: 'AutodiscoverPublished', status: 'False', reason: 'AutodiscoverNotPublished', message: failingHosts || verdict.message });
  out.push(verdict.passing
    ? { type: 'ChecksPassed', status: 'True', reason: 'ChecksPassed', message: verdict.message }
    : { type: 'ChecksPassed', status: verdict.reason === 'ChecksPending' || verdict.reason === 'CertificateIssuing' ? 'Unknown' : 'False', reason: verdict.reason, message: verdict.message });

  const ready = !stall && verdict.passing;
  out.push(stall
    ? { type: 'Stalled', status: 'True', reason: stall.reason, message: stall.message }
    : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'nothing blocks reconciliation' });
  out.push(ready || stall
    ? { type: 'Reconciling', status: 'False', reason: stall ? stall.reason : 'Reconciled', message: stall ? stall.message : 'up to date' }
    : { type: 'Reconciling', status: 'True', reason: verdict.reason, message: verdict.message });
  out.push(ready
    ? { type: 'Ready', status: 'True', reason: 'Ready', message: `autodiscover for ${inputs.md.spec.domain} is published and served; MapiServer ${serverName} serves it${serverNote}` }
    : { type: 'Ready', status: 'False', reason: stall?.reason ?? verdict.reason, message: stall?.message ?? verdict.message });
  return out;
}
