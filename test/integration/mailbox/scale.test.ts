// 10,000 Mailboxes on one MapiServer serving two MailDomains, against the real control plane
// with the operator as a process and a server whose MAPI service is rolled out (cert-manager,
// BIND, the front, kwok pods). Measures, and prints for the note: how long until every
// Mailbox is observed and Ready and the server's access list carries them all, how many access
// ConfigMaps the content needs and how big they are against a ConfigMap's 1 MiB, how long one
// toggle among 10,000 takes to reach its shard, and the operator's CPU, RSS and reconciles
// from its /metrics. The figures are reported, not asserted: only correctness is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { e2eDomain, e2eServer, startWorld, toFront, type World } from '../../../src/dev/world.ts';
import { dataBytes, onlyNeeded, readAccess, shardConfigMapOf, type GatekeeperView } from './gatekeeper-view.ts';

const ns = 'mbx-scale';
const SERVER = 'scale';
const DOMAINS = ['a.scale.mbx.test', 'b.scale.mbx.test'] as const;
const COUNT = 10_000;
const BATCH = 100;
const CLIENTS = 8;
// Mailbox status writes wait on the apiserver, not on the operator's CPU: an operator sized
// for 10,000 Mailboxes reconciles more than the default 4 at once (--concurrency).
const OPERATOR_CONCURRENCY = 16;
const MiB = 1024 * 1024;
let world: World;
let operator: OperatorProcess;

type Cond = { type: string; status: string; reason: string };
type Srv = { status?: { rollout?: { state: string } } };

// Even mailboxes in the first domain, odd in the second; every seventh has MAPI off, so the
// shards carry both values.
const domainOf = (i: number) => DOMAINS[i % 2]!;
const mailDomainOf = (i: number) => (i % 2 === 0 ? 'dom-a' : 'dom-b');
const address = (i: number) => `user.${String(i).padStart(5, '0')}@${domainOf(i)}`;
const wanted = (i: number) => i % 7 !== 0;
const nameOf = (i: number) => `u${String(i).padStart(5, '0')}`;
const mailbox = (i: number) => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
  metadata: { name: nameOf(i), namespace: ns },
  spec: { domainRef: mailDomainOf(i), address: address(i), mapiEnabled: wanted(i) },
});

const access = () => readAccess(world.k, ns, SERVER);
/** name → [observedGeneration, mapiEnabled, Ready] for every Mailbox, in one light request. */
async function mailboxRows(): Promise<string[][]> {
  const out = await world.k.ok(['get', 'mailboxes', '-n', ns, '--no-headers', '--chunk-size=2000',
    '-o', 'custom-columns=N:.metadata.name,G:.status.observedGeneration,M:.status.mapiEnabled,R:.status.conditions[?(@.type=="Ready")].status']);
  return out.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
}
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

before(async () => {
  world = await startWorld(Object.fromEntries([['scale-host.mbx.test', toFront('mail')], ...DOMAINS.map((d) => [d, toFront('mail', 'autodiscover')])]));
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'mbx-scale', args: [...world.operatorArgs, '--log-level', 'info', '--concurrency', String(OPERATOR_CONCURRENCY)] });
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
});

describe('10,000 Mailboxes on one MapiServer (two MailDomains)', () => {
  test('all reconciled into the server access list, in only the ConfigMaps the content needs, each under 1 MiB, every value right; one toggle rewrites only its shard', { timeout: 1_500_000 }, async (t) => {
    const report = (line: string) => t.diagnostic(line);
    await world.k.apply(e2eServer({ name: SERVER, namespace: ns, externalHost: 'mail.scale-host.mbx.test', nameserver: world.dns.nameserver, replicas: 1 }));
    await world.k.apply(e2eDomain({ name: 'dom-a', namespace: ns, server: SERVER, domain: DOMAINS[0] }));
    await world.k.apply(e2eDomain({ name: 'dom-b', namespace: ns, server: SERVER, domain: DOMAINS[1] }));
    await waitFor(async () => (await world.k.tryGet<Srv>('mapiserver', ns, SERVER))?.status?.rollout?.state === 'Available', { describe: `MapiServer ${SERVER} rolled out`, timeoutMs: 180_000, intervalMs: 1_000 });

    // kubectl applies a List one object at a time: a few clients side by side, like a
    // provisioning pipeline, each List small enough for the helper's 60 s kubectl time-out on a busy machine.
    const started = Date.now();
    const batches = Array.from({ length: Math.ceil(COUNT / BATCH) }, (_, b) => b * BATCH);
    const applyFrom = async (): Promise<void> => {
      for (let from = batches.shift(); from !== undefined; from = batches.shift()) {
        const list = { apiVersion: 'v1', kind: 'List', items: Array.from({ length: Math.min(BATCH, COUNT - from) }, (_, j) => mailbox(from + j)) };
        await world.k.ok(['apply', '--server-side', '--field-manager', 'mbx-scale-test', '-f', '-'], JSON.stringify(list));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, applyFrom));
    const appliedMs = Date.now() - started;
    report(`created ${COUNT} Mailboxes in 2 MailDomains (kubectl apply --server-side, Lists of ${BATCH}, ${CLIENTS} clients at a time) in ${seconds(appliedMs)}`);

    let listedMs: number | undefined;
    let observedMs: number | undefined;
    await waitFor(async () => {
      if (listedMs === undefined && (await access()).entries.size === COUNT) listedMs = Date.now() - started;
      if (observedMs === undefined) {
        const rows = await mailboxRows();
        if (rows.length === COUNT && rows.every((r) => r[1] === '1')) observedMs = Date.now() - started;
      }
      return listedMs !== undefined && observedMs !== undefined;
    }, { describe: `all ${COUNT} Mailboxes observed and in the access list`, timeoutMs: 900_000, intervalMs: 5_000 });
    const readyMs = await waitFor(async () => {
      const rows = await mailboxRows();
      return rows.length === COUNT && rows.every((r) => r[3] === 'True') ? Date.now() - started : undefined;
    }, { describe: `all ${COUNT} Mailboxes Ready`, timeoutMs: 300_000, intervalMs: 5_000 });
    report(`from the first apply: every Mailbox observed after ${seconds(observedMs!)}, the access list carries all ${COUNT} after ${seconds(listedMs!)}, every Mailbox Ready=True after ${seconds(readyMs)}`);
    report(`after the last apply returned: observed +${seconds(observedMs! - appliedMs)}, listed +${seconds(listedMs! - appliedMs)}, all Ready +${seconds(readyMs - appliedMs)}`);

    const metrics = (await fetchText(`${operator.metricsUrl()}/metrics`)).body;
    const metric = (re: RegExp) => metrics.split('\n').filter((l) => re.test(l)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const reconciles = (c: string) => metric(new RegExp(`^controller_runtime_reconcile_total\\{controller="${c}"`));
    const meanSeconds = (c: string) => metric(new RegExp(`^controller_runtime_reconcile_time_seconds_sum\\{controller="${c}"`)) / Math.max(1, metric(new RegExp(`^controller_runtime_reconcile_time_seconds_count\\{controller="${c}"`)));
    assert.ok(reconciles('mailbox') >= COUNT, 'every Mailbox was reconciled at least once (operator metrics)');
    report(`operator (--concurrency ${OPERATOR_CONCURRENCY}): ${metric(/^process_cpu_seconds_total /).toFixed(1)} s CPU, ${(metric(/^process_resident_memory_bytes /) / MiB).toFixed(0)} MiB RSS; ` +
      `reconciles: mailbox ${reconciles('mailbox')} (${(1000 * meanSeconds('mailbox')).toFixed(1)} ms mean), mapiserver ${reconciles('mapiserver')} (${(1000 * meanSeconds('mapiserver')).toFixed(1)} ms mean), maildomain ${reconciles('maildomain')}`);

    // The list, read as the gatekeeper reads it (readAccess asserts every address is in shard shardOf(address, count)).
    const full = await waitFor(async () => {
      const a = await access();
      return onlyNeeded(a) ? a : undefined;
    }, { describe: 'only the ConfigMaps the content needs', timeoutMs: 30_000, intervalMs: 500 });
    const sizes = [...full.cms.values()].map((cm) => ({ name: cm.metadata.name, bytes: dataBytes(cm) }));
    const total = sizes.reduce((n, s) => n + s.bytes, 0);
    const shards = sizes.filter((s) => /-\d+$/.test(s.name));
    const largest = (shards.length ? shards : sizes).reduce((a, b) => (b.bytes > a.bytes ? b : a));
    report(`access list: shards.count ${full.count}, ${full.cms.size} ConfigMaps (${[...full.cms.keys()].sort().join(', ')}), ${total} bytes of data; ` +
      `largest ${largest.name} ${largest.bytes} bytes = ${(100 * largest.bytes / MiB).toFixed(1)} % of 1 MiB`);
    for (const s of sizes) assert.ok(s.bytes < MiB, `${s.name} is ${s.bytes} bytes, under 1 MiB`);
    assert.ok(full.count > 1, `10,000 mailboxes need more than one shard of 256 KiB (${total} bytes)`);
    assert.deepEqual(Object.keys(full.domains).sort(), [...DOMAINS]);
    assert.equal(full.entries.size, COUNT);
    for (let i = 0; i < COUNT; i++) assert.equal(full.entries.get(address(i)), wanted(i), `${address(i)} listed with ${wanted(i)}`);
    for (const [name, , mapi] of await mailboxRows()) assert.equal(mapi, String(wanted(Number(name!.slice(1)))), `${name}: status.mapiEnabled`);

    // One toggle among 10,000: how long until its shard says it, and that only that ConfigMap moved.
    const toggled = 1;
    assert.equal(wanted(toggled), true);
    const shardCm = shardConfigMapOf(SERVER, address(toggled), full.count);
    const toggleStart = Date.now();
    await world.k.ok(['patch', 'mailbox', '-n', ns, nameOf(toggled), '--type=merge', '-p', '{"spec":{"mapiEnabled":false}}']);
    const after: GatekeeperView = await waitFor(async () => {
      const a = await access();
      return a.entries.get(address(toggled)) === false ? a : undefined;
    }, { describe: `${address(toggled)} false in its shard`, timeoutMs: 120_000, intervalMs: 200 });
    const inShardMs = Date.now() - toggleStart;
    await waitFor(async () => {
      const o = await world.k.json<{ metadata: { generation: number }; status?: { observedGeneration?: number; mapiEnabled?: boolean; conditions?: Cond[] } }>(['get', 'mailbox', '-n', ns, nameOf(toggled)]);
      return o.status?.observedGeneration === o.metadata.generation && o.status.mapiEnabled === false && o.status.conditions?.find((c) => c.type === 'Ready')?.reason === 'MapiDisabled';
    }, { describe: 'the toggled Mailbox reports MAPI off', timeoutMs: 120_000, intervalMs: 200 });
    report(`one Mailbox toggled among ${COUNT}: in its shard (${shardCm}) after ${seconds(inShardMs)}, its status MapiDisabled after ${seconds(Date.now() - toggleStart)}`);
    assert.deepEqual(after.decide(address(toggled)), { allow: false, reason: 'mailbox-disabled' });
    for (const [name, rv] of full.versions) {
      if (name === shardCm) assert.notEqual(after.versions.get(name), rv, `${name} (the toggled mailbox's shard) rewritten`);
      else assert.equal(after.versions.get(name), rv, `${name} untouched by one toggle in another shard`);
    }
    assert.equal(after.entries.size, COUNT);
    for (let i = 0; i < COUNT; i++) assert.equal(after.entries.get(address(i)), i === toggled ? false : wanted(i));
  });
});
