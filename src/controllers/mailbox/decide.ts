// The Mailbox status, decided without I/O: the Get-CASMailbox view (effective MapiEnabled)
// plus kstatus conditions. BlueMind's rule: MAPI is set up before its users, so a Mailbox of
// a domain whose MAPI service is not rolled out is not Ready yet, and becomes Ready by itself.
import type { MailboxStatus } from '../../api/mailbox.ts';
import type { Condition } from '../../api/conditions.ts';
import { setConditions, type ConditionInput } from '../conditions.ts';
import type { MailboxVerdict } from './verdict.ts';

export type DomainState =
  | { kind: 'Missing'; name: string }
  | { kind: 'Invalid'; name: string; message: string }
  | {
    kind: 'Found'; name: string; domain: string; mapiEnabled: boolean; mapiAvailable: boolean; rolloutMessage: string;
    /** The MailDomain has no verdict yet: not reconciled for its generation, or waiting for its
     *  certificate or its first checks. */
    verdictPending?: boolean;
    /** Its verdict is on its way: cert-manager at work on its certificate, or its first checks
     *  running (Ready reasons CertificateIssuing, ChecksPending). Progress that may take as
     *  long as cert-manager's queue, with no problem to report. */
    verdictInProgress?: boolean;
    /** Its MapiServer's rollout is on its way (serverRolloutInProgress): not reconciled yet, the
     *  gate waiting for first checks or a certificate cert-manager is issuing, pods starting
     *  within the progress deadline. Nothing a person must fix yet. */
    serverInProgress?: boolean;
    /** The MailDomain passes its checks while its MapiServer's status says its rollout is held
     *  for its domains (DomainsNotReady): a status from before this domain passed, most
     *  likely, which the server's next reconcile replaces within seconds. */
    serverHeldForOtherDomains?: boolean;
  };

export interface MailboxInputs {
  generation?: number;
  previous?: MailboxStatus;
  invalidSpec?: string;
  domain?: DomainState;
  verdict?: MailboxVerdict;
  /** Whether the access ConfigMap already carries this mailbox's effective value. */
  published: boolean;
  now: Date;
}

export function decideMailbox(i: MailboxInputs): MailboxStatus {
  const c: ConditionInput[] = [];
  let mapiEnabled = false;
  const stalled = (reason: string, message: string) => {
    c.push({ type: 'Stalled', status: 'True', reason, message });
    c.push({ type: 'Reconciling', status: 'False', reason, message: 'waiting for a change to the Mailbox' });
    c.push({ type: 'Ready', status: 'False', reason, message });
  };
  const waiting = (reason: string, message: string) => {
    c.push({ type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'nothing blocks reconciliation' });
    c.push({ type: 'Reconciling', status: 'True', reason, message });
    c.push({ type: 'Ready', status: 'False', reason, message });
  };
  const d = i.domain;
  if (i.invalidSpec) {
    stalled('InvalidSpec', `${i.invalidSpec}; fix the Mailbox and apply it again`);
  } else if (!d || d.kind === 'Missing') {
    waiting('MailDomainNotFound', `MailDomain ${d?.name ?? ''} does not exist in this namespace yet: MAPI is set up before its users; create the MailDomain (spec.domainRef)`);
  } else if (d.kind === 'Invalid') {
    waiting('MailDomainInvalid', `MailDomain ${d.name} is invalid: ${d.message}`);
  } else if (i.verdict && !i.verdict.valid) {
    stalled(i.verdict.reason, i.verdict.message);
  } else if (i.verdict?.valid) {
    mapiEnabled = i.verdict.effective;
    if (d.mapiEnabled && !d.mapiAvailable) {
      waiting('MailDomainNotReady', `MAPI for ${d.domain} is not rolled out yet (${d.rolloutMessage}); this Mailbox becomes Ready once it is`);
    } else if (!i.published) {
      waiting('AccessPending', 'waiting for the access list of the MailDomain to carry this mailbox');
    } else {
      c.push({ type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'nothing blocks reconciliation' });
      c.push({ type: 'Reconciling', status: 'False', reason: 'Reconciled', message: 'up to date' });
      const why = !d.mapiEnabled ? `MAPI is switched off for the whole domain ${d.domain}` : mapiEnabled ? 'Outlook may connect over MAPI/HTTP' : 'MAPI is switched off for this mailbox (spec.mapiEnabled: false); mail delivery and other protocols are unaffected';
      c.push({ type: 'Ready', status: 'True', reason: mapiEnabled ? 'MapiEnabled' : 'MapiDisabled', message: why });
    }
  } else {
    waiting('Pending', 'not evaluated yet');
  }
  return {
    ...(i.generation !== undefined ? { observedGeneration: i.generation } : {}),
    mapiEnabled,
    conditions: setConditions(i.previous?.conditions as Condition[] | undefined, c, i.generation, i.now),
  };
}

/**
 * The longest a new Mailbox's first status is held back while its MailDomain has no verdict
 * and says nothing of progress either (a status without a Ready condition; see
 * firstStatusDelay).
 */
export const FIRST_STATUS_GRACE_MS = 60_000;

/** A MailDomain's Ready reasons that mean "no verdict yet", not a problem found
 *  (CertificateNotReady is one: a failed issuance or an expired certificate). */
const VERDICT_PENDING_REASONS = new Set(['ChecksPending', 'CertificateIssuing', 'Pending']);

type DomainStatusView = { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string }> } | undefined;

/** Whether a MailDomain has no verdict yet (its status, read from the cache). */
export function domainVerdictPending(generation: number | undefined, status: DomainStatusView): boolean {
  if (!status || status.observedGeneration !== generation) return true;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return !ready || (ready.status !== 'True' && VERDICT_PENDING_REASONS.has(ready.reason));
}

/** Whether a MailDomain passes its checks: Ready for its current generation. */
export function domainPasses(generation: number | undefined, status: DomainStatusView): boolean {
  return status?.observedGeneration === generation && status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** Ready reasons of a MailDomain whose verdict is on its way, each step someone's work:
 *  cert-manager issuing without a failure, the operator's own first checks. */
const VERDICT_IN_PROGRESS_REASONS = new Set(['CertificateIssuing', 'ChecksPending']);

/** Whether a MailDomain's verdict is in progress: one of those, or not reconciled for its
 *  generation yet (this operator's own queue: at a hoster's onboarding the 5,000th MailDomain's
 *  first reconcile comes minutes after its Mailboxes were first looked at). */
export function domainVerdictInProgress(generation: number | undefined, status: DomainStatusView): boolean {
  if (!status || status.observedGeneration !== generation) return true;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'False' && VERDICT_IN_PROGRESS_REASONS.has(ready.reason);
}

/** Hold a first status until the MailDomain's state changes: no timer. */
export const UNTIL_DOMAIN_CHANGES = Number.POSITIVE_INFINITY;

/**
 * Milliseconds to hold back the first status of a Mailbox (UNTIL_DOMAIN_CHANGES: no bound), or
 * undefined to write it now. Onboarding a domain creates its Mailboxes with it: while the domain
 * has no verdict yet (its certificate being issued, its first checks), each Mailbox would be
 * written "not rolled out yet" and again "Ready" later, and at a hoster's size those writes
 * (84,000 of 184,000 Mailbox writes while 5,000 domains waited for the operator's first
 * reconcile and for cert-manager) slow the
 * domains' own certificates, which share the machine with them. So a Mailbox that has no status
 * yet, whose domain is found but not rolled out and has no verdict, waits, and the domain's
 * verdict (or the rollout) enqueues it again: in the common path its first status is its last.
 * - While its verdict is in progress (its first reconcile in this operator's queue, cert-manager
 *   issuing its certificate without a failure, its first checks), for as long as that takes:
 *   the MailDomain's own status says so, and a failure ends the hold.
 * - Otherwise (a status that says nothing of progress) at most FIRST_STATUS_GRACE_MS;
 *   `waitedMs` counts from the first look outside the progress.
 * - A domain that passes while its MapiServer's status still says it is held for its domains
 *   (serverHeldForOtherDomains): at most FIRST_STATUS_GRACE_MS. 13,800 Mailboxes of 500
 *   servers were written "does not serve MAPI yet" in the second between their domain passing
 *   and their server's next reconcile opening the gate; a server held for good by another
 *   domain (gate.domains: All) has them written once the grace is over.
 * - A domain with a verdict whose MapiServer's rollout is on its way (serverInProgress): the
 *   same onboarding one step later. 500 servers of 3 domains each wrote 22,600 of 52,800
 *   Mailbox statuses as "does not serve MAPI yet" while each server's gate waited for the
 *   first checks of its domains and its pods started. The rollout is bounded (the checks'
 *   time-outs, cert-manager's issuance, the progress deadline), and a gate that closes for a
 *   reason, a stall or a degraded release ends the hold.
 * Anything else (a problem to report, Ready, a status already there, a domain with a verdict
 * whose server is held for a reason) is written at once.
 */
export function firstStatusDelay(previous: MailboxStatus | undefined, next: MailboxStatus, domain: DomainState | undefined, waitedMs: number): number | undefined {
  if (previous?.conditions?.length) return undefined;
  if (domain?.kind !== 'Found') return undefined;
  const ready = next.conditions?.find((c) => c.type === 'Ready');
  if (ready?.reason !== 'MailDomainNotReady') return undefined;
  if (!domain.verdictPending && domain.serverInProgress) return UNTIL_DOMAIN_CHANGES;
  if (!domain.verdictPending && !domain.serverHeldForOtherDomains) return undefined;
  if (domain.verdictPending && domain.verdictInProgress) return UNTIL_DOMAIN_CHANGES;
  const left = FIRST_STATUS_GRACE_MS - waitedMs;
  return left > 0 ? left : undefined;
}

/**
 * How a Mailbox without a status, whose MailDomain is in this state, is held back by
 * firstStatusDelay ('Progress': no bound, 'Grace': a timer), or undefined when it is not (its
 * next status is not "not rolled out yet"). The domain's spec must be the one the Mailbox was
 * last judged against (aliases decide whether its address belongs).
 */
export function firstStatusHold(domain: DomainState): FirstStatusHold | undefined {
  if (domain.kind !== 'Found' || !domain.mapiEnabled || domain.mapiAvailable) return undefined;
  if (domain.verdictPending !== true) return domain.serverInProgress ? 'Progress' : domain.serverHeldForOtherDomains ? 'Grace' : undefined;
  return domain.verdictInProgress ? 'Progress' : 'Grace';
}

/** Gate reasons that mean "checks not run yet", not a failure (see serverVerdict). */
const ROLLOUT_WAITING_FOR_CHECKS = new Set(['ChecksPending']);

type ServerStatusView = {
  conditions?: Array<{ type: string; status: string; reason?: string }>;
  rollout?: { state: string; reason?: string };
} | undefined;

/**
 * Whether a MapiServer that does not serve MAPI yet is on its way to it, with nothing for a
 * person to fix: not reconciled yet (this operator's queue), its first rollout held only
 * because the checks have not run yet or cert-manager is issuing its certificate, or pods
 * starting and being probed within the progress deadline. A stall, a degraded or rolled-back
 * release, or a gate closed by a failing check is no progress: its Mailboxes say so at once.
 */
/** Whether a MapiServer's first rollout is held because of its MailDomains (the gate's
 *  DomainsNotReady), while MAPI is not available. */
export function serverHeldForDomains(status: ServerStatusView): boolean {
  const available = status?.conditions?.find((c) => c.type === 'MapiAvailable')?.status === 'True';
  return !available && status?.rollout?.state === 'Held' && status.rollout.reason === 'DomainsNotReady';
}

export function serverRolloutInProgress(status: ServerStatusView): boolean {
  const condition = (type: string) => status?.conditions?.find((c) => c.type === type);
  if (condition('Stalled')?.status === 'True' || condition('Degraded')?.status === 'True') return false;
  const rollout = status?.rollout;
  if (!rollout) return true;
  if (rollout.state === 'Progressing') return true;
  if (rollout.state !== 'Held') return false;
  if (ROLLOUT_WAITING_FOR_CHECKS.has(rollout.reason ?? '')) return true;
  // The server's certificate not issued yet, without a failure: CertificateReady Unknown.
  return rollout.reason === 'CertificateNotReady' && condition('CertificateReady')?.status === 'Unknown';
}

export type FirstStatusHold = 'Progress' | 'Grace';

/**
 * Whether the held Mailboxes of a domain that went from one hold to the next need a look.
 * Waking them for a state that holds them the same way only makes each decide to wait once
 * more (100,000 Mailboxes of 5,000 MailDomains, several times each, while a hoster onboards);
 * Mailboxes in the grace have a timer, so a change into progress needs no look either. Out of
 * progress (a failure: the grace; a verdict: the status) nothing else would wake them.
 */
export function heldMailboxesNeedALook(before: FirstStatusHold | undefined, now: FirstStatusHold | undefined): boolean {
  if (now === undefined || before === undefined) return true;
  return before === 'Progress' && now === 'Grace';
}

/**
 * What a waiting Mailbox says of its server: that it does not serve MAPI yet, and where to
 * look. Not the rollout's state or reason: they change as the server's checks run, and at a
 * hoster's size each change re-enqueued (and, once written, rewrote) every one of 100,000
 * Mailboxes; the MapiServer's own status has the details.
 */
export function rolloutSummary(serverRef: string, domainName: string, serverExists: boolean, rollout: { state: string; reason?: string } | undefined): string {
  if (!serverExists) return `MapiServer ${serverRef} (spec.serverRef of MailDomain ${domainName}) does not exist`;
  if (!rollout) return `MapiServer ${serverRef} is not reconciled yet`;
  return `MapiServer ${serverRef} does not serve MAPI yet: see its status.rollout`;
}
