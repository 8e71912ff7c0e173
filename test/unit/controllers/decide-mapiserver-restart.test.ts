// A new process (a restart, a failover) taking over a converged MapiServer: until its own checks
// and its MailDomains' own verdicts are in, the status reports what the last run found for this
// generation, while the gate itself stays closed (a rollout waits for this process's results).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideMapiServer, LAST_RUN_REPORT_MAX_MS, type MapiServerInputs } from '../../../src/controllers/mapiserver/decide.ts';
import { transitionEvents } from '../../../src/controllers/conditions.ts';
import { releaseUnderProbe } from '../../../src/rollout/decision.ts';
import { mailDomain, mapiServer, NOW, row, EXTERNAL } from '../gate/fixtures.ts';
import { decideDomain, domainChecks, hosted, READY_CERT, runningFrom } from '../gate/world.ts';

type Plan = ReturnType<typeof decideMapiServer>;
const condition = (plan: Plan, type: string) => plan.status.conditions?.find((x) => x.type === type);

const server = mapiServer();
const domains = ['example.com', 'example.org'].map((d) => mailDomain(d));
const passing = domains.map((md) => hosted(md, decideDomain(md, server, 'published'), domainChecks(md, 'published')));
const LATER = new Date(NOW.getTime() + 60_000);

function inputs(over: Partial<MapiServerInputs> = {}): MapiServerInputs {
  return {
    server,
    externalHostClaim: { owned: true },
    issuer: {},
    certificate: READY_CERT,
    domains: passing,
    access: { domains: [{ name: 'example-com', domains: ['example.com'], mapiEnabled: true }], mailboxes: [] },
    now: NOW,
    options: { allowClusterIssuers: true, progressDeadlineMs: 600_000 },
    ...over,
  };
}

/** The last run: rolled out, proven, every domain passing; its status as stored. */
function converged() {
  const first = decideMapiServer(inputs({ checks: { results: [row(`tls/${EXTERNAL}`, 'Passed')], checkedAt: NOW } }));
  const deployment = runningFrom(first);
  const checks = { results: [row(`tls/${EXTERNAL}`, 'Passed'), row(`http/${EXTERNAL}`, 'Passed')], checkedAt: LATER, release: releaseUnderProbe(deployment) };
  const proven = decideMapiServer(inputs({ server: { ...server, status: first.status }, deployment, checks, now: LATER }));
  // Its steady state: the reconcile after the one that proved the release.
  const steady = decideMapiServer(inputs({ server: { ...server, status: proven.status }, deployment: runningFrom(proven), checks, now: LATER }));
  assert.equal(condition(steady, 'Ready')?.status, 'True', 'the last run converged');
  assert.equal(condition(steady, 'ChecksPassed')?.reason, 'GatePassed');
  return { status: steady.status, deployment: runningFrom(steady), checks };
}

describe('decideMapiServer after a restart: the last run\'s report until this process\'s own is in', () => {
  const last = converged();
  const RESTART = new Date(LATER.getTime() + 600_000);
  // What the new process knows: nothing of its own yet, each domain judged by the last run's rows.
  const restarted = (over: Partial<MapiServerInputs> = {}, withStart = true) => {
    const i = inputs({
      server: { ...server, status: last.status },
      deployment: last.deployment,
      domains: domains.map((md) => ({ name: md.metadata.name, domain: md.spec.domain, accepted: true, judgedByLastRun: true })),
      now: RESTART,
      startedAt: RESTART,
      ...over,
    });
    if (!withStart) delete i.startedAt;
    return decideMapiServer(i);
  };

  it('the status is written as it was (no write, no Event); the gate is closed until its own checks', () => {
    const plan = restarted();
    assert.deepEqual(plan.status, last.status);
    assert.deepEqual(transitionEvents(last.status.conditions, plan.status.conditions), []);
    assert.equal(plan.verdict.open, false);
    assert.equal(plan.verdict.reason, 'ChecksPending');
    // The running release keeps running as it is.
    assert.equal(plan.rollout.state, 'Available');
    assert.equal(plan.rollout.replicas, last.deployment.replicas);
  });

  it('the server checks in, one domain still judged by the last run: still the last report', () => {
    const plan = restarted({
      checks: { ...last.checks, checkedAt: RESTART },
      domains: [passing[0]!, { name: domains[1]!.metadata.name, domain: domains[1]!.spec.domain, accepted: true, judgedByLastRun: true }],
    });
    assert.deepEqual(plan.status.domains, last.status.domains);
    assert.deepEqual(condition(plan, 'ChecksPassed'), last.status.conditions?.find((c) => c.type === 'ChecksPassed'));
  });

  it('everything in: this process\'s own report, the same as the last run\'s', () => {
    const plan = restarted({ checks: { ...last.checks, checkedAt: RESTART }, domains: passing });
    assert.equal(plan.verdict.open, true);
    assert.deepEqual(plan.status, last.status);
  });

  it('its own verdicts differ: its own report, a domain failing shown as soon as every input is in', () => {
    const org = domains[1]!;
    const failing = hosted(org, decideDomain(org, server, 'unpublished'), domainChecks(org, 'unpublished'));
    const plan = restarted({ checks: { ...last.checks, checkedAt: RESTART }, domains: [passing[0]!, failing] });
    assert.equal(condition(plan, 'ChecksPassed')?.reason, 'DomainsNotReady');
    assert.deepEqual(plan.status.domains?.summary, '1/2');
  });

  it('a certificate not ready: reported at once, but the server\'s check rows stay the last run\'s until its own run', () => {
    const notIssued = { name: `tls/${EXTERNAL}`, status: 'Unknown' as const, reason: 'CertificateNotIssued', message: 'not probed yet', lastTransitionTime: '2026-12-01T00:00:00Z' };
    const before = { ...last.status, checks: [...(last.status.checks ?? []).filter((r) => r.name === 'certificate'), notIssued] };
    const plan = restarted({ server: { ...server, status: before }, certificate: undefined });
    assert.equal(condition(plan, 'ChecksPassed')?.reason, 'CertificateNotReady');
    assert.deepEqual(plan.status.checks?.slice(1), [notIssued]);
    const own = restarted({ server: { ...server, status: before }, certificate: undefined, checks: { results: [], checkedAt: RESTART } });
    assert.deepEqual(own.status.checks?.map((r) => r.name), ['certificate'], 'its own run says what it found');
  });

  it('not carried: without a start time (the CLI, a first process), another generation, a stall, a certificate not ready, or after LAST_RUN_REPORT_MAX_MS', () => {
    const pending = (plan: Plan, why: string) => {
      assert.notEqual(condition(plan, 'ChecksPassed')?.reason, 'GatePassed', why);
      assert.notDeepEqual(plan.status.domains, last.status.domains, why);
    };
    pending(restarted({}, false), 'no start time');
    pending(restarted({ server: { ...server, metadata: { ...server.metadata, generation: 2 }, status: last.status } }), 'another generation');
    pending(restarted({ externalHostClaim: { owned: false, owner: { namespace: 'other', name: 'first' } } }), 'a stall');
    assert.equal(condition(restarted({ certificate: undefined }), 'ChecksPassed')?.reason, 'CertificateNotReady', 'a certificate not ready');
    pending(restarted({ now: new Date(RESTART.getTime() + LAST_RUN_REPORT_MAX_MS + 1) }), 'past the time bound');
    // Within the bound it is still carried.
    assert.deepEqual(restarted({ now: new Date(RESTART.getTime() + LAST_RUN_REPORT_MAX_MS) }).status.domains, last.status.domains);
  });
});
