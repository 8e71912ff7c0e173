// One condition helper for every controller: metav1.Condition semantics, where
// lastTransitionTime moves only when the status flips (kstatus and `kubectl wait` rely on it).
import type { Condition } from '../api/conditions.ts';
import type { CheckRow } from '../api/common.ts';
import type { CheckResult } from '../checks/types.ts';
import { CERTIFICATE_ISSUING } from '../checks/advisory-checks.ts';
import type { CertificateObserved } from './observed.ts';

export type { CertificateObserved } from './observed.ts';

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function setConditions(previous: Condition[] | undefined, next: ConditionInput[], generation: number | undefined, now: Date): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return next.map((c) => {
    const old = before.get(c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { type: c.type, status: c.status, ...(generation !== undefined ? { observedGeneration: generation } : {}), lastTransitionTime, reason: c.reason, message: c.message.slice(0, 32768) };
  });
}

export const findCondition = (conditions: Condition[] | undefined, type: string): Condition | undefined => conditions?.find((c) => c.type === type);

export interface ControllerEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

interface TransitionRule {
  type: string;
  to: 'True' | 'False';
  event: 'Normal' | 'Warning';
  reason?: string;
  /** No Event of its own when Ready turns True at the same time: Ready's says the same. */
  saidByReady?: boolean;
}

// Which condition changes a person cares to see in `kubectl describe` / `kubectl get events`.
const TRANSITIONS: TransitionRule[] = [
  { type: 'RolloutHeld', to: 'True', event: 'Warning' },
  { type: 'ChecksPassed', to: 'True', event: 'Normal', reason: 'ChecksPassed', saidByReady: true },
  { type: 'ChecksPassed', to: 'False', event: 'Warning' },
  { type: 'CertificateReady', to: 'True', event: 'Normal', reason: 'CertificateReady' },
  { type: 'CertificateReady', to: 'False', event: 'Warning' },
  { type: 'AutodiscoverPublished', to: 'True', event: 'Normal', reason: 'AutodiscoverPublished' },
  { type: 'Accepted', to: 'False', event: 'Warning' },
  { type: 'Stalled', to: 'True', event: 'Warning' },
  { type: 'MapiAvailable', to: 'True', event: 'Normal', reason: 'MapiAvailable' },
  { type: 'Degraded', to: 'True', event: 'Warning' },
  // A route the Gateway refused, a missing listener or Gateway: the front does not serve the hosts.
  { type: 'Exposed', to: 'False', event: 'Warning' },
  { type: 'Ready', to: 'True', event: 'Normal', reason: 'Ready' },
];

// States every new object passes through on its way: not news, so no Event.
const TRANSIENT_REASONS = new Set(['ChecksPending', 'Pending', 'DoesNotExist', 'Issuing', 'InProgress', 'CertificateIssuing']);

/** Events for conditions that changed status (or reason) between the stored and the new status. */
export function transitionEvents(previous: Condition[] | undefined, next: Condition[] | undefined): ControllerEvent[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  const changed = (c: Condition) => {
    const old = before.get(c.type);
    // A new status, or the same status for a new reason (held first for the certificate,
    // then for DNS): both are news to a person.
    return !old || old.status !== c.status || old.reason !== c.reason;
  };
  const becameReady = (next ?? []).some((c) => c.type === 'Ready' && c.status === 'True' && changed(c));
  // Causes already reported by another condition's Warning: a certificate not issued yet
  // turns ChecksPassed False first, CertificateReady a reconcile later (once the Certificate
  // exists); one Warning for both.
  const warned = (previous ?? []).filter((p) => TRANSITIONS.some((r) => r.type === p.type && r.to === p.status && r.event === 'Warning')).map((p) => p.reason);
  const events: ControllerEvent[] = [];
  for (const c of next ?? []) {
    if (!changed(c) || TRANSIENT_REASONS.has(c.reason)) continue;
    const rule = TRANSITIONS.find((r) => r.type === c.type && r.to === c.status);
    if (!rule || (rule.saidByReady && becameReady)) continue;
    const reason = rule.reason ?? c.reason;
    // One cause, one Event: a certificate not issued yet turns CertificateReady and
    // ChecksPassed False for the same reason, and a host conflict both Accepted and Stalled.
    if (events.some((e) => e.reason === reason) || (rule.event === 'Warning' && warned.includes(reason))) continue;
    events.push({ type: rule.event, reason, message: c.message });
  }
  return events;
}

/** Rows change only when a result changes, so an unchanged world costs no API writes. */
export function checkRows(previous: CheckRow[] | undefined, results: readonly CheckResult[], now: Date): CheckRow[] {
  const before = new Map((previous ?? []).map((r) => [r.name, r]));
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return results.map((r) => {
    const old = before.get(r.name);
    const same = old && old.status === r.status && old.reason === r.reason && old.message === r.message;
    return { name: r.name, status: r.status, reason: r.reason, message: r.message, lastTransitionTime: same ? old.lastTransitionTime : stamp };
  });
}

/**
 * cert-manager is at work on the Certificate (Issuing, or never issued), or has not looked at
 * it yet, and has not failed: no failed attempt since the last success, and not an expired
 * certificate (that one is served, and warns, now). Every new domain passes through this; it is progress, not a problem to report.
 */
export function certificateIssuing(certificate: CertificateObserved): boolean {
  if (certificate.failedAt !== undefined || certificate.ready?.reason === 'Expired') return false;
  return !certificate.ready || !certificate.current || certificate.issuing?.status === 'True' || certificate.issued === false ||
    (certificate.ready.status === 'False' && SECRET_NOT_WRITTEN_YET.has(certificate.ready.reason ?? ''));
}

/**
 * Ready reasons of cert-manager's readiness check that say the Secret is not written yet. With
 * no failed attempt they are an issuance on its way: cert-manager ends an issuance (Issuing
 * gone, a revision) a moment before its readiness check sees the Secret, and a status written in
 * that moment said "Failed: Issuing certificate as Secret does not exist" (2,222 of 5,000
 * MailDomains at a hoster's onboarding, each with a Warning and its held Mailboxes woken).
 */
const SECRET_NOT_WRITTEN_YET = new Set(['DoesNotExist', 'MissingData']);

/** cert-manager's view of one of our Certificates as the `certificate` check row. One message
 *  for "not looked at yet" and "issuing": the step between them is no news, and at a hoster's
 *  onboarding it would be one more status write per MailDomain. */
export function certificateCheck(name: string, certificate: CertificateObserved | undefined): CheckResult {
  const ready = certificate?.ready;
  if (ready?.status === 'True' && certificate?.current) {
    return { name: 'certificate', status: 'Passed', reason: ready.reason ?? 'Ready', message: ready.message ?? `Certificate ${name} is up to date and has not expired`, details: {} };
  }
  if (!certificate || !ready || certificateIssuing(certificate)) {
    return { name: 'certificate', status: 'Unknown', reason: CERTIFICATE_ISSUING, message: `waiting for cert-manager to issue Certificate ${name}`, details: {} };
  }
  // After a failed attempt cert-manager's Issuing condition says what failed.
  const why = certificate.failedAt !== undefined && certificate.issuing ? certificate.issuing : ready;
  return { name: 'certificate', status: 'Failed', reason: why.reason ?? 'NotReady', message: `Certificate ${name} is not ready: ${why.message ?? 'no message from cert-manager'}`, details: {} };
}

export const conditionStatus = (b: boolean): 'True' | 'False' => (b ? 'True' : 'False');

export interface Objection {
  reason: string;
  message: string;
}

/**
 * The issuer policies both kinds share (cert-manager style: the first objection wins). An
 * Issuer must live in the resource's namespace; ClusterIssuers only while the chart allows them.
 */
export function issuerObjection(
  issuerRef: { name: string; kind: 'Issuer' | 'ClusterIssuer' }, field: string, namespace: string,
  issuer: { exists?: boolean }, allowClusterIssuers: boolean,
): Objection | undefined {
  if (issuerRef.kind === 'ClusterIssuer' && !allowClusterIssuers) {
    return { reason: 'ClusterIssuerNotAllowed', message: `${field}: ClusterIssuers are turned off for this operator; name an Issuer in namespace ${namespace}` };
  }
  if (issuerRef.kind === 'ClusterIssuer' && issuer.exists === false) {
    return { reason: 'ClusterIssuerNotFound', message: `${field}: ClusterIssuer ${issuerRef.name} does not exist; ask the platform team to create it, or name an Issuer in namespace ${namespace}` };
  }
  if (issuerRef.kind === 'Issuer' && issuer.exists === false) {
    return { reason: 'IssuerNotFound', message: `${field}: Issuer ${issuerRef.name} does not exist in namespace ${namespace}; create it there (an Issuer must live in the same namespace) or name a ClusterIssuer` };
  }
  return undefined;
}
