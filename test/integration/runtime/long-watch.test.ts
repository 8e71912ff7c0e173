// A watch kept open for four minutes with the informer's production settings (server-side
// time-out 5-10 min, watchdog 130 s). Guards against client-node's known failures: healthy
// watches aborted after 30 s (#3020), watches that die silently (#958, #364) and reconnect
// storms (#1933). Every ConfigMap created (one every 20 s) must be seen, and the watch must
// not have been restarted at all: one list, one watch, zero restarts. A second, idle watch
// must survive on bookmarks alone (client-node 2.0.1's own Watch cuts an idle watch every
// 30 s: its inactivity time-out is shorter than the apiserver's bookmark period).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { Informer } from '../../../src/kube/informer.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import { configMaps, createConfigMap, createNamespace, deleteNamespace, sharedClient, testLogger, waitFor } from './helpers.ts';

const DURATION_MS = 4 * 60_000;
const EVERY_MS = 20_000;

describe('long-lived watch', { timeout: DURATION_MS + 120_000 }, () => {
  let client: KubeClient;
  let ns: string;
  let quiet: string;
  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'longwatch');
    quiet = await createNamespace(client, 'longwatch-quiet');
  });
  after(async () => {
    await deleteNamespace(client, ns);
    await deleteNamespace(client, quiet);
  });

  it('stays open for 4 minutes, sees every event, restarts never', { timeout: DURATION_MS + 60_000 }, async () => {
    // Server-side time-out above the test's length so any restart is a failure to explain.
    const inf = new Informer({ client, resource: configMaps, namespaces: [ns], logger: testLogger, watchTimeoutSeconds: 600 });
    const added: Array<{ name: string; lagMs: number }> = [];
    const createdAt = new Map<string, number>();
    inf.addHandlers({ onAdd: (o) => added.push({ name: o.metadata.name ?? '', lagMs: Date.now() - (createdAt.get(o.metadata.name ?? '') ?? Date.now()) }) });
    // Alongside, a watch on a namespace where nothing happens, with the default watchdog
    // (130 s): only the apiserver's bookmarks keep it alive, and they must be enough.
    const idle = new Informer({ client, resource: configMaps, namespaces: [quiet], logger: testLogger, watchTimeoutSeconds: 600 });
    inf.start();
    idle.start();
    try {
      await inf.waitForSync(AbortSignal.timeout(20_000));
      await idle.waitForSync(AbortSignal.timeout(20_000));
      added.length = 0; // kube-root-ca.crt from the list
      const started = Date.now();
      const names: string[] = [];
      for (let i = 0; Date.now() - started < DURATION_MS; i++) {
        const name = `tick-${String(i).padStart(2, '0')}`;
        createdAt.set(name, Date.now());
        await createConfigMap(client, ns, name, { at: new Date().toISOString() });
        names.push(name);
        await delay(Math.min(EVERY_MS, Math.max(0, DURATION_MS - (Date.now() - started))));
      }
      await waitFor('every created ConfigMap', () => names.every((n) => inf.get(ns, n)), 20_000);
      // kube-controller-manager publishes kube-root-ca.crt into a new namespace on its own
      // schedule: with the list under load, or as a watch event among the ticks.
      const seen = added.map((a) => a.name).filter((n) => n !== 'kube-root-ca.crt');
      assert.deepEqual(seen, names, 'each ConfigMap was seen exactly once, in order');
      const maxLag = Math.max(...added.map((a) => a.lagMs));
      const s = inf.stats;
      process.stderr.write(`long watch: ${names.length} events over ${Math.round((Date.now() - started) / 1000)} s, max lag ${maxLag} ms, stats ${JSON.stringify(s)}\n`);
      assert.ok(maxLag < 5_000, `events arrive promptly (max lag ${maxLag} ms)`);
      assert.equal(s.lists, 1, 'no relist');
      assert.equal(s.watches, 1, 'one watch for the whole time');
      assert.deepEqual(s.restarts, { closed: 0, watchdog: 0, error: 0, gone: 0 }, 'no restart of any kind');
      // The apiserver's periodic bookmarks (about one a minute) are what keeps the watchdog
      // quiet on idle namespaces; they must arrive.
      assert.ok(s.bookmarks >= 2, `periodic bookmarks arrive (got ${s.bookmarks})`);
      process.stderr.write(`idle watch: stats ${JSON.stringify(idle.stats)}\n`);
      assert.equal(idle.stats.watches, 1, 'the idle watch was never restarted');
      assert.deepEqual(idle.stats.restarts, { closed: 0, watchdog: 0, error: 0, gone: 0 });
      assert.ok(idle.stats.bookmarks >= 2, `bookmarks reach an idle watch (got ${idle.stats.bookmarks})`);
    } finally {
      await inf.stop();
      await idle.stop();
    }
  });
});
