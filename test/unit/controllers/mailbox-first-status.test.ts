// A new Mailbox of a domain that has no verdict yet (its certificate being issued, its first
// checks): its first status waits for the verdict (at most a bounded time), so onboarding
// writes each Mailbox's status once, not twice, and not while the domain's children go out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideMailbox, domainPasses, domainVerdictInProgress, domainVerdictPending, firstStatusDelay, firstStatusHold, rolloutSummary, serverHeldForDomains, serverRolloutInProgress, FIRST_STATUS_GRACE_MS, UNTIL_DOMAIN_CHANGES, type DomainState } from '../../../src/controllers/mailbox/decide.ts';
import type { MailboxStatus } from '../../../src/api/mailbox.ts';
import { statusChanged } from '../../../src/kube/status-diff.ts';

const found = { kind: 'Found' as const, name: 'example', domain: 'example.com', mapiEnabled: true };
const converging: DomainState = { ...found, mapiAvailable: false, verdictPending: true, rolloutMessage: 'MapiServer s0: rollout Held, waiting for the certificate' };
const issuing: DomainState = { ...found, mapiAvailable: false, verdictPending: true, verdictInProgress: true, rolloutMessage: 'MapiServer s0 does not serve MAPI yet: see its status.rollout' };
const heldForGood: DomainState = { ...found, mapiAvailable: false, verdictPending: false, rolloutMessage: 'MapiServer s0: rollout Held, autodiscover.example.com is not published' };
const rolledOut: DomainState = { ...found, mapiAvailable: true, verdictPending: false, rolloutMessage: 'MapiServer s0: rollout Available, serving' };
const verdict = { valid: true as const, effective: true };
const decide = (domain: DomainState, published: boolean, previous?: MailboxStatus) =>
  decideMailbox({ generation: 1, ...(previous ? { previous } : {}), domain, verdict, published, now: new Date('2026-01-01T00:00:00Z') });

describe('domainVerdictPending', () => {
  const ready = (status: string, reason: string) => ({ observedGeneration: 1, conditions: [{ type: 'Ready', status, reason }] });
  it('no status for its generation, no certificate yet or no checks yet: pending; a verdict either way: not', () => {
    assert.equal(domainVerdictPending(1, undefined), true);
    assert.equal(domainVerdictPending(2, ready('True', 'Ready')), true);
    assert.equal(domainVerdictPending(1, ready('False', 'ChecksPending')), true);
    assert.equal(domainVerdictPending(1, ready('False', 'CertificateNotReady')), false, 'a failed issuance is a verdict');
    assert.equal(domainVerdictPending(1, ready('True', 'Ready')), false);
    assert.equal(domainVerdictPending(1, ready('False', 'AutodiscoverNotPublished')), false);
    assert.equal(domainVerdictPending(1, ready('False', 'CertificateIssuing')), true);
  });

  it('in progress: cert-manager issuing without a failure, or the first checks, for the current generation', () => {
    assert.equal(domainVerdictInProgress(1, ready('False', 'CertificateIssuing')), true);
    assert.equal(domainVerdictInProgress(1, ready('False', 'ChecksPending')), true);
    assert.equal(domainVerdictInProgress(2, ready('True', 'Ready')), true, 'not reconciled for this spec yet: the operator\'s own queue');
    assert.equal(domainVerdictInProgress(1, ready('False', 'CertificateNotReady')), false, 'a failed issuance, or one cert-manager has not looked at');
    assert.equal(domainVerdictInProgress(1, ready('False', 'Pending')), false);
    assert.equal(domainVerdictInProgress(1, undefined), true, 'never reconciled yet');
    assert.equal(domainVerdictInProgress(1, ready('True', 'Ready')), false);
  });
});

describe('firstStatusDelay', () => {
  it('holds back the first status of a new Mailbox whose domain has no verdict yet, for what is left of the grace', () => {
    const next = decide(converging, false);
    assert.equal(next.conditions?.find((c) => c.type === 'Ready')?.reason, 'MailDomainNotReady');
    assert.equal(firstStatusDelay(undefined, next, converging, 0), FIRST_STATUS_GRACE_MS);
    assert.equal(firstStatusDelay(undefined, next, converging, 10_000), FIRST_STATUS_GRACE_MS - 10_000);
    assert.equal(firstStatusDelay(undefined, next, converging, FIRST_STATUS_GRACE_MS), undefined, 'past the grace the waiting status is written');
  });

  it('writes at once: a domain held for a reason a person must fix, Ready, a missing domain, a status already there', () => {
    assert.equal(firstStatusDelay(undefined, decide(heldForGood, false), heldForGood, 0), undefined);
    assert.equal(firstStatusDelay(undefined, decide(rolledOut, true), rolledOut, 0), undefined);
    const missing: DomainState = { kind: 'Missing', name: 'example' };
    assert.equal(firstStatusDelay(undefined, decideMailbox({ generation: 1, domain: missing, published: false, now: new Date() }), missing, 0), undefined);
    // A Ready Mailbox whose server stops serving must say so now.
    const ready = decide(rolledOut, true);
    assert.equal(firstStatusDelay(ready, decide(converging, true, ready), converging, 0), undefined);
  });

  it('holds it without a bound while the verdict is in progress, however long cert-manager takes', () => {
    const next = decide(issuing, false);
    assert.equal(firstStatusDelay(undefined, next, issuing, 0), UNTIL_DOMAIN_CHANGES);
    assert.equal(firstStatusDelay(undefined, next, issuing, 60 * FIRST_STATUS_GRACE_MS), UNTIL_DOMAIN_CHANGES);
    const ready = decide(rolledOut, true);
    assert.equal(firstStatusDelay(ready, decide(issuing, true, ready), issuing, 0), undefined, 'a Mailbox with a status says what changed at once');
  });

  it('an onboarding whose certificate takes an hour (a hoster\'s 5,000 domains in cert-manager\'s queue) writes each Mailbox\'s status once', () => {
    let stored: MailboxStatus | undefined;
    let writes = 0;
    let seen: number | undefined;
    // The controller's rule, with its clock: the grace counts from the first look outside the progress.
    const reconcile = (domain: DomainState, published: boolean, atMs: number) => {
      const next = decide(domain, published, stored);
      const delay = firstStatusDelay(stored, next, domain, atMs - (seen ?? atMs));
      if (delay === UNTIL_DOMAIN_CHANGES) {
        seen = undefined;
        return;
      }
      if (delay !== undefined) {
        seen ??= atMs;
        return;
      }
      if (!stored || statusChanged(stored, next)) {
        stored = next;
        writes++;
      }
    };
    reconcile(converging, false, 0); // created with its domain, which cert-manager has not looked at
    reconcile(issuing, true, 30_000); // cert-manager at work; the access list carries it
    reconcile(issuing, true, FIRST_STATUS_GRACE_MS); // the grace's timer
    reconcile(issuing, true, 3_600_000); // issued an hour later: the first checks
    reconcile(rolledOut, true, 3_610_000); // the verdict; MAPI rolled out
    assert.equal(writes, 1);
    assert.equal(stored?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('over an onboarding (certificate, checks, then the rollout) a Mailbox\'s status is written once', () => {
    let stored: MailboxStatus | undefined;
    let writes = 0;
    // The controller's rule: decide, hold back if firstStatusDelay says so, else write when changed.
    const reconcile = (domain: DomainState, published: boolean, waitedMs: number) => {
      const next = decide(domain, published, stored);
      if (firstStatusDelay(stored, next, domain, waitedMs) !== undefined) return;
      if (!stored || statusChanged(stored, next)) {
        stored = next;
        writes++;
      }
    };
    reconcile(converging, false, 0); // created with its domain
    reconcile(converging, true, 5_000); // the access list carries it
    reconcile(rolledOut, true, 20_000); // the domain passes and the rollout is done
    reconcile(rolledOut, true, FIRST_STATUS_GRACE_MS); // the delayed look
    assert.equal(writes, 1);
    assert.equal(stored?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
});

describe('serverRolloutInProgress', () => {
  const status = (rollout: { state: string; reason: string } | undefined, conditions: Record<string, string> = {}) => ({
    ...(rollout ? { rollout } : {}),
    conditions: Object.entries(conditions).map(([type, s]) => ({ type, status: s, reason: 'x' })),
  });
  it('on its way: not reconciled yet, the gate waiting for first checks or an issuing certificate, pods starting or probed', () => {
    assert.equal(serverRolloutInProgress(undefined), true, 'never reconciled: this operator\'s queue');
    assert.equal(serverRolloutInProgress(status(undefined)), true);
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'ChecksPending' })), true);
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'CertificateNotReady' }, { CertificateReady: 'Unknown' })), true, 'cert-manager issuing');
    for (const reason of ['ChecksPassed', 'PodsStarting', 'WaitingForProbes', 'NewTemplate']) {
      assert.equal(serverRolloutInProgress(status({ state: 'Progressing', reason }, { Degraded: 'False', Stalled: 'False' })), true, reason);
    }
  });
  it('not on its way: a gate closed by a failing check, a failed certificate, a stall, a release that does not answer', () => {
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'DomainsNotReady' })), false);
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'ExternalHostTlsFailed' })), false);
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'NoMailDomains' })), false);
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'CertificateNotReady' }, { CertificateReady: 'False' })), false, 'a failed issuance');
    assert.equal(serverRolloutInProgress(status({ state: 'Held', reason: 'ChecksPending' }, { Stalled: 'True' })), false, 'stalled');
    assert.equal(serverRolloutInProgress(status({ state: 'Progressing', reason: 'NotServing' }, { Degraded: 'True' })), false, 'past the progress deadline');
    assert.equal(serverRolloutInProgress(status({ state: 'RolledBack', reason: 'RolledBack' }, { Degraded: 'True' })), false);
  });
});

describe('firstStatusDelay while the MapiServer rolls out', () => {
  const passing: DomainState = { ...found, mapiAvailable: false, verdictPending: false, rolloutMessage: 'MapiServer s0 does not serve MAPI yet: see its status.rollout' };
  const rollingOut: DomainState = { ...passing, serverInProgress: true };
  it('a domain with a verdict whose server is on its way: held without a bound; held for a reason: written at once', () => {
    assert.equal(firstStatusDelay(undefined, decide(rollingOut, true), rollingOut, 0), UNTIL_DOMAIN_CHANGES);
    assert.equal(firstStatusDelay(undefined, decide(passing, true), passing, 0), undefined);
    const ready = decide(rolledOut, true);
    assert.equal(firstStatusDelay(ready, decide(rollingOut, true, ready), rollingOut, 0), undefined, 'a Mailbox with a status says what changed at once');
    const off: DomainState = { ...rollingOut, mapiEnabled: false };
    assert.equal(firstStatusDelay(undefined, decide(off, true), off, 0), undefined, 'MAPI off for the domain: Ready (MapiDisabled) at once');
  });

  it('a passing domain whose server still says it is held for its domains (a status from before it passed): the grace, then written', () => {
    const stale: DomainState = { ...passing, serverHeldForOtherDomains: true };
    assert.equal(firstStatusDelay(undefined, decide(stale, true), stale, 0), FIRST_STATUS_GRACE_MS);
    assert.equal(firstStatusDelay(undefined, decide(stale, true), stale, 20_000), FIRST_STATUS_GRACE_MS - 20_000);
    assert.equal(firstStatusDelay(undefined, decide(stale, true), stale, FIRST_STATUS_GRACE_MS), undefined, 'held for good by another domain: written once the grace is over');
    assert.equal(firstStatusHold(stale), 'Grace');
    assert.equal(firstStatusHold(passing), undefined);
    assert.equal(firstStatusHold(rollingOut), 'Progress');
  });

  it('domainPasses: Ready for the current generation', () => {
    const status = (s: string, generation = 1) => ({ observedGeneration: generation, conditions: [{ type: 'Ready', status: s, reason: 'x' }] });
    assert.equal(domainPasses(1, status('True')), true);
    assert.equal(domainPasses(2, status('True')), false);
    assert.equal(domainPasses(1, status('False')), false);
    assert.equal(domainPasses(1, undefined), false);
  });

  it('serverHeldForDomains: the first rollout held by the gate\'s DomainsNotReady, MAPI not available', () => {
    const st = (state: string, reason: string, available = 'False') => ({ rollout: { state, reason }, conditions: [{ type: 'MapiAvailable', status: available, reason: 'x' }] });
    assert.equal(serverHeldForDomains(st('Held', 'DomainsNotReady')), true);
    assert.equal(serverHeldForDomains(st('Held', 'DomainsNotReady', 'True')), false, 'an upgrade held while the old release serves');
    assert.equal(serverHeldForDomains(st('Held', 'ChecksPending')), false);
    assert.equal(serverHeldForDomains(undefined), false);
  });

  it('the platform onboarding (domain verdict, then the server\'s gate and pods) writes each Mailbox\'s status once', () => {
    let stored: MailboxStatus | undefined;
    let writes = 0;
    const reconcile = (domain: DomainState, published: boolean) => {
      const next = decide(domain, published, stored);
      if (firstStatusDelay(stored, next, domain, 0) !== undefined) return;
      if (!stored || statusChanged(stored, next)) {
        stored = next;
        writes++;
      }
    };
    reconcile(issuing, false); // the domain's certificate
    reconcile({ ...passing, serverHeldForOtherDomains: true }, true); // the domain passes; the server's status is from before
    reconcile(rollingOut, true); // the server's gate waits for its own checks
    reconcile(rollingOut, true); // the server's pods start
    reconcile(rolledOut, true);
    assert.equal(writes, 1);
    assert.equal(stored?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });
});

describe('rolloutSummary', () => {
  it('says the server does not serve MAPI yet, not its rollout\'s state, reason or message: a waiting Mailbox is not rewritten each time they change', () => {
    const held = (reason: string, message: string) => rolloutSummary('s0', 'd0', true, { state: 'Held', reason, ...{ message } });
    assert.equal(held('DomainsNotReady', 'd1.example, d2.example are not ready'), held('DomainsNotReady', 'd2.example is not ready'));
    assert.equal(held('DomainsNotReady', 'x'), held('ExternalHostTlsFailed', 'y'));
    assert.equal(rolloutSummary('s0', 'd0', true, { state: 'Progressing' }), held('DomainsNotReady', 'x'));
    assert.equal(held('x', 'x'), 'MapiServer s0 does not serve MAPI yet: see its status.rollout');
    assert.match(rolloutSummary('s0', 'd0', false, undefined), /MapiServer s0 \(spec.serverRef of MailDomain d0\) does not exist/);
    assert.equal(rolloutSummary('s0', 'd0', true, undefined), 'MapiServer s0 is not reconciled yet');
  });
});
