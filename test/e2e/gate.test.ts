// End to end: operator process + control plane (kwok makes pods Ready) + cert-manager's
// controller + BIND on loopback + the ingress front stand-in. One MAPI server, many mail
// domains: the gate over the hosted domains, scenario by scenario, observed only through the
// API (status, Events, kubectl get) and the front.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eDomain, e2eServer, startWorld, toFront, type World, type Zones } from '../../src/dev/world.ts';

const ns = 'e2e-gate';
let world: World;
let operator: OperatorProcess;

type Cond = { type: string; status: string; reason: string; message: string };
type Obj = { metadata: { uid: string; generation: number }; status?: { observedGeneration?: number; conditions?: Cond[]; rollout?: { state: string; reason: string; message?: string }; domains?: { accepted: number; passing: number; blocking?: string[] } } };
type Dep = { spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } }; status?: { readyReplicas?: number } };

// The external hosts are always served; a domain's autodiscover host only once published.
const ALL = ['hoster.test', 'a.test', 'b.test', 'c.test', 'd.test', 'warn.test', 'rb.test', 'other.test'];
let published = new Set(['a.test', 'b.test', 'warn.test', 'rb.test']);
const zones = (): Zones => Object.fromEntries(ALL.map((d) => [d, [...toFront('mail'), ...(published.has(d) ? toFront('autodiscover') : [])]]));
const publish = async (...domains: string[]) => {
  published = new Set([...published, ...domains]);
  await world.setZones(zones());
};

const get = (kind: string, name: string) => world.k.tryGet<Obj>(kind, ns, name);
const cond = async (kind: string, name: string, type: string) => (await get(kind, name))?.status?.conditions?.find((c) => c.type === type);
const dep = (server: string) => world.k.tryGet<Dep>('deployment', ns, `${server}-mapi`);
const mapiImage = (d: Dep | undefined) => d?.spec.template.spec.containers.find((c) => c.name === 'mapi')?.image;
const podUids = async (server: string) => (await world.k.json<{ items: { metadata: { uid: string } }[] }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${server}`])).items.map((p) => p.metadata.uid).sort();
const events = async (name: string) => (await world.k.json<{ items: { reason: string; message: string; type: string }[] }>(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${name}`])).items;
const exists = async (kind: string, name: string) => (await world.k.tryGet(kind, ns, name)) !== undefined;
/** One sample of the operator's /metrics, e.g. metric('mapi_operator_gate_open', 'hoster'). */
const metric = async (name: string, server: string): Promise<number | undefined> => {
  const { body } = await fetchText(`${operator.metricsUrl()}/metrics`);
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`mapiserver="${ns}/${server}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

async function rolledOut(server: string, image: string, replicas = 2) {
  return waitFor(async () => {
    const d = await dep(server);
    const s = await get('mapiserver', server);
    return d && mapiImage(d) === image && d.spec.replicas === replicas && d.status?.readyReplicas === replicas && s?.status?.rollout?.state === 'Available' ? d : undefined;
  }, { describe: `${server}: ${replicas} ready pods of ${image} and rollout Available`, timeoutMs: 150_000, intervalMs: 500 });
}
const ready = (kind: string, name: string, status = 'True', timeoutMs = 120_000) =>
  waitFor(async () => {
    const c = await cond(kind, name, 'Ready');
    return c?.status === status ? c : undefined;
  }, { describe: `${kind} ${name} Ready=${status}`, timeoutMs, intervalMs: 500 });

before(async () => {
  world = await startWorld(zones());
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'e2e-gate', args: [...world.operatorArgs, '--progress-deadline', '25s'] });
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
});

describe('one MapiServer, many MailDomains', () => {
  const nameserver = () => world.dns.nameserver;

  test('domains: All — a domain without autodiscover holds the first rollout and is named; the others are Ready', async () => {
    await world.k.apply(e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.hoster.test', nameserver: nameserver() }));
    // c first: an Event reports a transition (here: the hold turning to DomainsNotReady), and
    // the status the current blocking domains. Applied last, c could join a hold already
    // reported for a and b (their certificates still being issued), with no news to report.
    for (const d of ['c', 'a', 'b']) await world.k.apply(e2eDomain({ name: d, namespace: ns, server: 'hoster', domain: `${d}.test` }));

    const held = await waitFor(async () => {
      const s = await get('mapiserver', 'hoster');
      const c = s?.status?.conditions?.find((x) => x.type === 'RolloutHeld');
      return c?.status === 'True' && c.reason === 'DomainsNotReady' && s?.status?.domains?.passing === 2 ? { c, s } : undefined;
    }, { describe: 'RolloutHeld=True naming the blocking domain, 2 of 3 passing', timeoutMs: 150_000, intervalMs: 500 });
    assert.match(held.c.message, /c\.test/);
    assert.deepEqual(held.s.status?.domains?.blocking, ['c.test']);
    assert.equal((await dep('hoster'))?.spec.replicas, 0, 'held at 0 replicas before the first rollout');
    assert.equal(await metric('mapi_operator_gate_open', 'hoster'), 0, 'the gate metric says held (the alert reads it)');

    const c = await ready('maildomain', 'c', 'False');
    assert.equal(c.reason, 'AutodiscoverNotPublished');
    assert.match(c.message, /autodiscover\.c\.test/);
    await ready('maildomain', 'a');
    await ready('maildomain', 'b');

    const printed = await world.k.ok(['get', 'mapisrv', '-n', ns, 'hoster']);
    assert.match(printed, /hoster\s+mail\.hoster\.test\s+2\/3\s+False\s+Held\s+DomainsNotReady/);
    const domains = await world.k.ok(['get', 'md', '-n', ns]);
    assert.match(domains, /c\s+c\.test\s+hoster\s+False\s+AutodiscoverNotPublished/);
    let seen: string[] = [];
    await waitFor(async () => {
      const all = await events('hoster');
      seen = all.map((e) => `${e.type}/${e.reason}: ${e.message}`);
      return all.some((e) => e.type === 'Warning' && /c\.test/.test(e.message));
    }, { describe: 'a Warning Event on the server naming c.test' }).catch((err: Error) => { throw new Error(`${err.message}; the server's Events: ${JSON.stringify(seen)}`); });
  });

  test('domains: Any — the same server rolls out', async () => {
    const server = e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.hoster.test', nameserver: nameserver(), domains: 'Any' });
    await world.k.apply(server);
    await rolledOut('hoster', 'registry.example/bm-mapi:5.3.0');
    await world.k.ok(['wait', '--for=condition=Ready', 'mapiserver/hoster', '-n', ns, '--timeout=90s']);
    assert.equal(await metric('mapi_operator_gate_open', 'hoster'), 1);
    // c still fails on its own: reported on the domain, not hidden by the server's verdict.
    assert.equal((await cond('maildomain', 'c', 'Ready'))?.status, 'False');
  });

  test('a new broken MailDomain on a running server (All) holds an upgrade; pods and the other domains are untouched', async () => {
    await publish('c.test');
    await ready('maildomain', 'c');
    await world.k.apply(e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.hoster.test', nameserver: nameserver(), domains: 'All' }));
    await ready('mapiserver', 'hoster');
    const uids = await podUids('hoster');
    assert.equal(uids.length, 2);

    await world.k.apply(e2eDomain({ name: 'd', namespace: ns, server: 'hoster', domain: 'd.test' }));
    await ready('maildomain', 'd', 'False');
    await world.k.apply(e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.hoster.test', nameserver: nameserver(), domains: 'All', image: 'registry.example/bm-mapi:5.4.0' }));
    const held = await waitFor(async () => {
      const s = await get('mapiserver', 'hoster');
      return s?.status?.observedGeneration === s?.metadata.generation && s?.status?.rollout?.state === 'Held' ? s : undefined;
    }, { describe: 'the upgrade held', timeoutMs: 60_000, intervalMs: 500 });
    assert.match(held.status?.rollout?.message ?? '', /d\.test/);
    const d = await dep('hoster');
    assert.equal(mapiImage(d), 'registry.example/bm-mapi:5.3.0', 'the running template is kept');
    assert.equal(d?.spec.replicas, 2, 'never scaled down');
    assert.deepEqual(await podUids('hoster'), uids, 'the running pods keep their UIDs');
    for (const m of ['a', 'b', 'c']) assert.equal((await cond('maildomain', m, 'Ready'))?.status, 'True', `${m} stays Ready`);

    // Publishing d lets the upgrade through by itself.
    await publish('d.test');
    await rolledOut('hoster', 'registry.example/bm-mapi:5.4.0');
  });

  test('deleting a MailDomain removes only its children', async () => {
    assert.ok(await exists('certificate', 'd-autodiscover'));
    assert.ok(await exists('ingress', 'd-autodiscover'));
    await world.k.ok(['delete', 'maildomain', 'd', '-n', ns, '--wait=true', '--timeout=60s']);
    await waitFor(async () => !(await exists('certificate', 'd-autodiscover')) && !(await exists('ingress', 'd-autodiscover')), { describe: "d's Certificate and Ingress collected", timeoutMs: 60_000 });
    for (const m of ['a', 'b', 'c']) {
      assert.ok(await exists('certificate', `${m}-autodiscover`), `${m}'s Certificate stays`);
      assert.ok(await exists('ingress', `${m}-autodiscover`), `${m}'s Ingress stays`);
    }
    for (const kind of ['certificate', 'ingress', 'service', 'deployment', 'poddisruptionbudget']) assert.ok(await exists(kind, 'hoster-mapi'), `the server's ${kind} stays`);
    await waitFor(async () => (await get('mapiserver', 'hoster'))?.status?.domains?.accepted === 3, { describe: 'the server now counts 3 domains' });
  });

  test('two MapiServers claiming one externalHost: the newer is Stalled naming the owner, with no certificate or route', async () => {
    await world.k.apply(e2eServer({ name: 'intruder', namespace: ns, externalHost: 'mail.hoster.test', nameserver: nameserver() }));
    const stalled = await waitFor(async () => {
      const c = await cond('mapiserver', 'intruder', 'Stalled');
      return c?.status === 'True' ? c : undefined;
    }, { describe: 'intruder Stalled', timeoutMs: 60_000 });
    assert.equal(stalled.reason, 'HostConflict');
    assert.match(stalled.message, new RegExp(`${ns}/hoster`));
    assert.equal(await exists('certificate', 'intruder-mapi'), false);
    assert.equal(await exists('ingress', 'intruder-mapi'), false);
    assert.equal((await dep('intruder'))?.spec.replicas ?? 0, 0);
    assert.equal((await cond('mapiserver', 'hoster', 'Ready'))?.status, 'True', 'the owner is unaffected');
  });

  test('mode Warn: a server whose domain fails rolls out and reports ChecksPassed=False', async () => {
    await world.k.apply(e2eServer({ name: 'warn', namespace: ns, externalHost: 'mail.warn.test', nameserver: nameserver(), mode: 'Warn' }));
    await world.k.apply(e2eDomain({ name: 'warn-other', namespace: ns, server: 'warn', domain: 'other.test' }));
    await rolledOut('warn', 'registry.example/bm-mapi:5.3.0');
    // Transient reasons may come first (the domain's certificate being issued); the verdict
    // that matters names the failing domain.
    const checks = await waitFor(async () => {
      const c = await cond('mapiserver', 'warn', 'ChecksPassed');
      return c?.status === 'False' && c.reason === 'DomainsNotReady' ? c : undefined;
    }, { describe: 'ChecksPassed=False/DomainsNotReady on the Warn server', timeoutMs: 90_000 });
    assert.match(checks.message, /other\.test/);
  });

  test('a release that does not answer is rolled back to the last good one (Degraded, Warning Event)', async () => {
    await world.k.apply(e2eServer({ name: 'rb', namespace: ns, externalHost: 'mail.rb.test', nameserver: nameserver() }));
    await world.k.apply(e2eDomain({ name: 'rb', namespace: ns, server: 'rb', domain: 'rb.test' }));
    await rolledOut('rb', 'registry.example/bm-mapi:5.3.0');
    await world.k.apply(e2eServer({ name: 'rb', namespace: ns, externalHost: 'mail.rb.test', nameserver: nameserver(), image: 'registry.example/bm-mapi:broken' }));
    const degraded = await waitFor(async () => {
      const c = await cond('mapiserver', 'rb', 'Degraded');
      return c?.status === 'True' && c.reason === 'RolledBack' ? c : undefined;
    }, { describe: 'rolled back and Degraded', timeoutMs: 180_000, intervalMs: 1_000 });
    assert.match(degraded.message, /broken/);
    await waitFor(async () => mapiImage(await dep('rb')) === 'registry.example/bm-mapi:5.3.0', { describe: 'the last good image is back' });
    await waitFor(async () => (await events('rb')).some((e) => e.type === 'Warning' && e.reason === 'RolledBack'), { describe: 'a Warning Event RolledBack' });
    assert.equal(await metric('mapi_operator_rollbacks_total', 'rb'), 1, 'one rollback counted (the alert reads it)');
  });
});
