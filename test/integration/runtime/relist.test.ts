// Relist after 410 Gone, forced the way it happens in production: the informer's watch
// breaks (here: kube-apiserver restarts), etcd has been compacted past the informer's last
// resourceVersion meanwhile, and the restarted apiserver's watch cache starts at a newer
// revision. Resuming from the old resourceVersion must answer 410, and the informer must
// relist and carry on. Uses a private control plane because it restarts the apiserver.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../../../src/dev/controlplane.ts';
import { Informer } from '../../../src/kube/informer.ts';
import { runWatch } from '../../../src/kube/watch.ts';
import { isGone } from '../../../src/kube/errors.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { loadKubeConfig } from '../../../src/kube/manager.ts';
import { configMaps, createConfigMap, createNamespace, testLogger, waitFor } from './helpers.ts';

/** etcd's client URL, read from the running kube-apiserver's own flags. */
function etcdUrl(cp: ControlPlane): string {
  const api = cp.processes().find((p) => p.name === 'kube-apiserver');
  if (!api) throw new Error('kube-apiserver is not running');
  const args = readFileSync(`/proc/${api.pid}/cmdline`, 'utf8').split('\0');
  const flag = args.find((a) => a.startsWith('--etcd-servers='));
  if (!flag) throw new Error('kube-apiserver has no --etcd-servers flag');
  return flag.slice('--etcd-servers='.length).split(',')[0] as string;
}

/** Compacts etcd at its current revision, as the apiserver's compactor does every 5 min. */
async function compactEtcd(cp: ControlPlane): Promise<number> {
  const base = etcdUrl(cp);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const revision = (await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), count_only: true })).header.revision;
  await post('/v3/kv/compaction', { revision, physical: true });
  return Number(revision);
}

describe('informer relist after 410 Gone', () => {
  let cp: ControlPlane;
  let client: KubeClient;

  before(async () => {
    cp = await startControlPlane({ kwok: false });
    client = new KubeClient(loadKubeConfig(cp.kubeconfigPath));
  });
  after(async () => {
    await cp?.stop();
  });

  it('relists when resuming the watch answers 410, and keeps seeing events', async () => {
    const ns = await createNamespace(client, 'relist');
    await createConfigMap(client, ns, 'kept');
    const inf = new Informer({ client, resource: configMaps, namespaces: [ns], logger: testLogger, backoff: { baseMs: 200, maxMs: 2000 } });
    const deleted: string[] = [];
    inf.addHandlers({ onDelete: (o) => deleted.push(o.metadata.name ?? '') });
    inf.start();
    try {
      await inf.waitForSync(AbortSignal.timeout(20_000));
      assert.equal(inf.stats.lists, 1);
      // Move etcd's revision well past the informer's resourceVersion with writes it does
      // not watch, then compact: the informer's resourceVersion is now history.
      const noise = await createNamespace(client, 'relist-noise');
      for (let i = 0; i < 20; i++) await createConfigMap(client, noise, `noise-${i}`);
      const compactedAt = await compactEtcd(cp);
      await cp.restartApiServer();

      await waitFor('a relist after 410', () => inf.stats.restarts.gone >= 1 && inf.stats.lists >= 2, 60_000);
      assert.ok(inf.get(ns, 'kept'), 'the relisted store still has the object');
      assert.deepEqual(deleted, [], 'a relist of an unchanged namespace reports no deletes');
      await createConfigMap(client, ns, 'after-relist');
      await waitFor('an event after the relist', () => inf.get(ns, 'after-relist'), 20_000);

      // The same condition, asked directly: a watch from a compacted revision is 410.
      await assert.rejects(
        runWatch(client, { path: `/api/v1/namespaces/${ns}/configmaps`, resourceVersion: String(compactedAt - 10), timeoutSeconds: 10, watchdogMs: 15_000, signal: AbortSignal.timeout(20_000), onEvent: () => undefined }),
        (err: unknown) => isGone(err),
      );
    } finally {
      await inf.stop();
    }
  });
});
