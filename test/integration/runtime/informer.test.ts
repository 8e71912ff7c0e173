import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Informer } from '../../../src/kube/informer.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { configMaps, createConfigMap, createNamespace, deleteNamespace, sharedClient, testLogger, waitFor } from './helpers.ts';

describe('informer on the real apiserver', () => {
  let client: KubeClient;
  let ns: string;
  let other: string;
  const informers: Informer[] = [];

  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'inf');
    other = await createNamespace(client, 'inf-other');
  });
  after(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await deleteNamespace(client, ns);
    await deleteNamespace(client, other);
  });

  function start(opts: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer {
    const inf = new Informer({ client, resource: configMaps, namespaces: [ns], logger: testLogger, ...opts });
    informers.push(inf);
    inf.start();
    return inf;
  }

  it('lists, then sees add, update and delete of ConfigMaps, only in its namespace', async () => {
    await createConfigMap(client, ns, 'before-start', { a: '1' });
    const inf = start();
    const seen: string[] = [];
    inf.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata.name} ${JSON.stringify(n.data)}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    await inf.waitForSync(AbortSignal.timeout(20_000));
    assert.equal(inf.hasSynced(), true);
    assert.ok(inf.get(ns, 'before-start'), 'the listed object is in the store');
    assert.equal(inf.get(ns, 'before-start')?.kind, 'ConfigMap', 'listed items get their kind');

    await createConfigMap(client, ns, 'cm1', { v: '1' });
    await createConfigMap(client, other, 'elsewhere');
    await waitFor('add of cm1', () => inf.get(ns, 'cm1'));
    await client.request({ method: 'PATCH', path: `/api/v1/namespaces/${ns}/configmaps/cm1`, body: { data: { v: '2' } }, contentType: 'application/merge-patch+json' });
    await waitFor('update of cm1', () => (inf.get(ns, 'cm1') as KubeObject & { data?: Record<string, string> })?.data?.v === '2');
    await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/configmaps/cm1` });
    await waitFor('delete of cm1', () => !inf.get(ns, 'cm1'));

    assert.deepEqual(seen.filter((s) => s.includes('cm1')), ['add cm1', 'update cm1 {"v":"2"}', 'delete cm1']);
    assert.ok(seen.includes('add before-start'), 'a late handler gets the store replayed');
    assert.equal(inf.get(other, 'elsewhere'), undefined, 'other namespaces are not watched');
    assert.equal(inf.list().every((o) => o.metadata.namespace === ns), true);
  });

  it('watches several namespaces, one list/watch each, with a label selector', async () => {
    const inf = start({ namespaces: [ns, other], labelSelector: 'shard=a' });
    await inf.waitForSync(AbortSignal.timeout(20_000));
    await createConfigMap(client, ns, 'sel-a', {}, { shard: 'a' });
    await createConfigMap(client, other, 'sel-a2', {}, { shard: 'a' });
    await createConfigMap(client, ns, 'sel-b', {}, { shard: 'b' });
    await waitFor('both shard=a objects', () => inf.get(ns, 'sel-a') && inf.get(other, 'sel-a2'));
    assert.equal(inf.get(ns, 'sel-b'), undefined, 'the label selector filters');
    assert.equal(inf.stats.lists, 2, 'one list per namespace');
  });

  it('restarts watches the server ends (timeoutSeconds) from the last resourceVersion, without relisting', async () => {
    const inf = start({ watchTimeoutSeconds: 2 });
    await inf.waitForSync(AbortSignal.timeout(20_000));
    await waitFor('two server-side watch ends', () => inf.stats.restarts.closed >= 2, 20_000);
    await createConfigMap(client, ns, 'after-timeouts');
    await waitFor('an event after the restarts', () => inf.get(ns, 'after-timeouts'));
    assert.equal(inf.stats.lists, 1, 'a watch ended by the server resumes, it does not relist');
    assert.equal(inf.stats.restarts.error + inf.stats.restarts.gone, 0);
  });

  it('restarts a silent watch through the watchdog, resuming without a relist', async () => {
    const quiet = await createNamespace(client, 'inf-quiet');
    try {
      const inf = start({ namespaces: [quiet], watchdogMs: 1500, watchTimeoutSeconds: 600 });
      await inf.waitForSync(AbortSignal.timeout(20_000));
      await waitFor('a watchdog restart', () => inf.stats.restarts.watchdog >= 1, 15_000);
      await createConfigMap(client, quiet, 'after-watchdog');
      await waitFor('an event after the watchdog restart', () => inf.get(quiet, 'after-watchdog'));
      assert.equal(inf.stats.lists, 1);
      assert.equal(inf.stats.restarts.error, 0);
    } finally {
      await deleteNamespace(client, quiet);
    }
  });
});
