// The MapiServer reconcile, minus the I/O: what the caches, the host claims and the check
// scheduler know goes in; the objects to apply, the objects to remove, the status to write and
// the Events to emit come out. Policies first (cert-manager style: the first objection wins),
// then the gate (src/gate), then the rollout (src/rollout). The rollout memory lives in
// annotations of the Deployment, so it survives operator restarts.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Condition } from '../../api/conditions.ts';
import type { MapiServer, MapiServerStatus } from '../../api/mapiserver.ts';
import type { AccessListInput } from '../../builders/access.ts';
import { CERTIFICATE_NOT_ISSUED } from '../../checks/tls-check.ts';
import { accessApplyOrder, unneededAccessShardNames, desiredServerObjects, desiredServerPodTemplate, externalURL, serverChildNames } from '../../builders/index.ts';
import { exposurePrune, exposureReport, type ExposureKind, type ExposureObserved } from '../../exposure/index.ts';
import type { CheckResult } from '../../checks/types.ts';
import { serverVerdict, type DomainVerdict, type ServerVerdict } from '../../gate/index.ts';
import { decideRollout, type RolloutDecision, type RunningDeployment } from '../../rollout/decision.ts';
import {
  certificateCheck, checkRows, conditionStatus, issuerObjection, setConditions,
  type CertificateObserved, type ConditionInput, type ControllerEvent, type Objection,
} from '../conditions.ts';

export interface HostedDomain {
  /** The MailDomain's object name. */
  name: string;
  /** spec.domain. */
  domain: string;
  accepted: boolean;
  stalled?: Objection;
  verdict?: DomainVerdict;
  /** http/ rows of its published autodiscover hosts: whether the running release answers. */
  httpResults?: CheckResult[];
  /** The release those rows judged (see releaseUnderProbe). */
  httpRelease?: string;
  /** Not judged by this process yet (just started): no verdict of its own, or one from the
   *  rows the last run left. */
  judgedByLastRun?: boolean;
}

export interface MapiServerInputs {
  server: MapiServer;
  externalHostClaim: { owned: boolean; owner?: { namespace: string; name: string } };
  /** Tenancy Granted: the external host is not granted to the namespace (src/policy/grants.ts). */
  notGranted?: Objection;
  /** Whether the Issuer (in the namespace) or ClusterIssuer exists (undefined: not looked up). */
  issuer: { exists?: boolean };
  certificate?: CertificateObserved;
  deployment?: RunningDeployment;
  /** Server rows: tls/<externalHost>, http/<externalHost>. */
  checks?: { results: CheckResult[]; checkedAt: Date; release?: string };
  domains: HostedDomain[];
  access: AccessListInput;
  /** shards.count of the live access index, if there is one (for the apply order). */
  liveAccessShardCount?: number;
  /** The front's view of the exposure (Gateway, our route and ListenerSet); absent: nothing known. */
  exposure?: ExposureObserved;
  now: Date;
  /** When this process started judging (see lastRunReport); absent: it reports only its own. */
  startedAt?: Date;
  options: { allowClusterIssuers: boolean; progressDeadlineMs: number; gatekeeperImage?: string };
}

export interface MapiServerPlan {
  apply: object[];
  prune: { kind: 'Certificate' | 'ConfigMap' | ExposureKind; name: string }[];
  status: MapiServerStatus;
  /** The rollout's own Events; condition transitions are the caller's (transitionEvents). */
  events: ControllerEvent[];
  requeueAfterMs?: number;
  /** For the caller's metrics and logs. */
  verdict: ServerVerdict;
  rollout: RolloutDecision;
}

// Policies that stop the reconcile before anything depends on them, first objection wins.
function stallingPolicy({ server, externalHostClaim, issuer, options, notGranted }: MapiServerInputs): Objection | undefined {
  if (notGranted) return notGranted;
  if (!externalHostClaim.owned) {
    const owner = externalHostClaim.owner ? `MapiServer ${externalHostClaim.owner.namespace}/${externalHostClaim.owner.name}` : 'another MapiServer';
    return {
      reason: 'HostConflict',
      message: `spec.externalHost ${server.spec.externalHost} is already served by ${owner} (the older claim wins): choose another externalHost, or delete that MapiServer`,
    };
  }
  return issuerObjection(server.spec.tls.issuerRef, 'spec.tls.issuerRef', server.metadata.namespace, issuer, options.allowClusterIssuers);
}

// Whether the running release answers: the external host and every published autodiscover
// host of an accepted domain. An unpublished host cannot be reached and says nothing about it.
// Only rows of the release the server's own run judged count: a MailDomain's run from before
// the rollout describes the pods that were replaced.
function servingVerdict(inputs: MapiServerInputs): { status: 'Passed' | 'Failed' | 'Unknown'; message: string; checkedAt?: Date; release?: string } {
  const externalHttp = `http/${inputs.server.spec.externalHost}`;
  const release = inputs.checks?.release;
  // A host whose certificate is not issued yet is not probed (CERTIFICATE_NOT_ISSUED) and says
  // nothing about the release either: a hoster's first rollout does not wait for cert-manager
  // to get through thousands of domains.
  const http = [
    ...(inputs.checks?.results ?? []).filter((r) => r.name === externalHttp),
    ...inputs.domains.filter((d) => d.accepted && !d.stalled && d.httpRelease === release).flatMap((d) => d.httpResults ?? []),
  ].filter((r) => r.reason !== CERTIFICATE_NOT_ISSUED);
  const checkedAt = inputs.checks ? { checkedAt: inputs.checks.checkedAt, ...(release !== undefined ? { release } : {}) } : {};
  if (http.length === 0) return { status: 'Unknown', message: 'the MAPI endpoints have not been probed yet', ...checkedAt };
  const failed = http.filter((r) => r.status === 'Failed' || r.status === 'Unknown');
  if (failed.length === 0) return { status: 'Passed', message: 'MAPI and autodiscover answer', ...checkedAt };
  return { status: 'Failed', message: failed.slice(0, 5).map((r) => r.message).join('; '), ...checkedAt };
}

/** What the status says of the gate: ChecksPassed, status.domains and the server's check rows. */
interface GateReport {
  checksPassed?: ConditionInput;
  domains: NonNullable<MapiServerStatus['domains']>;
  rows: CheckResult[];
}

function reportOf(verdict: ServerVerdict, rows: CheckResult[]): GateReport {
  return {
    domains: {
      accepted: verdict.accepted,
      passing: verdict.passing,
      summary: `${verdict.passing}/${verdict.accepted}`,
      ...(verdict.blocking.length > 0 ? { blocking: verdict.blocking } : {}),
    },
    rows,
  };
}

/**
 * What the last run reported of the gate, while this process (a restart, a failover) has not
 * gathered the gate's inputs yet: the server's own checks have not run, or a MailDomain was not
 * judged by this process yet. The gate itself stays closed until they are in (a rollout waits
 * for this process's own results); the status keeps the last run's report for this generation.
 * Without it every restart wrote the server "checks pending, 0/N MailDomains pass" and then the
 * same report again: two writes, and ChecksPassed flapping (with its Events) for GitOps tools
 * to see. A certificate that is not ready, or a stall, is live news and always reported (the
 * server's check rows stay the last run's until its own run all the same: lastRunRows); and
 * after LAST_RUN_REPORT_MAX_MS the process reports what it has, whatever is still missing (a
 * MailDomain that keeps failing to reconcile must not leave the last run's report up for ever).
 */
export const LAST_RUN_REPORT_MAX_MS = 15 * 60_000;

/** Whether this process may still stand on the last run's results (see lastRunReport). */
function mayCarry(inputs: MapiServerInputs, stall: Objection | undefined): boolean {
  const status = inputs.server.status;
  if (stall || !inputs.startedAt || inputs.now.getTime() - inputs.startedAt.getTime() > LAST_RUN_REPORT_MAX_MS) return false;
  return status?.observedGeneration !== undefined && status.observedGeneration === inputs.server.metadata.generation;
}

/** The server's check rows the last run wrote, until this process's own server checks have run
 *  (whatever the certificate: they are the last known results, not a verdict). */
function lastRunRows(inputs: MapiServerInputs, stall: Objection | undefined): CheckResult[] | undefined {
  if (inputs.checks !== undefined || !mayCarry(inputs, stall)) return undefined;
  return (inputs.server.status?.checks ?? []).filter((r) => r.name !== 'certificate').map((r) => ({ name: r.name, status: r.status, reason: r.reason, message: r.message, details: {} }));
}

function lastRunReport(inputs: MapiServerInputs, cert: CheckResult, stall: Objection | undefined, rows: CheckResult[]): GateReport | undefined {
  const status = inputs.server.status;
  const catchingUp = inputs.checks === undefined || inputs.domains.some((d) => d.accepted && !d.stalled && d.judgedByLastRun);
  if (!catchingUp || cert.status !== 'Passed' || !mayCarry(inputs, stall) || !status?.domains) return undefined;
  const checksPassed = (status.conditions as Condition[] | undefined)?.find((c) => c.type === 'ChecksPassed');
  if (!checksPassed) return undefined;
  return { checksPassed: { type: 'ChecksPassed', status: checksPassed.status, reason: checksPassed.reason, message: checksPassed.message }, domains: status.domains, rows };
}

export function decideMapiServer(inputs: MapiServerInputs): MapiServerPlan {
  const { server, now, options } = inputs;
  const spec = server.spec;
  const generation = server.metadata.generation;
  const names = serverChildNames(server);
  const stall = stallingPolicy(inputs);

  const cert = certificateCheck(names.certificate, inputs.certificate);
  const serverRows = (inputs.checks?.results ?? []).filter((r) => r.name !== 'certificate');
  const verdict = serverVerdict({
    externalHost: spec.externalHost,
    certificate: cert,
    results: serverRows,
    domains: inputs.domains,
    policy: spec.gate,
    checksRan: inputs.checks !== undefined,
  });

  const rollout = decideRollout({
    mode: spec.gate.mode,
    gate: verdict,
    ...(stall ? { stalled: stall } : {}),
    specReplicas: spec.replicas,
    desiredTemplate: desiredServerPodTemplate(server, options.gatekeeperImage ? { gatekeeperImage: options.gatekeeperImage } : {}),
    ...(inputs.deployment ? { current: inputs.deployment } : {}),
    serving: servingVerdict(inputs),
    now,
    progressDeadlineMs: options.progressDeadlineMs,
  });

  // A server whose external host is another's gets no route and no certificate name for it;
  // an issuer objection keeps the Certificate as it is (never re-issued by a refused issuer).
  const exposeExternalHost = stall?.reason !== 'HostConflict' && stall?.reason !== 'NotGranted';
  const exposure = exposureReport({ exposure: spec.exposure, namespace: server.metadata.namespace, name: names.ingress, hosts: exposeExternalHost ? [spec.externalHost] : [], observed: inputs.exposure ?? { gatewayApi: false } });
  const objects = desiredServerObjects({
    server,
    exposeExternalHost,
    ...(exposure.attachment ? { gatewayAttachment: exposure.attachment } : {}),
    deployment: { replicas: rollout.replicas, template: rollout.template, annotations: rollout.annotations },
    access: inputs.access,
  }).filter((o) => !(stall && (o as { kind?: string }).kind === 'Certificate'));
  const configMaps = (objects as V1ConfigMap[]).filter((o) => o.kind === 'ConfigMap');
  // A pod may pick up the volume between two ConfigMap writes: apply the list in the order
  // that never pairs an index with shards of another split (see accessApplyOrder).
  const ordered = accessApplyOrder(configMaps, inputs.liveAccessShardCount);
  // The list goes first: the pod template projects it (optional sources, but a new pod should find it).
  const apply = [...ordered, ...(objects as V1ConfigMap[]).filter((o) => o.kind !== 'ConfigMap')];
  const prune: MapiServerPlan['prune'] = [
    ...(exposeExternalHost ? [] : [{ kind: 'Certificate' as const, name: names.certificate }]),
    // Exposure objects of another kind than the current one (ingress ↔ gateway), or all of them without a host.
    ...exposurePrune({ exposure: spec.exposure, name: names.ingress, noHosts: !exposeExternalHost, desired: objects, ...(inputs.exposure?.existing ? { existing: inputs.exposure.existing } : {}) }),
    // Access shards the list no longer needs (it shrank); the projected volume lists all of them
    // as optional, so removing one never changes the pod template.
    // The caller deletes them after applying the rest, and only those it owns.
    ...unneededAccessShardNames(server, configMaps).map((name) => ({ kind: 'ConfigMap' as const, name })),
  ];

  const rows = lastRunRows(inputs, stall) ?? serverRows;
  const report = lastRunReport(inputs, cert, stall, rows) ?? reportOf(verdict, rows);
  const conditions = setConditions(server.status?.conditions as Condition[] | undefined, [...serverConditions(inputs, stall, cert, verdict, rollout, report), exposure.condition], generation, now);
  const status: MapiServerStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions,
    externalURL: externalURL(spec.externalHost),
    exposure: exposure.summary,
    domains: report.domains,
    checks: checkRows(server.status?.checks, [cert, ...report.rows], now),
    rollout: {
      state: rollout.state,
      reason: rollout.reason,
      message: rollout.message,
      currentImage: inputs.deployment?.template.spec?.containers?.find((c) => c.name === 'mapi')?.image ?? inputs.deployment?.template.spec?.containers?.[0]?.image ?? '',
      desiredImage: spec.image,
    },
  };
  return {
    apply,
    prune,
    status,
    // Condition transitions become Events in the caller (transitionEvents), once for both kinds.
    events: rollout.events,
    ...(rollout.requeueAfterMs ? { requeueAfterMs: rollout.requeueAfterMs } : {}),
    verdict,
    rollout,
  };
}

function serverConditions(inputs: MapiServerInputs, stall: Objection | undefined, cert: CheckResult, verdict: ServerVerdict, rollout: RolloutDecision, report: GateReport): ConditionInput[] {
  const d = inputs.deployment;
  // Pods answering at all, whichever release they run (a held upgrade leaves the old one serving).
  const available = d !== undefined && d.replicas > 0 && d.status.readyReplicas > 0;
  const warnOnly = inputs.server.spec.gate.mode === 'Warn' && !verdict.open;
  const out: ConditionInput[] = [];
  out.push(cert.status === 'Passed'
    ? { type: 'CertificateReady', status: 'True', reason: 'CertificateReady', message: cert.message }
    : { type: 'CertificateReady', status: cert.status === 'Unknown' ? 'Unknown' : 'False', reason: cert.status === 'Unknown' ? 'Pending' : 'CertificateNotReady', message: cert.message });
  out.push(report.checksPassed ?? {
    type: 'ChecksPassed',
    status: verdict.open ? 'True' : verdict.reason === 'ChecksPending' ? 'Unknown' : 'False',
    reason: verdict.reason,
    message: warnOnly ? `gate.mode Warn: not blocking the rollout; ${verdict.message}` : verdict.message,
  });
  out.push(rollout.held
    ? { type: 'RolloutHeld', status: 'True', reason: rollout.reason, message: rollout.message }
    : { type: 'RolloutHeld', status: 'False', reason: 'NotHeld', message: 'the rollout is not held' });
  out.push(available
    ? { type: 'MapiAvailable', status: 'True', reason: 'MapiAvailable', message: `${d.status.readyReplicas}/${d.replicas} MAPI pods ready; ${rollout.message}` }
    : { type: 'MapiAvailable', status: 'False', reason: rollout.held ? 'RolloutHeld' : rollout.reason, message: rollout.message });
  out.push(rollout.degraded
    ? { type: 'Degraded', status: 'True', reason: rollout.degraded.reason, message: rollout.degraded.message }
    : { type: 'Degraded', status: 'False', reason: 'NotDegraded', message: 'the MAPI release answers' });

  // kstatus: Stalled = needs a person; Reconciling = still converging; Ready = the desired
  // release runs and answers. A domain that starts failing leaves a serving server Ready (it
  // keeps serving; ChecksPassed and status.domains report it); a held upgrade does not.
  const serving = rollout.state === 'Available' && available;
  const ready = !stall && cert.status === 'Passed' && serving && !rollout.held && !rollout.degraded;
  const notReady: Objection = stall
    ?? (rollout.held ? { reason: rollout.reason, message: rollout.message }
      : cert.status !== 'Passed' ? { reason: 'CertificateNotReady', message: cert.message }
        : rollout.degraded ?? { reason: rollout.reason, message: rollout.message });
  out.push(stall
    ? { type: 'Stalled', status: 'True', reason: stall.reason, message: stall.message }
    : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'nothing blocks reconciliation' });
  out.push(!ready && !stall
    ? { type: 'Reconciling', status: 'True', reason: notReady.reason, message: notReady.message }
    : { type: 'Reconciling', status: 'False', reason: stall ? stall.reason : 'Reconciled', message: stall ? stall.message : 'up to date' });
  out.push(ready
    ? { type: 'Ready', status: conditionStatus(true), reason: 'Ready', message: `MAPI is served at ${externalURL(inputs.server.spec.externalHost)} for ${report.domains.passing}/${report.domains.accepted} passing MailDomains` }
    : { type: 'Ready', status: 'False', reason: notReady.reason, message: notReady.message });
  return out;
}
