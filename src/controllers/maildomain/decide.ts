// The MailDomain reconcile, minus the I/O: everything gathered from the caches and the check
// scheduler goes in; the objects to apply, the objects to remove, the status to write and the
// Events to emit come out. cert-manager's policy chains are the model: small checks, the first
// one that objects decides the condition.
import type { CheckResult, CheckRow, MailDomain, MailDomainStatus } from './types.ts';
import type { Condition } from '../../api/conditions.ts';
import { desiredObjects, desiredPodTemplate, servedHosts, autodiscoverURLs, externalURL, childNames } from '../../builders/index.ts';
import type { MailboxAccess } from '../../builders/access.ts';
import { decideRollout, type GateVerdict, type RolloutDecision, type RolloutEvent, type RunningDeployment } from '../../rollout/decision.ts';
import { setConditions, type ConditionInput } from '../conditions.ts';
import { claimHosts, type Claimant, type HostConflict } from './host-claims.ts';

export interface CertificateObserved {
  /** cert-manager's Ready condition on our Certificate, if cert-manager wrote one yet. */
  ready?: { status: string; reason?: string; message?: string };
  /** Whether the observed status is for the dnsNames we asked for. */
  current: boolean;
}

export interface CheckSnapshot {
  results: CheckResult[];
  checkedAt: Date;
}

export interface MailDomainInputs {
  md: MailDomain;
  claimants: Claimant[];
  certificate?: CertificateObserved;
  /** kind Issuer: whether it exists in the MailDomain's namespace (undefined: not looked up). */
  issuerExists?: boolean;
  deployment?: RunningDeployment;
  checks?: CheckSnapshot;
  /** gateDecision over the checks plus the certificate (computed by the caller's gate module). */
  gate: (results: CheckResult[]) => GateVerdict;
  mailboxes: MailboxAccess[];
  now: Date;
  options: { allowClusterIssuers: boolean; progressDeadlineMs: number };
}

export interface MailDomainPlan {
  apply: object[];
  /** Kinds of children that must not exist (e.g. the Ingress when every host is claimed elsewhere). */
  prune: { kind: 'Certificate' | 'Ingress'; name: string }[];
  status: MailDomainStatus;
  events: RolloutEvent[];
  requeueAfterMs?: number;
  rollout?: RolloutDecision;
}

type Blocker = { reason: string; message: string } | undefined;

function conflictMessage(conflicts: HostConflict[]): string {
  return conflicts.map((c) => `${c.host} is already served by MailDomain ${c.owner.namespace}/${c.owner.name}`).join('; ') +
    ': remove the host from this MailDomain (or from the other one) — a host belongs to one MailDomain';
}

// Policies that stop the reconcile before anything is applied, first objection wins.
function stallingPolicy(inputs: MailDomainInputs): Blocker {
  const { md, options } = inputs;
  if (md.spec.tls.issuerRef.kind === 'ClusterIssuer' && !options.allowClusterIssuers) {
    return { reason: 'ClusterIssuerNotAllowed', message: `spec.tls.issuerRef: ClusterIssuers are turned off for this operator; use an Issuer in namespace ${md.metadata.namespace}` };
  }
  return undefined;
}

export function certificateCheck(inputs: MailDomainInputs): CheckResult {
  const { md, certificate, issuerExists } = inputs;
  const name = childNames(md).certificate;
  if (md.spec.tls.issuerRef.kind === 'Issuer' && issuerExists === false) {
    return {
      name: 'certificate', status: 'Failed', reason: 'IssuerNotFound', details: {},
      message: `Issuer ${md.spec.tls.issuerRef.name} does not exist in namespace ${md.metadata.namespace}: an Issuer must live in the MailDomain's namespace; create it there or use a ClusterIssuer`,
    };
  }
  const ready = certificate?.ready;
  if (!certificate || !ready || !certificate.current) {
    return { name: 'certificate', status: 'Unknown', reason: 'Pending', message: `waiting for cert-manager to issue Certificate ${name}`, details: {} };
  }
  if (ready.status === 'True') {
    return { name: 'certificate', status: 'Passed', reason: ready.reason ?? 'Ready', message: ready.message ?? 'Certificate is up to date and has not expired', details: {} };
  }
  return {
    name: 'certificate', status: 'Failed', reason: ready.reason ?? 'NotReady', details: {},
    message: `Certificate ${name} is not ready: ${ready.message ?? 'no message from cert-manager'}`,
  };
}

/** Rows change only when a result changes, so an unchanged world costs no API writes. */
export function checkRows(previous: CheckRow[] | undefined, results: CheckResult[], now: Date): CheckRow[] {
  const before = new Map((previous ?? []).map((r) => [r.name, r]));
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return results.map((r) => {
    const old = before.get(r.name);
    const same = old && old.status === r.status && old.reason === r.reason && old.message === r.message;
    return { name: r.name, status: r.status, reason: r.reason, message: r.message, lastTransitionTime: same ? old.lastTransitionTime : stamp };
  });
}

// Whether the running release answers: the external host, and every autodiscover host DNS
// publishes. A host that is not published cannot be reached and says nothing about the release.
function servingVerdict(results: CheckResult[], externalHost: string): { status: 'Passed' | 'Failed' | 'Unknown'; message: string } {
  const published = new Set(results.filter((r) => r.name.startsWith('dns/') && (r.status === 'Passed' || r.status === 'Warning')).map((r) => r.name.slice(4)));
  const http = results.filter((r) => r.name.startsWith('http/') && (r.name === `http/${externalHost}` || published.has(r.name.slice(5))));
  if (http.length === 0) return { status: 'Unknown', message: 'the MAPI endpoints have not been probed yet' };
  const failed = http.filter((r) => r.status === 'Failed' || r.status === 'Unknown');
  if (failed.length === 0) return { status: 'Passed', message: 'MAPI and autodiscover answer' };
  return { status: 'Failed', message: failed.map((r) => r.message).join('; ') };
}

export function decideMailDomain(inputs: MailDomainInputs): MailDomainPlan {
  const { md, now } = inputs;
  const generation = md.metadata.generation;
  const previous = md.status;
  const names = childNames(md);
  const { owned, conflicts } = claimHosts(
    { namespace: md.metadata.namespace, name: md.metadata.name, creationTimestamp: md.metadata.creationTimestamp, spec: md.spec },
    inputs.claimants,
  );
  const stall = stallingPolicy(inputs) ?? (conflicts.length > 0 ? { reason: 'HostConflict', message: conflictMessage(conflicts) } : undefined);

  const cert = certificateCheck(inputs);
  const results = [cert, ...(inputs.checks?.results ?? []).filter((r) => r.name !== 'certificate')];
  const checksRan = inputs.checks !== undefined;
  const gate: GateVerdict = stall
    ? { open: false, reason: stall.reason, message: stall.message }
    : checksRan
      ? inputs.gate(results)
      : { open: false, reason: 'ChecksPending', message: 'the DNS and TLS checks have not run yet' };

  const rollout = decideRollout({
    mapiEnabled: md.spec.mapi.enabled,
    mode: md.spec.checks.mode,
    // A stalled MailDomain never releases, not even in Warn mode: its hosts are not its own.
    gate,
    specReplicas: md.spec.mapi.replicas,
    desiredTemplate: desiredPodTemplate(md),
    ...(inputs.deployment ? { current: inputs.deployment } : {}),
    serving: { ...servingVerdict(results, md.spec.externalHost), ...(inputs.checks ? { checkedAt: inputs.checks.checkedAt } : {}) },
    now,
    progressDeadlineMs: inputs.options.progressDeadlineMs,
  });
  const effectiveRollout: RolloutDecision = stall && !inputs.deployment
    ? { ...rollout, replicas: 0, state: 'Held', held: true, reason: stall.reason, message: `rollout held: ${stall.message}`, events: [] }
    : rollout;

  const objects = desiredObjects({
    md,
    hosts: owned,
    deployment: { replicas: effectiveRollout.replicas, template: effectiveRollout.template },
    mailboxes: inputs.mailboxes,
  });
  // The rollout memory lives on the Deployment so it survives operator restarts.
  for (const o of objects as { kind: string; metadata: { annotations?: Record<string, string> } }[]) {
    if (o.kind === 'Deployment' && Object.keys(effectiveRollout.annotations).length > 0) {
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), ...effectiveRollout.annotations };
    }
  }
  const prune: MailDomainPlan['prune'] = owned.length === 0 ? [{ kind: 'Certificate', name: names.certificate }, { kind: 'Ingress', name: names.ingress }] : [];

  const conditions = buildConditions({ inputs, stall, cert, results, gate, rollout: effectiveRollout, checksRan });
  const status: MailDomainStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setConditions(previous?.conditions as Condition[] | undefined, conditions, generation, now),
    externalURL: externalURL(md.spec),
    autodiscoverURLs: autodiscoverURLs(servedHosts(md.spec).filter((h) => h !== md.spec.externalHost)),
    checks: checkRows(previous?.checks, results, now),
    rollout: {
      state: effectiveRollout.state,
      reason: effectiveRollout.reason,
      message: effectiveRollout.message,
      currentImage: inputs.deployment?.template.spec?.containers?.[0]?.image ?? '',
      desiredImage: md.spec.mapi.image,
    },
  };
  return { apply: objects, prune, status, events: effectiveRollout.events, ...(effectiveRollout.requeueAfterMs ? { requeueAfterMs: effectiveRollout.requeueAfterMs } : {}), rollout: effectiveRollout };
}

interface ConditionContext {
  inputs: MailDomainInputs;
  stall: Blocker;
  cert: CheckResult;
  results: CheckResult[];
  gate: GateVerdict;
  rollout: RolloutDecision;
  checksRan: boolean;
}

const bool = (b: boolean): 'True' | 'False' => (b ? 'True' : 'False');

function buildConditions(ctx: ConditionContext): ConditionInput[] {
  const { inputs, stall, cert, results, gate, rollout, checksRan } = ctx;
  const md = inputs.md;
  const dns = results.filter((r) => r.name.startsWith('dns/'));
  const published = dns.filter((r) => r.status === 'Passed' || r.status === 'Warning');
  const needAll = md.spec.checks.require === 'All';
  const autodiscoverOk = needAll ? published.length === dns.length && dns.length > 0 : published.length > 0;
  const failedDns = dns.filter((r) => !(r.status === 'Passed' || r.status === 'Warning'));
  const d = inputs.deployment;
  const available = rollout.state === 'Available' && d !== undefined && d.replicas > 0 && d.status.readyReplicas >= d.replicas;

  const out: ConditionInput[] = [];
  out.push(cert.status === 'Passed'
    ? { type: 'CertificateReady', status: 'True', reason: cert.reason, message: cert.message }
    : { type: 'CertificateReady', status: cert.status === 'Unknown' ? 'Unknown' : 'False', reason: cert.reason, message: cert.message });
  out.push(!checksRan
    ? { type: 'AutodiscoverPublished', status: 'Unknown', reason: 'ChecksPending', message: 'the DNS checks have not run yet' }
    : { type: 'AutodiscoverPublished', status: bool(autodiscoverOk), reason: autodiscoverOk ? 'Published' : 'AutodiscoverNotPublished',
        message: autodiscoverOk ? `published for ${published.map((r) => r.name.slice(4)).join(', ')}` : failedDns.map((r) => r.message).join('; ') || 'no autodiscover host to check' });
  out.push({ type: 'ChecksPassed', status: checksRan ? bool(gate.open) : 'Unknown', reason: gate.open ? 'ChecksPassed' : gate.reason, message: gate.message });
  out.push({ type: 'RolloutHeld', status: bool(rollout.held), reason: rollout.held ? rollout.reason : 'NotHeld', message: rollout.held ? rollout.message : 'the rollout is not held' });
  out.push(md.spec.mapi.enabled
    ? { type: 'MapiAvailable', status: bool(available), reason: available ? 'Available' : rollout.reason, message: rollout.message }
    : { type: 'MapiAvailable', status: 'False', reason: 'MapiDisabled', message: rollout.message });
  out.push(rollout.degraded
    ? { type: 'Degraded', status: 'True', reason: rollout.degraded.reason, message: rollout.degraded.message }
    : { type: 'Degraded', status: 'False', reason: 'NotDegraded', message: 'the MAPI release answers' });

  // kstatus: Stalled = needs a person; Reconciling = still converging; Ready = done.
  const disabledOk = !md.spec.mapi.enabled;
  const ready = !stall && cert.status === 'Passed' && (available || disabledOk) && !rollout.degraded;
  out.push(stall
    ? { type: 'Stalled', status: 'True', reason: stall.reason, message: stall.message }
    : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'nothing blocks reconciliation' });
  out.push(!ready && !stall
    ? { type: 'Reconciling', status: 'True', reason: rollout.held ? 'RolloutHeld' : cert.status !== 'Passed' ? 'CertificatePending' : rollout.reason, message: rollout.held ? rollout.message : cert.status !== 'Passed' ? cert.message : rollout.message }
    : { type: 'Reconciling', status: 'False', reason: stall ? stall.reason : 'Reconciled', message: stall ? stall.message : 'up to date' });
  out.push(ready
    ? { type: 'Ready', status: 'True', reason: disabledOk ? 'MapiDisabled' : 'Ready', message: disabledOk ? 'MAPI is switched off for this domain; certificate and autodiscover are served' : `MAPI is served at ${externalURL(md.spec)}` }
    : { type: 'Ready', status: 'False', reason: stall?.reason ?? (rollout.held ? rollout.reason : cert.status !== 'Passed' ? cert.reason : rollout.reason), message: stall?.message ?? (rollout.held ? rollout.message : cert.status !== 'Passed' ? cert.message : rollout.message) });
  return out;
}

interface TransitionRule {
  type: string;
  to: 'True' | 'False';
  event: 'Normal' | 'Warning';
  reason?: string;
}

// Which condition changes a person cares to see in `kubectl describe` / `kubectl get events`.
const TRANSITIONS: TransitionRule[] = [
  { type: 'RolloutHeld', to: 'True', event: 'Warning' },
  { type: 'ChecksPassed', to: 'True', event: 'Normal', reason: 'ChecksPassed' },
  { type: 'ChecksPassed', to: 'False', event: 'Warning' },
  { type: 'CertificateReady', to: 'True', event: 'Normal', reason: 'CertificateReady' },
  { type: 'CertificateReady', to: 'False', event: 'Warning' },
  { type: 'Stalled', to: 'True', event: 'Warning' },
  { type: 'MapiAvailable', to: 'True', event: 'Normal', reason: 'MapiAvailable' },
  { type: 'Ready', to: 'True', event: 'Normal', reason: 'Ready' },
];

// States every new MailDomain passes through on its way: not news, so no Event.
const TRANSIENT_REASONS = new Set(['ChecksPending', 'Pending', 'DoesNotExist', 'Issuing', 'InProgress']);

/** Events for conditions that changed status between the stored and the new status. */
export function transitionEvents(previous: Condition[] | undefined, next: Condition[] | undefined): RolloutEvent[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const events: RolloutEvent[] = [];
  for (const c of next ?? []) {
    const old = before.get(c.type);
    // A new status, or the same status for a new reason (held first for the certificate,
    // then for DNS): both are news to a person.
    if (old && old.status === c.status && old.reason === c.reason) continue;
    if (TRANSIENT_REASONS.has(c.reason)) continue;
    const rule = TRANSITIONS.find((r) => r.type === c.type && r.to === c.status);
    if (rule) events.push({ type: rule.event, reason: rule.reason ?? c.reason, message: c.message });
  }
  return events;
}
