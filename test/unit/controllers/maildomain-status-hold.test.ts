// A MailDomain status is not built from check results whose target the checks have just moved
// past (at onboarding: the run made before the certificate was issued): the status waits for
// the run of the new target, STATUS_HOLD_MS at most, so a domain is not written twice within
// seconds. A new generation and an expired hold are written at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { MAILDOMAIN_CONTROLLER, STATUS_HOLD_MS, registerMailDomainController } from '../../../src/controllers/maildomain/controller.ts';
import { DomainStandings } from '../../../src/controllers/domain-standings.ts';
import type { CheckRuns, RunSnapshot } from '../../../src/controllers/checks/check-runs.ts';
import type { CheckResult } from '../../../src/checks/types.ts';
import { e2eDomain, e2eServer } from '../../../src/dev/world.ts';
import { fakeKube, type FakeKube } from '../../support/fake-kube.ts';

const NS = 'tenant-a';
const dns = (status: 'Passed' | 'Failed', message: string): CheckResult => ({ name: 'dns/autodiscover.a.test', status, reason: status === 'Passed' ? 'Published' : 'NotPublished', message, details: {} });

describe('the MailDomain status and a superseded check run', () => {
  let kube: FakeKube;
  let snapshot: RunSnapshot | undefined;
  let supersededSince: number | undefined;
  const base = e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53', domains: 'Any', replicas: 1 }) as KubeObject & { spec: { tls: object } };
  const server = { ...base, spec: { ...base.spec, tls: { ...base.spec.tls, issuerRef: { name: 'ca', kind: 'Issuer' } } } } as KubeObject;
  const issuer = { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'ca', namespace: NS }, spec: { ca: { secretName: 'ca' } } } as KubeObject;
  const domain = e2eDomain({ name: 'a', namespace: NS, server: 's0', domain: 'a.test' }) as KubeObject;
  const statusWrites = () => kube.writes.filter((w) => w === 'MailDomain a/status').length;
  const reconcile = async () => {
    await kube.settle();
    const result = await kube.reconcilers.get(MAILDOMAIN_CONTROLLER)!(`${NS}/a`, { log: kube.manager.logger, signal: new AbortController().signal });
    await kube.settle();
    return result as { requeueAfterMs?: number } | undefined;
  };
  const rows = () => (kube.get('MailDomain', NS, 'a')!.status as { checks?: Array<{ name: string; status: string }> }).checks ?? [];

  before(async () => {
    kube = fakeKube();
    kube.put(issuer);
    kube.put(server);
    kube.put(domain);
    const view = new ClusterView(kube.manager, { tenancy: 'Open' });
    const checks = { snapshot: () => snapshot, supersededSince: () => supersededSince, ensure: () => undefined, forget: () => false } as unknown as CheckRuns;
    registerMailDomainController({ manager: kube.manager, view, checks, standings: new DomainStandings(), enqueueServer: () => undefined });
    await kube.start();
  });
  after(() => kube.stop());

  it('results of the current target: written', async () => {
    snapshot = { results: [dns('Failed', 'no record yet')], checkedAt: new Date() };
    assert.equal(await reconcile(), undefined);
    assert.equal(statusWrites(), 1);
    const stalled = (kube.get('MailDomain', NS, 'a')!.status as { conditions: Array<{ type: string; status: string }> }).conditions.find((c) => c.type === 'Stalled');
    assert.equal(stalled?.status, 'False', 'nothing stalls it (a stall is never held)');
    assert.equal(rows().find((r) => r.name === 'dns/autodiscover.a.test')?.status, 'Failed');
  });

  it('results of a superseded target: held, and looked at again before the hold ends', async () => {
    snapshot = { results: [dns('Passed', 'published')], checkedAt: new Date() };
    supersededSince = Date.now() - 1_000;
    const result = await reconcile();
    assert.equal(statusWrites(), 1, 'not written');
    assert.equal(rows().find((r) => r.name === 'dns/autodiscover.a.test')?.status, 'Failed', 'the status as it was');
    assert.ok(result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0 && result.requeueAfterMs <= STATUS_HOLD_MS - 1_000, `requeued within the hold, got ${JSON.stringify(result)}`);
  });

  it('the run of the new target in: written', async () => {
    supersededSince = undefined;
    assert.equal(await reconcile(), undefined);
    assert.equal(statusWrites(), 2);
    assert.equal(rows().find((r) => r.name === 'dns/autodiscover.a.test')?.status, 'Passed');
  });

  it('a hold that lasted STATUS_HOLD_MS: written with what there is', async () => {
    snapshot = { results: [dns('Failed', 'record gone')], checkedAt: new Date() };
    supersededSince = Date.now() - STATUS_HOLD_MS - 1;
    assert.equal(await reconcile(), undefined);
    assert.equal(statusWrites(), 3);
  });

  it('a new generation: written at once, superseded results or not', async () => {
    snapshot = { results: [dns('Passed', 'published again')], checkedAt: new Date() };
    supersededSince = Date.now();
    const live = kube.get('MailDomain', NS, 'a')!;
    kube.put({ ...live, spec: { ...(live.spec as object), aliases: ['b.test'] } } as KubeObject, { specChanged: true });
    assert.equal(await reconcile(), undefined);
    assert.equal(statusWrites(), 4);
    assert.equal((kube.get('MailDomain', NS, 'a')!.status as { observedGeneration?: number }).observedGeneration, 2);
  });
});
