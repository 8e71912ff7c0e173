import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector, type Lease } from '../../../src/kube/leader-election.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { createNamespace, deleteNamespace, sharedClient, testLogger, waitFor } from './helpers.ts';

describe('leader election on a Lease', { timeout: 120_000 }, () => {
  let client: KubeClient;
  let ns: string;
  const electors: LeaderElector[] = [];
  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'le');
  });
  after(async () => {
    await Promise.all(electors.map((e) => e.stop({ release: false })));
    await deleteNamespace(client, ns);
  });

  function candidate(name: string, leaseName: string) {
    const state = { leading: false, started: 0, stopped: 0, signal: undefined as AbortSignal | undefined };
    const elector = new LeaderElector({
      client,
      namespace: ns,
      name: leaseName,
      identity: name,
      logger: testLogger,
      onStartedLeading: (signal) => {
        state.leading = true;
        state.started++;
        state.signal = signal;
      },
      onStoppedLeading: () => {
        state.leading = false;
        state.stopped++;
      },
    });
    electors.push(elector);
    return { elector, state };
  }

  const readLease = (name: string) => client.request<Lease>({ path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}` });

  it('lets one of two candidates lead; the other takes over within the lease duration when the leader stops without release', async () => {
    const a = candidate('a', 'crash');
    const b = candidate('b', 'crash');
    void a.elector.run();
    await waitFor('a to lead', () => a.state.leading, 10_000);
    void b.elector.run();
    // b keeps trying for several retry periods and must not win while a renews.
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(b.state.leading, false, 'only one leader');
    const lease = await readLease('crash');
    assert.equal(lease.spec?.holderIdentity, 'a');
    assert.equal(lease.spec?.leaseDurationSeconds, 15);

    const stoppedAt = Date.now();
    await a.elector.stop({ release: false }); // like a crash: the lease is left to expire
    assert.equal(a.state.stopped, 1);
    assert.equal(a.state.signal?.aborted, true, 'the leader’s signal aborts when it stops leading');
    await waitFor('b to take over', () => b.state.leading, 25_000);
    const tookMs = Date.now() - stoppedAt;
    // b judges expiry by its own observation of the record: lease duration + a retry period.
    assert.ok(tookMs <= 15_000 + 2_000 * 1.2 + 1_000, `takeover took ${tookMs} ms`);
    const after = await readLease('crash');
    assert.equal(after.spec?.holderIdentity, 'b');
    assert.equal(after.spec?.leaseTransitions, 1);
  });

  it('hands over at once after a release (holderIdentity emptied, 1 s duration)', async () => {
    const a = candidate('a', 'release');
    const b = candidate('b', 'release');
    void a.elector.run();
    await waitFor('a to lead', () => a.state.leading, 10_000);
    void b.elector.run();
    await new Promise((r) => setTimeout(r, 2_500));
    const releasedAt = Date.now();
    await a.elector.stop();
    const released = await readLease('release');
    assert.ok(released.spec?.holderIdentity === '' || released.spec?.holderIdentity === 'b', `holder after release: ${released.spec?.holderIdentity}`);
    await waitFor('b to take over', () => b.state.leading, 10_000);
    const tookMs = Date.now() - releasedAt;
    assert.ok(tookMs < 4_000, `takeover after release took ${tookMs} ms (lease duration is 15 s)`);
  });

  it('only one of two candidates racing for a fresh lease wins (optimistic concurrency)', async () => {
    const a = candidate('a', 'race');
    const b = candidate('b', 'race');
    void a.elector.run();
    void b.elector.run();
    await waitFor('a leader', () => a.state.leading || b.state.leading, 10_000);
    await new Promise((r) => setTimeout(r, 4_500));
    assert.equal(Number(a.state.leading) + Number(b.state.leading), 1, 'exactly one leader');
    assert.equal(a.state.started + b.state.started, 1, 'leadership started once');
  });

  it('stops leading (signal aborts) when it cannot renew within the renew deadline', async () => {
    const a = candidate('a', 'stolen');
    void a.elector.run();
    await waitFor('a to lead', () => a.state.leading, 10_000);
    // Someone else takes the lease (as after a network partition): a's renewals now fail.
    const lease = await readLease('stolen');
    await client.request({
      method: 'PUT',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/stolen`,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: new Date().toISOString().replace('Z', '000Z') } },
    });
    const stolenAt = Date.now();
    await waitFor('a to stop leading', () => a.state.signal?.aborted, 20_000);
    const tookMs = Date.now() - stolenAt;
    assert.equal(a.state.leading, false);
    assert.ok(tookMs <= 10_000 + 3_000, `stopped after ${tookMs} ms (renew deadline 10 s)`);
  });
});
