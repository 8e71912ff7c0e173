// End to end: operator process + control plane (kwok makes pods Ready) + cert-manager's
// controller + BIND on loopback + the ingress front. The rollout gate of DESIGN.md, scenario
// by scenario, observed only through the API (status, Events, kubectl get md) and the front.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eMailDomain, startWorld, toFront, type World, type Zones } from '../../src/dev/world.ts';

const ns = 'e2e-gate';
let world: World;
let operator: OperatorProcess;

type Cond = { type: string; status: string; reason: string; message: string };
type MD = { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Cond[]; rollout?: { state: string; reason: string; message?: string; currentImage?: string } } };
type Dep = { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status?: { readyReplicas?: number; updatedReplicas?: number } };

// Every domain's external host is served; autodiscover is published only where a scenario says.
const zones = (published: string[]): Zones => {
  const all = ['held.test', 'alias-any.test', 'alias-any-2.test', 'alias-all.test', 'alias-all-2.test', 'blip.test', 'warn.test', 'rollback.test'];
  return Object.fromEntries(all.map((d) => [d, [...toFront('mail'), ...(published.includes(d) ? ['autodiscover IN CNAME mail'] : [])]]));
};
const PUBLISHED = ['alias-any-2.test', 'alias-all-2.test', 'blip.test', 'rollback.test'];

const md = (name: string) => world.k.tryGet<MD>('maildomain', ns, name);
const cond = async (name: string, type: string) => (await md(name))?.status?.conditions?.find((c) => c.type === type);
const dep = (name: string) => world.k.tryGet<Dep>('deployment', ns, `${name}-mapi`);
const imageOf = (d: Dep | undefined) => d?.spec.template.spec.containers[0]?.image;
const podUids = async (name: string) => (await world.k.json<{ items: { metadata: { uid: string } }[] }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${name}`])).items.map((p) => p.metadata.uid).sort();
const events = async (name: string) => (await world.k.json<{ items: { reason: string; message: string; type: string }[] }>(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`])).items;

async function rolledOut(name: string, image: string, replicas = 2) {
  return waitFor(async () => {
    const d = await dep(name);
    const m = await md(name);
    return d && imageOf(d) === image && d.spec.replicas === replicas && d.status?.readyReplicas === replicas && m?.status?.rollout?.state === 'Available' ? d : undefined;
  }, { describe: `${name}: ${replicas} ready pods of ${image} and rollout Available`, timeoutMs: 120_000, intervalMs: 500 });
}

before(async () => {
  world = await startWorld(zones(PUBLISHED));
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'e2e-gate', args: [...world.operatorArgs, '--progress-deadline', '25s'] });
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
});

describe('the rollout gate', () => {
  test('no autodiscover record: held at 0 replicas, the reason in status, Events and kubectl get md', async () => {
    await world.k.apply(e2eMailDomain({ name: 'held', namespace: ns, domain: 'held.test', nameserver: world.dns.nameserver }));
    await waitFor(async () => (await cond('held', 'CertificateReady'))?.status === 'True', { describe: 'cert-manager issues the certificate', timeoutMs: 90_000 });
    const held = await waitFor(async () => {
      const c = await cond('held', 'AutodiscoverPublished');
      const rollout = (await md('held'))?.status?.rollout;
      return c?.status === 'False' && rollout?.reason === 'AutodiscoverNotPublished' ? c : undefined;
    }, { describe: 'AutodiscoverPublished=False and the rollout held for it', timeoutMs: 90_000 });
    assert.match(held.message, /autodiscover\.held\.test/);
    const rolloutHeld = await cond('held', 'RolloutHeld');
    assert.equal(rolloutHeld?.status, 'True');
    assert.equal((await dep('held'))?.spec.replicas, 0);
    assert.equal((await cond('held', 'CertificateReady'))?.status, 'True', 'cert-manager issued the certificate');
    const printed = await world.k.ok(['get', 'md', '-n', ns, 'held', '-o', 'wide']);
    assert.match(printed, /held\s+held\.test\s+mail\.held\.test\s+False\s+Held\s+AutodiscoverNotPublished/);
    await waitFor(async () => (await events('held')).some((e) => e.type === 'Warning' && /autodiscover\.held\.test/.test(e.message)), { describe: 'a Warning Event naming the host' });

    // Publishing the record opens the gate by itself: no spec change needed.
    await world.setZones(zones([...PUBLISHED, 'held.test']));
    await rolledOut('held', 'registry.example/bm-mapi:4.1.0');
    await world.k.ok(['wait', '--for=condition=Ready', 'maildomain/held', '-n', ns, '--timeout=60s']);
    assert.equal((await cond('held', 'RolloutHeld'))?.status, 'False');
  });

  test('autodiscover published only for an alias: require Any rolls out, require All holds', async () => {
    await world.k.apply(e2eMailDomain({ name: 'any', namespace: ns, domain: 'alias-any.test', aliases: ['alias-any-2.test'], nameserver: world.dns.nameserver }));
    await world.k.apply(e2eMailDomain({ name: 'all', namespace: ns, domain: 'alias-all.test', aliases: ['alias-all-2.test'], require: 'All', nameserver: world.dns.nameserver }));
    await rolledOut('any', 'registry.example/bm-mapi:4.1.0');
    assert.equal((await cond('any', 'ChecksPassed'))?.status, 'True');
    const all = await waitFor(async () => {
      const c = await cond('all', 'ChecksPassed');
      return c?.status === 'False' ? c : undefined;
    }, { describe: 'require All: ChecksPassed=False', timeoutMs: 60_000 });
    assert.match(all.message, /alias-all\.test/);
    assert.equal((await dep('all'))?.spec.replicas, 0);
    assert.equal((await md('all'))?.status?.rollout?.state, 'Held');
  });

  test('image changed while DNS is broken: the new template is held, the running pods are untouched', async () => {
    await world.k.apply(e2eMailDomain({ name: 'blip', namespace: ns, domain: 'blip.test', nameserver: world.dns.nameserver }));
    await rolledOut('blip', 'registry.example/bm-mapi:4.1.0');
    const pods = await podUids('blip');
    await world.setZones(zones(PUBLISHED.filter((d) => d !== 'blip.test').concat('held.test')));
    await waitFor(async () => (await cond('blip', 'ChecksPassed'))?.status === 'False', { describe: 'the DNS break is seen', timeoutMs: 60_000 });
    assert.equal((await dep('blip'))?.spec.replicas, 2, 'a DNS blip never scales a running MAPI service down');
    await world.k.apply(e2eMailDomain({ name: 'blip', namespace: ns, domain: 'blip.test', image: 'registry.example/bm-mapi:4.2.0', nameserver: world.dns.nameserver }));
    const held = await waitFor(async () => {
      const m = await md('blip');
      return m?.status?.observedGeneration === 2 && m.status.rollout?.state === 'Held' ? m : undefined;
    }, { describe: 'the new image held', timeoutMs: 60_000 });
    assert.match(held.status?.rollout?.message ?? '', /bm-mapi:4\.2\.0.*held/);
    assert.equal(imageOf(await dep('blip')), 'registry.example/bm-mapi:4.1.0');
    assert.deepEqual(await podUids('blip'), pods, 'the same pods keep running');
    // DNS comes back: the held image rolls out.
    await world.setZones(zones([...PUBLISHED, 'held.test']));
    await rolledOut('blip', 'registry.example/bm-mapi:4.2.0');
  });

  test('mode Warn: rolls out although the checks fail, and says so', async () => {
    await world.k.apply(e2eMailDomain({ name: 'warn', namespace: ns, domain: 'warn.test', mode: 'Warn', nameserver: world.dns.nameserver }));
    await waitFor(async () => (await dep('warn'))?.status?.readyReplicas === 2, { describe: 'warn: pods ready', timeoutMs: 120_000 });
    // Once the certificate is issued, what still fails is autodiscover.
    const checks = await waitFor(async () => {
      const c = await cond('warn', 'ChecksPassed');
      return c?.status === 'False' && c.reason === 'AutodiscoverNotPublished' ? c : undefined;
    }, { describe: 'ChecksPassed=False for autodiscover', timeoutMs: 90_000 });
    assert.match(checks.message, /autodiscover\.warn\.test/);
    assert.equal((await cond('warn', 'RolloutHeld'))?.status, 'False');
  });

  test('a new image whose endpoints do not answer is rolled back to the previous one, Degraded, with an Event', async () => {
    await world.k.apply(e2eMailDomain({ name: 'rollback', namespace: ns, domain: 'rollback.test', nameserver: world.dns.nameserver }));
    await rolledOut('rollback', 'registry.example/bm-mapi:4.1.0');
    await world.k.apply(e2eMailDomain({ name: 'rollback', namespace: ns, domain: 'rollback.test', image: 'registry.example/bm-mapi:broken', nameserver: world.dns.nameserver }));
    await waitFor(async () => imageOf(await dep('rollback')) === 'registry.example/bm-mapi:broken', { describe: 'the broken image goes out first', timeoutMs: 60_000 });
    const degraded = await waitFor(async () => {
      const c = await cond('rollback', 'Degraded');
      return c?.status === 'True' ? c : undefined;
    }, { describe: 'Degraded=True after the progress deadline', timeoutMs: 150_000, intervalMs: 1_000 });
    assert.match(degraded.message, /rolled back/);
    assert.match(degraded.message, /registry\.example\/bm-mapi:broken/);
    assert.match(degraded.message, /registry\.example\/bm-mapi:4\.1\.0/);
    await waitFor(async () => {
      const d = await dep('rollback');
      return imageOf(d) === 'registry.example/bm-mapi:4.1.0' && d?.status?.readyReplicas === 2 && d.status.updatedReplicas === 2;
    }, { describe: 'the previous release running again', timeoutMs: 60_000 });
    assert.equal((await md('rollback'))?.status?.rollout?.state, 'RolledBack');
    await waitFor(async () => (await events('rollback')).some((e) => e.reason === 'RolledBack' && e.type === 'Warning'), { describe: 'a RolledBack Warning Event' });
    assert.ok(world.front.log.some((l) => l.host.endsWith('rollback.test') && l.status === 503 && l.image?.includes('broken')), 'the front answered 503 for the broken release');
  });
});
