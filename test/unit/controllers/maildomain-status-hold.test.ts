// A MailDomain status is not built from check results whose target the checks have just moved
// past (at onboarding: the run made before the certificate was issued): the status waits for
// the run of the new target, STATUS_HOLD_MS at most, so a domain is not written twice within
// seconds. A new generation and an expired hold are written at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import { STATUS_HOLD_MS } from '../../../src/controllers/maildomain/controller.ts';
import type { CheckRuns, RunSnapshot } from '../../../src/controllers/checks/check-runs.ts';
import type { CheckResult } from '../../../src/checks/types.ts';
import type { FakeKube } from '../../support/fake-kube.ts';
import { NS, servedDomain } from './served-domain.ts';

const dns = (status: 'Passed' | 'Failed', message: string): CheckResult => ({ name: 'dns/autodiscover.a.test', status, reason: status === 'Passed' ? 'Published' : 'NotPublished', message, details: {} });

describe('the MailDomain status and a superseded check run', () => {
  let kube: FakeKube;
  let reconcileOnce: () => Promise<unknown>;
  let snapshot: RunSnapshot | undefined;
  let supersededSince: number | undefined;
  const statusWrites = () => kube.writes.filter((w) => w === 'MailDomain a/status').length;
  const reconcile = async () => (await reconcileOnce()) as { requeueAfterMs?: number } | undefined;
  const rows = () => (kube.get('MailDomain', NS, 'a')!.status as { checks?: Array<{ name: string; status: string }> }).checks ?? [];

  before(async () => {
    const checks: Partial<CheckRuns> = { snapshot: () => snapshot, supersededSince: () => supersededSince, ensure: () => undefined, forget: () => undefined };
    ({ kube, reconcile: reconcileOnce } = await servedDomain(checks));
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
