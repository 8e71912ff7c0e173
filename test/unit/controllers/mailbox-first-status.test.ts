// A new Mailbox of a domain whose MAPI is still rolling out: its first status waits (a bounded
// time) for the rollout, so onboarding writes each Mailbox's status once, not twice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideMailbox, firstStatusDelay, FIRST_STATUS_GRACE_MS, type DomainState } from '../../../src/controllers/mailbox/decide.ts';
import type { MailboxStatus } from '../../../src/api/mailbox.ts';
import { statusChanged } from '../../../src/kube/status-diff.ts';

const rollingOut: DomainState = { kind: 'Found', name: 'example', domain: 'example.com', mapiEnabled: true, mapiAvailable: false, rolloutMessage: 'MapiServer s0: rollout Held, waiting for the certificate' };
const rolledOut: DomainState = { ...rollingOut, mapiAvailable: true, rolloutMessage: 'MapiServer s0: rollout Available, serving' };
const verdict = { valid: true as const, effective: true };
const decide = (domain: DomainState, published: boolean, previous?: MailboxStatus, now = new Date('2026-01-01T00:00:00Z')) =>
  decideMailbox({ generation: 1, ...(previous ? { previous } : {}), domain, verdict, published, now });

describe('firstStatusDelay', () => {
  it('holds back the first status of a new Mailbox waiting for its domain\'s rollout, for what is left of the grace', () => {
    const next = decide(rollingOut, false);
    assert.equal(next.conditions?.find((c) => c.type === 'Ready')?.reason, 'MailDomainNotReady');
    assert.equal(firstStatusDelay(undefined, next, 0), FIRST_STATUS_GRACE_MS);
    assert.equal(firstStatusDelay(undefined, next, 10_000), FIRST_STATUS_GRACE_MS - 10_000);
    assert.equal(firstStatusDelay(undefined, next, FIRST_STATUS_GRACE_MS), undefined, 'past the grace the waiting status is written');
  });

  it('writes at once anything else: Ready, a domain that does not exist, a status already there', () => {
    assert.equal(firstStatusDelay(undefined, decide(rolledOut, true), 0), undefined);
    const notFound = decideMailbox({ generation: 1, domain: { kind: 'Missing', name: 'example' }, published: false, now: new Date() });
    assert.equal(firstStatusDelay(undefined, notFound, 0), undefined);
    // A Ready Mailbox whose server stops serving must say so now, not in 30 s.
    const ready = decide(rolledOut, true);
    assert.equal(firstStatusDelay(ready, decide(rollingOut, true, ready), 0), undefined);
  });

  it('over an onboarding (domain rolling out, then rolled out 20 s later) a Mailbox\'s status is written once', () => {
    let stored: MailboxStatus | undefined;
    let writes = 0;
    // The controller's rule: decide, hold back if firstStatusDelay says so, else write when changed.
    const reconcile = (domain: DomainState, published: boolean, waitedMs: number) => {
      const next = decide(domain, published, stored);
      if (firstStatusDelay(stored, next, waitedMs) !== undefined) return;
      if (!stored || statusChanged(stored, next)) {
        stored = next;
        writes++;
      }
    };
    reconcile(rollingOut, false, 0); // created with its domain
    reconcile(rollingOut, true, 5_000); // the access list carries it
    reconcile(rolledOut, true, 20_000); // the rollout is done
    reconcile(rolledOut, true, FIRST_STATUS_GRACE_MS); // the delayed look
    assert.equal(writes, 1);
    assert.equal(stored?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
});
