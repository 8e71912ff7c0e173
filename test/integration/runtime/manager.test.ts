import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Manager } from '../../../src/kube/manager.ts';
import { loadKubeConfig } from '../../../src/kube/manager.ts';
import { applyObject } from '../../../src/kube/apply.ts';
import { isNotFound } from '../../../src/kube/errors.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import type { Lease } from '../../../src/kube/leader-election.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { FieldPacker } from '../../../src/kube/index.ts';
import { isPacked } from '../../../src/kube/packed-fields.ts';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { createNamespace, deleteNamespace, ensureWidgetCrd, sharedClient, testLogger, waitFor, widgets } from './helpers.ts';
import { addWidgetController, type Widget } from './widget-controller.ts';

describe('manager and controller on the real apiserver', { timeout: 120_000 }, () => {
  let client: KubeClient;
  let ns: string;
  let mgr: Manager;
  let state: ReturnType<typeof addWidgetController>;
  let running: Promise<string>;

  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'mgr');
    await ensureWidgetCrd(client);
    mgr = new Manager({
      kubeConfig: loadKubeConfig(sharedKubeconfigPath()),
      namespaces: [ns],
      leaderElection: { enabled: true, namespace: ns, name: 'mapi-operator-leader' },
      metricsAddr: '127.0.0.1:0',
      healthAddr: '127.0.0.1:0',
      handleSignals: false,
      logger: testLogger,
      metrics: new Metrics(),
    });
    state = addWidgetController(mgr);
    running = mgr.start();
    await waitFor('leadership', () => mgr.isLeader, 20_000);
  });
  after(async () => {
    await mgr?.stop();
    await deleteNamespace(client, ns);
  });

  const widget = (name: string, spec: Record<string, unknown>) =>
    applyObject<Widget>(client, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec }, { fieldManager: 'test-user' });
  const get = <T = KubeObject>(path: string) => client.request<T>({ path });

  it('serves /healthz, /readyz once caches synced, and /metrics', async () => {
    const health = mgr.serving?.healthUrl;
    assert.ok(health);
    assert.equal((await fetch(`${health}/healthz`, { signal: AbortSignal.timeout(5000) })).status, 200);
    await waitFor('readyz 200', async () => (await fetch(`${health}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200, 10_000);
  });

  it('reconciles a new object: owned child applied, status written once', async () => {
    const w = await widget('w1', { size: 3 });
    const child = await waitFor('the child ConfigMap', () => get<KubeObject & { data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/w1-child`).catch(() => undefined));
    assert.equal(child.data.size, '3');
    assert.equal(child.metadata.ownerReferences?.[0]?.uid, w.metadata.uid);
    await waitFor('status.observedGeneration', async () => (await get<Widget>(`/apis/${widgets.group}/v1/namespaces/${ns}/widgets/w1`)).status?.observedGeneration === 1);
  });

  it('re-reconciles its owner when an owned object is deleted, and on spec changes only', async () => {
    await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/configmaps/w1-child` });
    await waitFor('the child recreated', () => get(`/api/v1/namespaces/${ns}/configmaps/w1-child`).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))), 10_000);
    const before = state.reconciles.get(`${ns}/w1`) ?? 0;
    await widget('w1', { size: 4 });
    await waitFor('the child updated', async () => (await get<KubeObject & { data: Record<string, string> }>(`/api/v1/namespaces/${ns}/configmaps/w1-child`)).data.size === '4', 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const count = (state.reconciles.get(`${ns}/w1`) ?? 0) - before;
    // One for the spec change, one for our own child update; our status write must not loop.
    assert.ok(count >= 1 && count <= 3, `reconciles after one spec change: ${count}`);
  });

  it('retries a failing reconcile with backoff and counts the errors', async () => {
    await widget('flaky', { note: 'fail-twice' });
    await waitFor('flaky reconciled after two failures', async () => (await get<Widget>(`/apis/${widgets.group}/v1/namespaces/${ns}/widgets/flaky`)).status?.child === 'flaky-child', 10_000);
    const metrics = await (await fetch(`${mgr.serving?.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    assert.match(metrics, /controller_runtime_reconcile_errors_total\{controller="widget"\} 2/);
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="widget",result="error"\} 2/);
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="widget",result="success"\} \d+/);
    assert.match(metrics, /workqueue_retries_total\{name="widget"\} [2-9]/);
    assert.match(metrics, /leader_election_master_status\{name="mapi-operator-leader"\} 1/);
    assert.match(metrics, /mapi_operator_informer_lists_total\{resource="widgets.runtime-test.mapi-operator.io"\} 1/);
  });

  it('requeues after the requested delay', async () => {
    await widget('again', { note: 'requeue' });
    await waitFor('at least 4 reconciles of a requeue-after object', () => (state.reconciles.get(`${ns}/again`) ?? 0) >= 4, 10_000);
    assert.equal(state.maxInFlightPerKey, 1, 'a key never reconciles twice at once');
  });

  it('a cluster-wide cache without status beside the namespaced one (--namespace set)', async () => {
    assert.equal(mgr.watchesAllNamespaces, false);
    const namespaced = mgr.informer<Widget>(widgets);
    const clusterWide = mgr.informer<Widget>(widgets, { namespaces: [], withoutStatus: true });
    assert.notEqual(clusterWide, namespaced);
    // Asked the same way twice: the same informer, not a third cache.
    assert.equal(mgr.informer<Widget>(widgets, { namespaces: [], withoutStatus: true }), clusterWide);
    await clusterWide.waitForSync();
    await widget('wide', { size: 3 });
    await waitFor('wide with a status in the namespaced cache', () => namespaced.get(ns, 'wide')?.status?.observedGeneration === 1);
    const bare = await waitFor('wide in the cluster-wide cache', () => clusterWide.get(ns, 'wide'));
    assert.equal('status' in bare, false);
    assert.equal(bare.spec?.size, 3);
    assert.ok(bare.metadata.uid && bare.metadata.creationTimestamp);
    // A status write reaches it as an update of the same spec, still without the status.
    await widget('wide', { size: 4 });
    await waitFor('the new spec in the cluster-wide cache', () => clusterWide.get(ns, 'wide')?.spec?.size === 4);
    await waitFor('status.observedGeneration 2', () => namespaced.get(ns, 'wide')?.status?.observedGeneration === 2);
    const latest = namespaced.get(ns, 'wide')!.metadata.resourceVersion;
    await waitFor('the status write in the cluster-wide cache', () => clusterWide.get(ns, 'wide')?.metadata.resourceVersion === latest);
    assert.equal('status' in clusterWide.get(ns, 'wide')!, false);
    const everywhere = new Manager({ kubeConfig: loadKubeConfig(sharedKubeconfigPath()), metricsAddr: '0', healthAddr: '0', handleSignals: false, logger: testLogger, metrics: new Metrics() });
    assert.equal(everywhere.watchesAllNamespaces, true);
  });

  it('a cache that keeps each spec and status packed reads every version\'s back as the apiserver sent it', async () => {
    const packer = new FieldPacker('test-widget', ['spec', 'status'], 'observedGeneration child size');
    const packed = mgr.informer<Widget>(widgets, { pack: packer });
    assert.notEqual(packed, mgr.informer<Widget>(widgets), 'a cache of its own');
    assert.equal(mgr.informer<Widget>(widgets, { pack: packer }), packed, 'asked the same way twice: the same informer');
    await packed.waitForSync();
    await widget('packed', { size: 5 });
    for (const generation of [1, 2]) {
      if (generation === 2) await widget('packed', { size: 6 });
      const served = await waitFor(`status.observedGeneration ${generation}`, async () => {
        const w = await get<Widget>(`/apis/${widgets.group}/v1/namespaces/${ns}/widgets/packed`);
        return w.status?.observedGeneration === generation ? w : undefined;
      });
      const cached = await waitFor('the same version in the packed cache', () => {
        const w = packed.get(ns, 'packed');
        return w?.metadata.resourceVersion === served.metadata.resourceVersion ? w : undefined;
      });
      assert.ok(isPacked(cached, 'spec') && isPacked(cached, 'status'), 'kept packed');
      assert.deepEqual(cached.status, served.status);
      assert.deepEqual(cached.spec, served.spec);
    }
  });

  it('stops gracefully and releases the lease', async () => {
    await mgr.stop();
    assert.equal(await running, 'stopped');
    const lease = await get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/mapi-operator-leader`);
    assert.equal(lease.spec?.holderIdentity ?? '', '', 'the lease is released on shutdown');
    await assert.rejects(fetch(`${mgr.serving?.healthUrl}/healthz`, { signal: AbortSignal.timeout(2000) }), 'the servers are closed');
  });
});

describe('periodic resync without leader election', { timeout: 60_000 }, () => {
  it('re-reconciles every object on the resync period though nothing changed', async () => {
    const client = sharedClient();
    const ns = await createNamespace(client, 'resync');
    const mgr = new Manager({
      kubeConfig: loadKubeConfig(sharedKubeconfigPath()),
      namespaces: [ns],
      metricsAddr: '0',
      healthAddr: '0',
      handleSignals: false,
      logger: testLogger,
      metrics: new Metrics(),
    });
    try {
      await ensureWidgetCrd(client);
      await applyObject(client, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name: 'still', namespace: ns }, spec: { size: 1 } }, { fieldManager: 'test-user' });
      const state = addWidgetController(mgr, { resyncMs: 400 });
      const running = mgr.start();
      await waitFor('three reconciles of an unchanged object', () => (state.reconciles.get(`${ns}/still`) ?? 0) >= 3, 10_000);
      assert.equal(mgr.isLeader, true, 'without leader election the controllers run at once');
      await mgr.stop();
      assert.equal(await running, 'stopped');
    } finally {
      await mgr.stop();
      await deleteNamespace(client, ns);
    }
  });
});
