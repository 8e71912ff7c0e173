// The rollout across MailDomains over the real composition: decideMailDomain → the gate →
// decideMapiServer → decideRollout, with the Deployment each round applies fed back as the
// running one. No fake gate anywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailDomain, mapiServer, NOW, row } from '../gate/fixtures.ts';
import { LAST_GOOD_TEMPLATE_ANNOTATION, releaseUnderProbe } from '../../../src/rollout/decision.ts';
import { domainChecks, hosted, imageOf, replicasOf, round, runningFrom } from '../gate/world.ts';
import { certificateNotIssued } from '../../../src/checks/tls-check.ts';

const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const cond = (conditions: { type: string; status: string; reason: string; message: string }[] | undefined, type: string) => conditions?.find((c) => c.type === type);

const com = mailDomain('example.com');
const org = mailDomain('example.org');
const net = mailDomain('example.net');

describe('rollout across MailDomains (real gate)', () => {
  it('first rollout held while one domain is unpublished (All), RolloutHeld names it, that domain alone is Ready=False', () => {
    const server = mapiServer({ replicas: 2 });
    const r = round({ server, domains: [{ md: com, world: 'published' }, { md: org, world: 'unpublished' }] });
    assert.equal(replicasOf(r.server), 0);
    const held = cond(r.server.status.conditions, 'RolloutHeld');
    assert.deepEqual([held?.status, held?.reason], ['True', 'DomainsNotReady']);
    assert.match(held?.message ?? '', /blocking \(1\): example\.org \(AutodiscoverNotPublished/);
    assert.deepEqual(r.server.status.domains, { accepted: 2, passing: 1, summary: '1/2', blocking: ['example.org'] });
    assert.deepEqual(r.domains.map((p) => [cond(p.status.conditions, 'Ready')?.status, cond(p.status.conditions, 'Ready')?.reason]), [['True', 'Ready'], ['False', 'AutodiscoverNotPublished']]);
  });

  it('domains: Any rolls out with one domain published', () => {
    const server = mapiServer({ replicas: 2, gate: { domains: 'Any' } });
    const r = round({ server, domains: [{ md: com, world: 'published' }, { md: org, world: 'unpublished' }] });
    assert.equal(replicasOf(r.server), 2);
    assert.equal(r.server.rollout.state, 'Progressing');
  });

  it('Warn rolls out a closed gate and says so in ChecksPassed', () => {
    const server = mapiServer({ gate: { mode: 'Warn' } });
    const r = round({ server, domains: [{ md: org, world: 'unpublished' }] });
    assert.equal(replicasOf(r.server), 2);
    const checks = cond(r.server.status.conditions, 'ChecksPassed');
    assert.deepEqual([checks?.status, checks?.reason], ['False', 'DomainsNotReady']);
    assert.match(checks?.message ?? '', /^gate\.mode Warn: not blocking the rollout/);
  });

  it('a domain whose certificate is not issued yet (its http/ row not probed) does not keep the release from proving itself; a failing one does', () => {
    const server = mapiServer({ replicas: 2, gate: { domains: 'Any' } });
    const domains = [{ md: com, world: 'published' as const }, { md: org, world: 'published' as const }];
    const first = round({ server, domains });
    const running = runningFrom(first.server);
    const release = releaseUnderProbe(running);
    const orgHttp = 'http/autodiscover.example.org';
    const withOrgRow = (orgRow: ReturnType<typeof row>) => round({
      server, domains, deployment: running, now: later(1),
      over: {
        domains: [
          hosted(com, first.domains[0]!, domainChecks(com, 'published'), release),
          { ...hosted(org, first.domains[1]!, domainChecks(org, 'published'), release), httpResults: [orgRow] },
        ],
      },
    });
    assert.equal(withOrgRow(certificateNotIssued('autodiscover.example.org', orgHttp)).server.rollout.state, 'Available');
    const failing = withOrgRow(row(orgHttp, 'Failed', 'AutodiscoverNotServed'));
    assert.equal(failing.server.rollout.state, 'Progressing', 'a host that has its certificate and does not answer keeps it under probe');
  });

  it('no MailDomain: held with NoMailDomains', () => {
    const r = round({ server: mapiServer(), domains: [] });
    assert.equal(replicasOf(r.server), 0);
    assert.equal(cond(r.server.status.conditions, 'RolloutHeld')?.reason, 'NoMailDomains');
  });

  it('running, a domain starts failing: same pods, same template, no scale-down; only that domain is Ready=False', () => {
    const server = mapiServer({ replicas: 3 });
    const first = round({ server, domains: [{ md: com, world: 'published' }, { md: org, world: 'published' }] });
    // The release proves itself: probes after the rollout started pass → last good template.
    const proven = round({ server, domains: [{ md: com, world: 'published' }, { md: org, world: 'published' }], deployment: runningFrom(first.server), now: later(1) });
    assert.equal(proven.server.rollout.state, 'Available');
    const running = runningFrom(proven.server);
    const r = round({ server, domains: [{ md: com, world: 'published' }, { md: org, world: 'tls-broken' }], deployment: running, now: later(2) });
    assert.equal(replicasOf(r.server), 3);
    assert.deepEqual(runningFrom(r.server).template, running.template, 'the pod template is untouched');
    assert.deepEqual(runningFrom(r.server).annotations, running.annotations, 'the rollout memory is untouched');
    assert.equal(cond(r.server.status.conditions, 'ChecksPassed')?.status, 'False');
    assert.equal(cond(r.server.status.conditions, 'MapiAvailable')?.status, 'True');
    assert.deepEqual(r.server.status.domains?.blocking, ['example.org']);
    assert.equal(cond(r.domains[0]!.status.conditions, 'Ready')?.status, 'True');
    assert.equal(cond(r.domains[1]!.status.conditions, 'Ready')?.reason, 'AutodiscoverTlsFailed');
  });

  it('running, a new broken domain is added: an image upgrade is held, the running pods stay', () => {
    const server = mapiServer({ replicas: 2, image: 'bm-mapi:1' });
    const first = round({ server, domains: [{ md: com, world: 'published' }] });
    const proven = round({ server, domains: [{ md: com, world: 'published' }], deployment: runningFrom(first.server), now: later(1) });
    const running = runningFrom(proven.server);
    const upgraded = { ...server, spec: { ...server.spec, image: 'bm-mapi:2' } };
    const r = round({ server: upgraded, domains: [{ md: com, world: 'published' }, { md: net, world: 'unpublished' }], deployment: running, now: later(2) });
    assert.equal(imageOf(r.server), 'bm-mapi:1');
    assert.equal(replicasOf(r.server), 2);
    assert.deepEqual(runningFrom(r.server).template, running.template);
    const held = cond(r.server.status.conditions, 'RolloutHeld');
    assert.deepEqual([held?.status, held?.reason], ['True', 'DomainsNotReady']);
    assert.match(held?.message ?? '', /bm-mapi:2.*held.*bm-mapi:1 keeps running.*example\.net/);
    assert.equal(cond(r.server.status.conditions, 'Ready')?.status, 'False');
    assert.deepEqual(r.server.status.rollout, { state: 'Held', reason: 'DomainsNotReady', message: r.server.rollout.message, currentImage: 'bm-mapi:1', desiredImage: 'bm-mapi:2' });

    // The domain gets published: the upgrade goes out.
    const fixed = round({ server: upgraded, domains: [{ md: com, world: 'published' }, { md: net, world: 'published' }], deployment: running, now: later(3) });
    assert.equal(imageOf(fixed.server), 'bm-mapi:2');
  });

  it('stalled server (HostConflict) in Warn mode with a running Deployment: never releases a new template', () => {
    // The disagreement of issue 8: a stalled resource whose Deployment runs used to release a
    // new template in Warn mode although the code said it never does.
    const server = mapiServer({ gate: { mode: 'Warn' }, image: 'bm-mapi:1' });
    const first = round({ server, domains: [{ md: com, world: 'published' }] });
    const running = runningFrom(first.server);
    const upgraded = { ...server, spec: { ...server.spec, image: 'bm-mapi:2' } };
    const r = round({
      server: upgraded, domains: [{ md: com, world: 'unpublished' }], deployment: running, now: later(1),
      over: { externalHostClaim: { owned: false, owner: { namespace: 'other', name: 'first' } } },
    });
    assert.equal(imageOf(r.server), 'bm-mapi:1');
    assert.equal(replicasOf(r.server), running.replicas);
    assert.deepEqual(r.server.apply.filter((o) => ['Certificate', 'Ingress'].includes((o as { kind: string }).kind)), [], 'no route and no certificate for a host it does not own');
    assert.deepEqual(r.server.prune.filter((p) => p.kind !== 'ConfigMap').map((p) => p.kind), ['Certificate', 'Ingress']);
    const stalled = cond(r.server.status.conditions, 'Stalled');
    assert.deepEqual([stalled?.status, stalled?.reason], ['True', 'HostConflict']);
    assert.match(stalled?.message ?? '', /MapiServer other\/first/);
  });

  it('probes that passed while the old pods still answered never prove the new release: it is rolled back once its own pods fail', () => {
    // What CI once hit: the upgrade's template applied, a run probed while the old pods still
    // served (200), then all new pods were Ready and that cached Passed counted as theirs.
    const server = mapiServer({ image: 'bm-mapi:1' });
    const first = round({ server, domains: [{ md: com, world: 'published' }] });
    const proven = round({ server, domains: [{ md: com, world: 'published' }], deployment: runningFrom(first.server), now: later(1) });
    const upgraded = { ...server, spec: { ...server.spec, image: 'bm-mapi:2' } };
    const released = round({ server: upgraded, domains: [{ md: com, world: 'published' }], deployment: runningFrom(proven.server), now: later(2) });
    assert.equal(imageOf(released.server), 'bm-mapi:2');
    const rolling = runningFrom(released.server, false);
    const rolledOut = runningFrom(released.server);
    const passedWhileRolling = { checkedAt: later(3), release: releaseUnderProbe(rolling), results: [row('http/mail.hoster.example', 'Passed', 'Served')] };
    const waiting = round({ server: upgraded, domains: [{ md: com, world: 'published' }], deployment: rolledOut, now: later(4), over: { checks: passedWhileRolling } });
    assert.equal(waiting.server.rollout.state, 'Progressing');
    assert.equal(waiting.server.rollout.reason, 'WaitingForProbes');
    assert.notEqual(runningFrom(waiting.server).annotations[LAST_GOOD_TEMPLATE_ANNOTATION], JSON.stringify(rolledOut.template), 'bm-mapi:2 is not recorded as good');
    // The same Passed, past the progress deadline: the new release never answered for itself.
    const r = round({ server: upgraded, domains: [{ md: com, world: 'published' }], deployment: runningFrom(waiting.server), now: later(15), over: { checks: passedWhileRolling } });
    assert.equal(r.server.rollout.state, 'RolledBack');
    assert.equal(imageOf(r.server), 'bm-mapi:1');
  });

  it('a release whose http/ probes fail past the progress deadline is rolled back: Degraded', () => {
    const server = mapiServer({ image: 'bm-mapi:1' });
    const first = round({ server, domains: [{ md: com, world: 'published' }] });
    const proven = round({ server, domains: [{ md: com, world: 'published' }], deployment: runningFrom(first.server), now: later(1) });
    const upgraded = { ...server, spec: { ...server.spec, image: 'bm-mapi:2' } };
    const released = round({ server: upgraded, domains: [{ md: com, world: 'published' }], deployment: runningFrom(proven.server), now: later(2) });
    assert.equal(imageOf(released.server), 'bm-mapi:2');
    const r = round({
      server: upgraded, domains: [{ md: com, world: 'published' }], deployment: runningFrom(released.server), now: later(15),
      over: { checks: { checkedAt: later(15), results: [{ name: 'tls/mail.hoster.example', status: 'Passed', reason: 'CertificateValid', message: 'ok', details: {} }, { name: 'http/mail.hoster.example', status: 'Failed', reason: 'ServerError', message: 'POST /mapi/emsmdb/ answered 503', details: {} }] } },
    });
    assert.equal(imageOf(r.server), 'bm-mapi:1');
    assert.equal(r.server.rollout.state, 'RolledBack');
    const degraded = cond(r.server.status.conditions, 'Degraded');
    assert.deepEqual([degraded?.status, degraded?.reason], ['True', 'RolledBack']);
    assert.match(degraded?.message ?? '', /503/);
    assert.ok(r.server.events.some((e) => e.type === 'Warning' && e.reason === 'RolledBack'));
  });
});
