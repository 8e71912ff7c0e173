// 10,000 Mailboxes in one MailDomain, against the real control plane with the operator as a
// process and a MailDomain whose MAPI service is rolled out (cert-manager, BIND, the front,
// kwok pods): how long until every Mailbox is reconciled and the access shards list them
// all, how big the 17 access ConfigMaps get, and that every shard stays under 1 MiB.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { e2eMailDomain, startWorld, toFront, type World } from '../../../src/dev/world.ts';
import { shardOf } from '../../../src/builders/access.ts';

const ns = 'mbx-scale';
const domain = 'scale.mbx.test';
const COUNT = 10_000;
const BATCH = 500;
const MiB = 1024 * 1024;
let world: World;
let operator: OperatorProcess;

type Cond = { type: string; status: string; reason: string };
type MD = { status?: { conditions?: Cond[]; rollout?: { state: string } } };
type CM = { metadata: { name: string }; data?: Record<string, string> };

const address = (i: number) => `user.${String(i).padStart(5, '0')}@${domain}`;
// Every seventh mailbox has MAPI off, so the shards carry both values.
const wanted = (i: number) => i % 7 !== 0;
const mailbox = (i: number) => ({
  apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox',
  metadata: { name: `u${String(i).padStart(5, '0')}`, namespace: ns },
  spec: { domainRef: 'scale', address: address(i), mapiEnabled: wanted(i) },
});

async function accessConfigMaps(): Promise<CM[]> {
  const names = ['scale-mapi-access', ...Array.from({ length: 16 }, (_, i) => `scale-mapi-access-${String(i).padStart(2, '0')}`)];
  const list = await world.k.json<{ items: CM[] }>(['get', 'configmaps', '-n', ns, ...names]);
  return list.items;
}
const dataBytes = (cm: CM) => Object.entries(cm.data ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
/** Address → effective value, over all 16 shards. */
function shardEntries(cms: CM[]): Map<string, boolean> {
  const all = new Map<string, boolean>();
  for (let s = 0; s < 16; s++) {
    const nn = String(s).padStart(2, '0');
    const cm = cms.find((c) => c.metadata.name === `scale-mapi-access-${nn}`);
    const entries = JSON.parse(cm?.data?.[`mailboxes-${nn}.json`] ?? '{}') as Record<string, boolean>;
    for (const [a, v] of Object.entries(entries)) {
      assert.equal(shardOf(a), s, `${a} is in the shard its hash names`);
      all.set(a, v);
    }
  }
  return all;
}
/** name → [observedGeneration, mapiEnabled, Ready] for every Mailbox, in one light request. */
async function mailboxRows(): Promise<string[][]> {
  const out = await world.k.ok(['get', 'mailboxes', '-n', ns, '--no-headers', '--chunk-size=2000',
    '-o', 'custom-columns=N:.metadata.name,G:.status.observedGeneration,M:.status.mapiEnabled,R:.status.conditions[?(@.type=="Ready")].status']);
  return out.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
}

before(async () => {
  world = await startWorld({ [domain]: [...toFront('mail', 'autodiscover')] });
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'mbx-scale', args: [...world.operatorArgs, '--log-level', 'info'] });
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
});

describe('10,000 Mailboxes in one MailDomain', () => {
  test('all reconciled into the 16 access shards, each under 1 MiB, every value right', { timeout: 1_500_000 }, async (t) => {
    await world.k.apply(e2eMailDomain({ name: 'scale', namespace: ns, domain, nameserver: world.dns.nameserver, replicas: 1 }));
    await waitFor(async () => (await world.k.tryGet<MD>('maildomain', ns, 'scale'))?.status?.rollout?.state === 'Available', { describe: 'MAPI of scale.mbx.test rolled out', timeoutMs: 180_000, intervalMs: 1_000 });

    const started = Date.now();
    for (let from = 0; from < COUNT; from += BATCH) {
      const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: Math.min(BATCH, COUNT - from) }, (_, j) => mailbox(from + j)) };
      await world.k.ok(['apply', '--server-side', '--field-manager', 'mbx-scale-test', '-f', '-'], JSON.stringify(list));
    }
    const appliedMs = Date.now() - started;
    t.diagnostic(`created ${COUNT} Mailboxes (kubectl apply --server-side, Lists of ${BATCH}) in ${(appliedMs / 1000).toFixed(1)} s`);

    let shardsCompleteMs: number | undefined;
    let observedMs: number | undefined;
    await waitFor(async () => {
      if (shardsCompleteMs === undefined && shardEntries(await accessConfigMaps()).size === COUNT) shardsCompleteMs = Date.now() - started;
      if (observedMs === undefined) {
        const rows = await mailboxRows();
        if (rows.length === COUNT && rows.every((r) => r[1] === '1')) observedMs = Date.now() - started;
      }
      return shardsCompleteMs !== undefined && observedMs !== undefined;
    }, { describe: `all ${COUNT} Mailboxes observed and listed in the shards`, timeoutMs: 1_200_000, intervalMs: 5_000 });
    t.diagnostic(`every Mailbox has status.observedGeneration after ${(observedMs! / 1000).toFixed(1)} s; the shards list all ${COUNT} after ${(shardsCompleteMs! / 1000).toFixed(1)} s (from the first apply)`);

    const readyMs = await waitFor(async () => {
      const rows = await mailboxRows();
      return rows.length === COUNT && rows.every((r) => r[3] === 'True') ? Date.now() - started : undefined;
    }, { describe: `all ${COUNT} Mailboxes Ready`, timeoutMs: 600_000, intervalMs: 5_000 });
    t.diagnostic(`every Mailbox Ready=True after ${(readyMs / 1000).toFixed(1)} s; after the last apply returned: observed +${((observedMs! - appliedMs) / 1000).toFixed(1)} s, shards complete +${((shardsCompleteMs! - appliedMs) / 1000).toFixed(1)} s, all Ready +${((readyMs - appliedMs) / 1000).toFixed(1)} s`);
    const metrics = (await fetchText(`${operator.metricsUrl()}/metrics`)).body;
    const metric = (re: RegExp) => metrics.split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    assert.ok(metric(/^controller_runtime_reconcile_total\{controller="mailbox"/) >= COUNT, 'every Mailbox was reconciled at least once (operator metrics)');
    t.diagnostic(`operator: ${metric(/^process_cpu_seconds_total /).toFixed(1)} s CPU, ${(metric(/^process_resident_memory_bytes /) / MiB).toFixed(0)} MiB RSS; reconciles: mailbox ${metric(/^controller_runtime_reconcile_total\{controller="mailbox"/)}, maildomain ${metric(/^controller_runtime_reconcile_total\{controller="maildomain"/)} (${(metric(/^controller_runtime_reconcile_time_seconds_sum\{controller="maildomain"/) / Math.max(1, metric(/^controller_runtime_reconcile_time_seconds_count\{controller="maildomain"/))).toFixed(3)} s each on average)`);

    const cms = await accessConfigMaps();
    assert.equal(cms.length, 17);
    const sizes = cms.map((cm) => ({ name: cm.metadata.name, bytes: dataBytes(cm) }));
    const total = sizes.reduce((n, s) => n + s.bytes, 0);
    const shards = sizes.filter((s) => /-\d\d$/.test(s.name));
    const largest = shards.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const smallest = shards.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    t.diagnostic(`access ConfigMaps: ${total} bytes of data in 17 ConfigMaps; largest shard ${largest.name} ${largest.bytes} bytes (${(100 * largest.bytes / MiB).toFixed(2)} % of 1 MiB), smallest ${smallest.bytes} bytes`);
    for (const s of sizes) assert.ok(s.bytes < MiB, `${s.name} is ${s.bytes} bytes, under 1 MiB`);

    const entries = shardEntries(cms);
    assert.equal(entries.size, COUNT);
    for (let i = 0; i < COUNT; i++) assert.equal(entries.get(address(i)), wanted(i), `${address(i)} listed with ${wanted(i)}`);
    const rows = await mailboxRows();
    for (const [name, , mapi] of rows) {
      const i = Number(name!.slice(1));
      assert.equal(mapi, String(wanted(i)), `${name}: status.mapiEnabled`);
    }
    // One toggle among 10,000: how long until the MAPI server's list and the status say it.
    const toggled = 1;
    assert.equal(wanted(toggled), true);
    const toggleStart = Date.now();
    await world.k.ok(['patch', 'mailbox', '-n', ns, mailbox(toggled).metadata.name, '--type=merge', '-p', '{"spec":{"mapiEnabled":false}}']);
    await waitFor(async () => shardEntries(await accessConfigMaps()).get(address(toggled)) === false, { describe: `${address(toggled)} false in its shard`, timeoutMs: 120_000, intervalMs: 200 });
    const listedMs = Date.now() - toggleStart;
    await waitFor(async () => {
      const o = await world.k.json<{ metadata: { generation: number }; status?: { observedGeneration?: number; mapiEnabled?: boolean; conditions?: Cond[] } }>(['get', 'mailbox', '-n', ns, mailbox(toggled).metadata.name]);
      return o.status?.observedGeneration === o.metadata.generation && o.status.mapiEnabled === false && o.status.conditions?.find((c) => c.type === 'Ready')?.reason === 'MapiDisabled';
    }, { describe: 'the toggled Mailbox reports MAPI off', timeoutMs: 120_000, intervalMs: 200 });
    t.diagnostic(`one Mailbox toggled among ${COUNT}: in its shard after ${(listedMs / 1000).toFixed(1)} s, status MapiDisabled after ${((Date.now() - toggleStart) / 1000).toFixed(1)} s`);
    const afterToggle = shardEntries(await accessConfigMaps());
    assert.equal(afterToggle.size, COUNT);
    for (let i = 0; i < COUNT; i++) assert.equal(afterToggle.get(address(i)), i === toggled ? false : wanted(i));

    const index = JSON.parse(cms.find((c) => c.metadata.name === 'scale-mapi-access')!.data!['access.json']!) as { mapiEnabled: boolean; shards: string[] };
    assert.equal(index.mapiEnabled, true);
    assert.equal(index.shards.length, 16);
  });
});
