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
 * (see firstStatusDelay): a domain stuck on its certificate must not leave its Mailboxes
 * without a status for longer.
 */
export const FIRST_STATUS_GRACE_MS = 60_000;

/** A MailDomain's Ready reasons that mean "no verdict yet", not a problem found. */
const VERDICT_PENDING_REASONS = new Set(['ChecksPending', 'CertificateNotReady', 'Pending']);

/** Whether a MailDomain has no verdict yet (its status, read from the cache). */
export function domainVerdictPending(generation: number | undefined, status: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string }> } | undefined): boolean {
  if (!status || status.observedGeneration !== generation) return true;
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  return !ready || (ready.status !== 'True' && VERDICT_PENDING_REASONS.has(ready.reason));
}

/**
 * Milliseconds to hold back the first status of a Mailbox, or undefined to write it now.
 * Onboarding a domain creates its Mailboxes with it: while the domain has no verdict yet (its
 * certificate being issued, its first checks), each Mailbox would be written "not rolled out
 * yet" and again "Ready" moments later, and those thousands of writes slow the domain's own
 * children, which share the apiserver with them. So a Mailbox that has no status yet, whose
 * domain is found but not rolled out and has no verdict, waits: the domain's verdict (or the
 * rollout) enqueues it again, and in the common path its first status is its last. At most
 * FIRST_STATUS_GRACE_MS after the operator first saw it. Anything else (a problem to report,
 * Ready, a status already there, a domain with a verdict) is written at once.
 */
export function firstStatusDelay(previous: MailboxStatus | undefined, next: MailboxStatus, domain: DomainState | undefined, waitedMs: number): number | undefined {
  if (previous?.conditions?.length) return undefined;
  if (domain?.kind !== 'Found' || !domain.verdictPending) return undefined;
  const ready = next.conditions?.find((c) => c.type === 'Ready');
  if (ready?.reason !== 'MailDomainNotReady') return undefined;
  const left = FIRST_STATUS_GRACE_MS - waitedMs;
  return left > 0 ? left : undefined;
}

/**
 * Whether a Mailbox without a status, whose MailDomain is in this state, is still held back by
 * firstStatusDelay (its next status would be "not rolled out yet" again): waking it for this
 * state only makes it decide to wait once more. The domain's spec must be the one the Mailbox
 * was last judged against (aliases decide whether its address belongs).
 */
export function firstStatusStillHeld(domain: DomainState): boolean {
  return domain.kind === 'Found' && domain.verdictPending === true && domain.mapiEnabled && !domain.mapiAvailable;
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
