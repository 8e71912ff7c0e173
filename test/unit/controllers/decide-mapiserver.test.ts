import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideMapiServer, type MapiServerInputs } from '../../../src/controllers/mapiserver/decide.ts';
import { transitionEvents } from '../../../src/controllers/conditions.ts';
import { TEMPLATE_HASH_ANNOTATION } from '../../../src/builders/names.ts';
import { releaseUnderProbe } from '../../../src/rollout/decision.ts';
import { mailDomain, mapiServer, NOW, row, EXTERNAL } from '../gate/fixtures.ts';
import { decideDomain, domainChecks, hosted, READY_CERT, runningFrom } from '../gate/world.ts';

type Plan = ReturnType<typeof decideMapiServer>;
const summary = (plan: Plan, type: string) => {
  const c = plan.status.conditions?.find((x) => x.type === type);
  return c ? [c.status, c.reason] : undefined;
};
const message = (plan: Plan, type: string) => plan.status.conditions?.find((x) => x.type === type)?.message ?? '';
const kinds = (plan: Plan) => (plan.apply as { kind: string }[]).map((o) => o.kind);

const server = mapiServer();
const com = mailDomain('example.com');
const passingDomain = hosted(com, decideDomain(com, server, 'published'), domainChecks(com, 'published'));

function inputs(over: Partial<MapiServerInputs> = {}): MapiServerInputs {
  return {
    server,
    externalHostClaim: { owned: true },
    issuer: {},
    certificate: READY_CERT,
    checks: { results: [row(`tls/${EXTERNAL}`, 'Passed', 'CertificateValid'), row(`http/${EXTERNAL}`, 'Passed', 'Served')], checkedAt: NOW },
    domains: [passingDomain],
    access: { domains: [{ name: 'example-com', domains: ['example.com'], mapiEnabled: true }], mailboxes: [{ address: 'ken@example.com', mapiEnabled: true }] },
    now: NOW,
    options: { allowClusterIssuers: true, progressDeadlineMs: 600_000 },
    ...over,
  };
}

describe('decideMapiServer', () => {
  it('a new server whose gate opens: every child, rolling out, Reconciling; status counts and URL', () => {
    const plan = decideMapiServer(inputs());
    assert.deepEqual(kinds(plan), ['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget', 'Certificate', 'Ingress']);
    assert.deepEqual(summary(plan, 'ChecksPassed'), ['True', 'GatePassed']);
    assert.deepEqual(summary(plan, 'RolloutHeld'), ['False', 'NotHeld']);
    assert.deepEqual(summary(plan, 'Reconciling')?.[0], 'True');
    assert.deepEqual(summary(plan, 'Ready')?.[0], 'False');
    assert.equal(plan.status.externalURL, `https://${EXTERNAL}`);
    assert.deepEqual(plan.status.domains, { accepted: 1, passing: 1, summary: '1/1' });
    assert.deepEqual(plan.status.checks?.map((r) => r.name), ['certificate', `tls/${EXTERNAL}`, `http/${EXTERNAL}`]);
    assert.equal(plan.status.rollout?.state, 'Progressing');
    assert.equal(plan.status.rollout?.desiredImage, 'registry.example/bm-mapi:5.3.0');
    assert.ok(plan.events.some((e) => e.reason === 'RolloutStarted'));
    assert.ok(plan.requeueAfterMs);
    for (const c of plan.status.conditions ?? []) assert.equal(c.observedGeneration, 1);
  });

  it('rolled out and proven: Ready, MapiAvailable, not Reconciling', () => {
    const first = decideMapiServer(inputs());
    const deployment = runningFrom(first);
    const plan = decideMapiServer(inputs({ deployment, checks: { results: [row(`tls/${EXTERNAL}`, 'Passed'), row(`http/${EXTERNAL}`, 'Passed')], checkedAt: new Date(NOW.getTime() + 60_000), release: releaseUnderProbe(deployment) }, now: new Date(NOW.getTime() + 60_000) }));
    assert.deepEqual(summary(plan, 'Ready'), ['True', 'Ready']);
    assert.deepEqual(summary(plan, 'MapiAvailable'), ['True', 'MapiAvailable']);
    assert.deepEqual(summary(plan, 'Reconciling'), ['False', 'Reconciled']);
    assert.equal(plan.status.rollout?.currentImage, 'registry.example/bm-mapi:5.3.0');
  });

  it('externalHost owned by another MapiServer: Stalled/HostConflict naming it, no Certificate nor Ingress, held at 0', () => {
    const plan = decideMapiServer(inputs({ externalHostClaim: { owned: false, owner: { namespace: 'other', name: 'first' } } }));
    assert.deepEqual(summary(plan, 'Stalled'), ['True', 'HostConflict']);
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'HostConflict']);
    assert.deepEqual(summary(plan, 'Reconciling'), ['False', 'HostConflict']);
    assert.match(message(plan, 'Stalled'), /spec\.externalHost mail\.hoster\.example is already served by MapiServer other\/first/);
    assert.deepEqual(kinds(plan), ['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
    assert.deepEqual(plan.prune.slice(0, 2), [{ kind: 'Certificate', name: 'bluemind-mapi' }, { kind: 'Ingress', name: 'bluemind-mapi' }]);
    const deployment = plan.apply.find((o) => (o as { kind: string }).kind === 'Deployment') as { spec: { replicas: number } };
    assert.equal(deployment.spec.replicas, 0);
    assert.ok(transitionEvents(undefined, plan.status.conditions).some((e) => e.type === 'Warning' && e.reason === 'HostConflict'));
  });

  it('issuer policies, first objection wins: ClusterIssuerNotAllowed, IssuerNotFound; no Certificate applied, none pruned', () => {
    const denied = decideMapiServer(inputs({ options: { allowClusterIssuers: false, progressDeadlineMs: 600_000 } }));
    assert.deepEqual(summary(denied, 'Stalled'), ['True', 'ClusterIssuerNotAllowed']);
    assert.match(message(denied, 'Stalled'), /spec\.tls\.issuerRef: ClusterIssuers are turned off/);
    assert.ok(!kinds(denied).includes('Certificate'));
    assert.ok(!denied.prune.some((p) => p.kind === 'Certificate'));

    const withIssuer = mapiServer({ tls: { issuerRef: { name: 'ca', kind: 'Issuer' } } });
    const missing = decideMapiServer(inputs({ server: withIssuer, issuer: { exists: false } }));
    assert.deepEqual(summary(missing, 'Stalled'), ['True', 'IssuerNotFound']);
    assert.match(message(missing, 'Stalled'), /Issuer ca does not exist in namespace mail/);
    const both = decideMapiServer(inputs({ server: withIssuer, issuer: { exists: false }, externalHostClaim: { owned: false } }));
    assert.equal(summary(both, 'Stalled')?.[1], 'HostConflict');
  });

  it('certificate not issued: CertificateReady Unknown, gate CertificateNotReady, held', () => {
    const plan = decideMapiServer(inputs({ certificate: undefined }));
    assert.deepEqual(summary(plan, 'CertificateReady'), ['Unknown', 'Pending']);
    assert.deepEqual(summary(plan, 'ChecksPassed'), ['False', 'CertificateNotReady']);
    assert.deepEqual(summary(plan, 'RolloutHeld'), ['True', 'CertificateNotReady']);
  });

  it('server checks not run: ChecksPassed Unknown/ChecksPending', () => {
    const { checks: _ignored, ...rest } = inputs();
    const plan = decideMapiServer(rest);
    assert.deepEqual(summary(plan, 'ChecksPassed'), ['Unknown', 'ChecksPending']);
  });

  it('the gatekeeper image reaches the pod template; the template hash is stable across access-list growth', () => {
    const small = decideMapiServer(inputs({ options: { allowClusterIssuers: true, progressDeadlineMs: 600_000, gatekeeperImage: 'mapi-operator:1' } }));
    const mailboxes = Array.from({ length: 20_000 }, (_, i) => ({ address: `user${i}@example.com`, mapiEnabled: i % 7 !== 0 }));
    const big = decideMapiServer(inputs({ access: { domains: [{ name: 'example-com', domains: ['example.com'], mapiEnabled: true }], mailboxes }, options: { allowClusterIssuers: true, progressDeadlineMs: 600_000, gatekeeperImage: 'mapi-operator:1' } }));
    const template = (p: Plan) => (p.apply.find((o) => (o as { kind: string }).kind === 'Deployment') as { spec: { template: { metadata: { annotations: Record<string, string> }; spec: { containers: { image: string }[] } } } }).spec.template;
    assert.ok(template(small).spec.containers.some((c) => c.image === 'mapi-operator:1'));
    assert.equal(template(big).metadata.annotations[TEMPLATE_HASH_ANNOTATION], template(small).metadata.annotations[TEMPLATE_HASH_ANNOTATION]);
    assert.ok(kinds(big).filter((k) => k === 'ConfigMap').length > 1, 'a large list is sharded');
    // A list that shrinks back: the shards it no longer needs are pruned.
    const shardNames = new Set(big.apply.filter((o) => (o as { kind: string }).kind === 'ConfigMap').map((o) => (o as { metadata: { name: string } }).metadata.name));
    const pruned = small.prune.filter((p) => p.kind === 'ConfigMap').map((p) => p.name);
    assert.ok([...shardNames].filter((n) => n !== 'bluemind-mapi-access').every((n) => pruned.includes(n)));
    assert.ok(!pruned.includes('bluemind-mapi-access'));
  });

  it('status.domains.blocking is bounded to 20 and the summary counts accepted ones only', () => {
    const many = Array.from({ length: 30 }, (_, i) => {
      const md = mailDomain(`d${i}.example`);
      return hosted(md, decideDomain(md, server, 'unpublished'), domainChecks(md, 'unpublished'));
    });
    const stalled = { ...passingDomain, name: 'stalled', domain: 'stalled.example', accepted: false, stalled: { reason: 'HostConflict', message: 'x' } };
    const plan = decideMapiServer(inputs({ domains: [passingDomain, ...many, stalled] }));
    assert.equal(plan.status.domains?.summary, '1/31');
    assert.equal(plan.status.domains?.blocking?.length, 20);
    assert.deepEqual(summary(plan, 'RolloutHeld'), ['True', 'DomainsNotReady']);
    assert.match(message(plan, 'RolloutHeld'), /blocking \(30, the first 20; and 10 more\): d0\.example \(AutodiscoverNotPublished/);
  });

  it('an unchanged world writes the same status and emits no Event', () => {
    const first = decideMapiServer(inputs());
    const again = decideMapiServer(inputs({ server: { ...server, status: first.status }, deployment: runningFrom(first, false), now: new Date(NOW.getTime() + 1_000) }));
    const third = decideMapiServer(inputs({ server: { ...server, status: again.status }, deployment: runningFrom(first, false), now: new Date(NOW.getTime() + 2_000) }));
    assert.deepEqual(third.status, again.status);
    assert.deepEqual(third.events, []);
    assert.deepEqual(transitionEvents(again.status.conditions, third.status.conditions), []);
  });
});
