// End to end: Mailboxes switch MAPI on and off per mailbox and per domain, on the v1alpha2
// model: one MapiServer serves several MailDomains, and its access list (docs/access-format.md)
// carries every domain and mailbox it serves; the gatekeeper in each MAPI pod enforces it.
// The operator runs as a process against the control plane (kwok makes pods Ready), with
// cert-manager's controller, BIND and the ingress front. Observed only through the API:
// Mailbox status and printer columns, the server's access ConfigMaps read as the gatekeeper
// reads them, the Deployment, its pods, the Ingresses and Certificates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eDomain, e2eServer, startWorld, toFront, type World, type Zones } from '../../src/dev/world.ts';
import { onlyNeeded, readAccess, shardConfigMapOf, type GatekeeperView } from '../integration/mailbox/gatekeeper-view.ts';

const ns = 'mbx-e2e';
let world: World;
let operator: OperatorProcess;

const HOSTER = 'hoster.mbx.test';
const SECOND = 'second.mbx.test';
const ON = 'on.mbx.test';
const ALIAS = 'on-alias.mbx.test';
const LATE = 'late.mbx.test';
const READY = 'ready.mbx.test';
let latePublished = false;
const zones = (): Zones => ({
  [HOSTER]: toFront('mail'),
  [SECOND]: toFront('mail'),
  [ON]: toFront('mail', 'autodiscover'),
  [ALIAS]: toFront('autodiscover'),
  [LATE]: toFront('mail', ...(latePublished ? ['autodiscover'] : [])),
  [READY]: toFront('mail', 'autodiscover'),
});

type Cond = { type: string; status: string; reason: string; message: string };
type Meta = { uid: string; name: string; generation?: number; resourceVersion: string; deletionTimestamp?: string };
type Mbx = { metadata: Meta; status?: { observedGeneration?: number; mapiEnabled?: boolean; conditions?: Cond[] } };
type Srv = { status?: { rollout?: { state: string; reason?: string }; conditions?: Cond[] } };
type Volume = { name: string; projected?: { sources: { configMap?: { name: string; optional?: boolean } }[] } };
type PodSpec = { volumes?: Volume[]; containers: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[] }[] };
type Dep = { metadata: Meta; spec: { replicas: number; template: { spec: PodSpec } }; status?: { readyReplicas?: number } };
type Ing = { metadata: Meta; spec: { rules: { host: string; http: { paths: { path: string }[] } }[] } };

const server = (name: string, externalHost: string, replicas = 2) => e2eServer({ name, namespace: ns, externalHost, nameserver: world.dns.nameserver, replicas });
const onDomain = (mapiEnabled = true) => e2eDomain({ name: 'on', namespace: ns, server: 'hoster', domain: ON, aliases: [ALIAS], mapiEnabled });
/** spec.mapiEnabled left out when undefined: the schema's default (true) applies. */
const mailbox = (name: string, domainRef: string, address: string, mapiEnabled?: boolean) => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { name, namespace: ns },
  spec: { domainRef, address, ...(mapiEnabled === undefined ? {} : { mapiEnabled }) },
});

const get = <T>(kind: string, name: string) => world.k.tryGet<T>(kind, ns, name);
const cond = (o: { status?: { conditions?: Cond[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const access = (srv = 'hoster') => readAccess(world.k, ns, srv);

/** Waits until the Mailbox's status says what `want` describes (Ready and reason, effective MAPI). */
async function mailboxIs(name: string, want: { ready: 'True' | 'False'; reason: string; mapi?: boolean; stalled?: boolean }, timeoutMs = 60_000): Promise<Mbx> {
  return waitFor(async () => {
    const o = await get<Mbx>('mailbox', name);
    const ready = cond(o, 'Ready');
    const ok = o?.status?.observedGeneration === o?.metadata.generation && ready?.status === want.ready && ready.reason === want.reason &&
      (want.mapi === undefined || o?.status?.mapiEnabled === want.mapi) &&
      (want.stalled === undefined || (cond(o, 'Stalled')?.status === 'True') === want.stalled);
    return ok ? o : undefined;
  }, { describe: `Mailbox ${name}: Ready=${want.ready}/${want.reason}${want.mapi === undefined ? '' : `, mapiEnabled ${want.mapi}`}`, timeoutMs, intervalMs: 300 });
}

/**
 * Waits until the server's list carries exactly `mailboxes` (address → effective value) and
 * `domains` (domain → [switch, MailDomain]), in only the ConfigMaps its size needs.
 */
async function accessIs(want: { mailboxes: Record<string, boolean>; domains: Record<string, [boolean, string]> }, srv = 'hoster'): Promise<GatekeeperView> {
  return waitFor(async () => {
    const a = await access(srv);
    const domains = Object.fromEntries(Object.entries(a.domains).map(([d, e]) => [d, [e.mapiEnabled, e.mailDomain]]));
    const same = onlyNeeded(a) && a.entries.size === Object.keys(want.mailboxes).length &&
      Object.entries(want.mailboxes).every(([k, v]) => a.entries.get(k) === v) &&
      JSON.stringify(Object.entries(domains).sort()) === JSON.stringify(Object.entries(want.domains).sort());
    return same ? a : undefined;
  }, { describe: `${srv}: access list ${JSON.stringify(want)}`, timeoutMs: 60_000, intervalMs: 300 });
}

async function rolledOut(name: string, replicas = 2) {
  return waitFor(async () => {
    const d = await get<Dep>('deployment', `${name}-mapi`);
    const s = await get<Srv>('mapiserver', name);
    return d?.spec.replicas === replicas && d.status?.readyReplicas === replicas && s?.status?.rollout?.state === 'Available' ? d : undefined;
  }, { describe: `${name}: ${replicas} ready MAPI pods and rollout Available`, timeoutMs: 180_000, intervalMs: 500 });
}
const pods = async (srv: string) => (await world.k.json<{ items: { metadata: Meta; spec: PodSpec }[] }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${srv}`])).items;
const ingressPaths = (ing: Ing | undefined) => Object.fromEntries((ing?.spec.rules ?? []).map((r) => [r.host, r.http.paths.map((p) => p.path).sort()]));

/** What a Mailbox or a domain switch must not move: the pods, the Deployment, the Ingresses and Certificates. */
async function workloadFingerprint() {
  const d = (await get<Dep>('deployment', 'hoster-mapi'))!;
  const spec = async (kind: string, name: string) => {
    const o = await get<{ metadata: Meta; spec: unknown }>(kind, name);
    assert.ok(o, `${kind} ${name} exists`);
    return `${o.metadata.uid}@${o.metadata.generation}:${JSON.stringify(o.spec)}`;
  };
  return {
    podUids: (await pods('hoster')).map((p) => p.metadata.uid).sort(),
    deploymentGeneration: d.metadata.generation,
    template: JSON.stringify(d.spec.template),
    serverIngress: await spec('ingress', 'hoster-mapi'),
    serverCertificate: await spec('certificate', 'hoster-mapi'),
    domainIngress: await spec('ingress', 'on-autodiscover'),
    domainCertificate: await spec('certificate', 'on-autodiscover'),
  };
}

before(async () => {
  world = await startWorld(zones());
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'mbx-e2e', args: world.operatorArgs });
});

after(async () => {
  const code = await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${operator?.logFile})`);
});

describe('Mailbox: MAPI on and off per mailbox and per domain, one access list per MapiServer', () => {
  test('a Mailbox created before its MailDomain waits (MailDomainNotFound, then MailDomainNotReady while the server is held) and becomes Ready by itself', async () => {
    await world.k.apply(mailbox('early', 'late', 'early.bird@late.mbx.test'));
    const notFound = await mailboxIs('early', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    assert.match(cond(notFound, 'Ready')!.message, /MailDomain late does not exist/);
    assert.equal(cond(notFound, 'Reconciling')?.status, 'True', 'waiting is Reconciling, not Stalled (kstatus)');

    // The server and the domain arrive, but the domain's autodiscover is not published: the
    // first rollout is held (domains: All) and names it.
    await world.k.apply(server('hoster', `mail.${HOSTER}`));
    await world.k.apply(e2eDomain({ name: 'late', namespace: ns, server: 'hoster', domain: LATE }));
    // (Held first for the server's own certificate, then for the domain alone.)
    await waitFor(async () => {
      const c = cond(await get<Srv>('mapiserver', 'hoster'), 'RolloutHeld');
      return c?.status === 'True' && c.reason === 'DomainsNotReady' && /late\.mbx\.test/.test(c.message) ? c : undefined;
    }, { describe: 'hoster: first rollout held (DomainsNotReady), naming late.mbx.test', timeoutMs: 120_000, intervalMs: 500 });
    assert.equal((await get<Dep>('deployment', 'hoster-mapi'))?.spec.replicas ?? 0, 0, 'no MAPI pod before the gate opens');
    const notReady = await mailboxIs('early', { ready: 'False', reason: 'MailDomainNotReady', mapi: true, stalled: false });
    assert.match(cond(notReady, 'Ready')!.message, /not rolled out yet/);
    // The list is in place before the first pod: the Mailbox is in it already.
    await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true }, domains: { [LATE]: [true, 'late'] } });

    // Publishing DNS opens the gate; the Mailbox follows without anyone touching it.
    latePublished = true;
    await world.setZones(zones());
    await rolledOut('hoster');
    const ready = await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false }, 90_000);
    assert.equal(ready.metadata.generation, 1, 'the Mailbox was never edited');
    await world.k.ok(['wait', '--for=condition=Ready', 'mailbox/early', '-n', ns, '--timeout=30s']);
  });

  test('the same when DNS is already published: the Mailbox waits for its MailDomain, then for the MapiServer, and becomes Ready by itself; deleting that server collects its access ConfigMaps', async () => {
    await world.k.apply(mailbox('first', 'ready', 'first.user@ready.mbx.test', false));
    await mailboxIs('first', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    // The MailDomain names a MapiServer that does not exist yet.
    await world.k.apply(e2eDomain({ name: 'ready', namespace: ns, server: 'second', domain: READY }));
    const waiting = await mailboxIs('first', { ready: 'False', reason: 'MailDomainNotReady', mapi: false, stalled: false });
    assert.match(cond(waiting, 'Ready')!.message, /MapiServer second .*does not exist/);

    await world.k.apply(server('second', `mail.${SECOND}`, 1));
    await rolledOut('second', 1);
    const ready = await mailboxIs('first', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false }, 90_000);
    assert.equal(ready.metadata.generation, 1, 'the Mailbox was never edited');
    await accessIs({ mailboxes: { 'first.user@ready.mbx.test': false }, domains: { [READY]: [true, 'ready'] } }, 'second');
    // Each server's list is its own.
    assert.deepEqual([...(await access('hoster')).entries.keys()], ['early.bird@late.mbx.test']);

    await world.k.ok(['delete', 'maildomain', '-n', ns, 'ready', '--wait=true', '--timeout=60s']);
    await mailboxIs('first', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    await accessIs({ mailboxes: {}, domains: {} }, 'second');
    const owned = await access('second');
    for (const [name, cm] of owned.cms) assert.ok(cm.metadata.ownerReferences?.some((o) => o.kind === 'MapiServer' && o.name === 'second'), `${name} owned by MapiServer second`);
    await world.k.ok(['delete', 'mapiserver', '-n', ns, 'second', '--wait=true', '--timeout=60s']);
    await waitFor(async () => (await access('second')).cms.size === 0, { describe: "second's access ConfigMaps garbage-collected", timeoutMs: 90_000, intervalMs: 1_000 });
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'first', '--wait=true', '--timeout=30s']);
  });

  test("two MailDomains on one server share one access list (3 mailboxes → 1 ConfigMap), mounted read-only into the MAPI pods without subPath; kubectl get mbx is the Get-CASMailbox view", async () => {
    await world.k.apply(onDomain());
    await waitFor(async () => cond(await get<Srv>('maildomain', 'on'), 'Ready')?.status === 'True', { describe: 'MailDomain on Ready', timeoutMs: 120_000, intervalMs: 500 });
    const dep = await rolledOut('hoster');
    await world.k.apply(mailbox('ken', 'on', 'ken.sanchez@on.mbx.test', true));
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', false));
    await mailboxIs('ken', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    const pilar = await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false });
    assert.match(cond(pilar, 'Ready')!.message, /switched off for this mailbox/);

    const domains = { [LATE]: [true, 'late'] as [boolean, string], [ON]: [true, 'on'] as [boolean, string], [ALIAS]: [true, 'on'] as [boolean, string] };
    const three = await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false }, domains });
    assert.deepEqual([...three.cms.keys()], ['hoster-mapi-access'], '3 mailboxes of 2 MailDomains: one ConfigMap');
    assert.equal(three.count, 1);
    assert.deepEqual(Object.keys(three.cms.get('hoster-mapi-access')!.data!).sort(), ['access.json', 'mailboxes-0.json']);
    assert.equal(three.list!.server, 'hoster');
    assert.ok(three.cms.get('hoster-mapi-access')!.metadata.ownerReferences?.some((o) => o.kind === 'MapiServer' && o.name === 'hoster'), 'owned by MapiServer hoster');
    // The gatekeeper's own decisions over this list.
    assert.deepEqual(three.decide('Ken.Sanchez@on.mbx.test'), { allow: true, reason: 'enabled' });
    assert.deepEqual(three.decide('pilar.pinilla@on-alias.mbx.test'), { allow: false, reason: 'mailbox-disabled' });
    assert.deepEqual(three.decide('nobody@on.mbx.test'), { allow: true, reason: 'enabled' });
    assert.deepEqual(three.decide('someone@elsewhere.test'), { allow: true, reason: 'unknown-domain' });

    await world.k.apply(mailbox('dflt', 'on', 'default.user@on.mbx.test'));
    await mailboxIs('dflt', { ready: 'True', reason: 'MapiEnabled', mapi: true }); // spec.mapiEnabled defaults to true
    await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'default.user@on.mbx.test': true }, domains });

    // One projected, read-only volume, without subPath, in the template and in the running pods:
    // every source optional (the 64 possible shards, the index last), so the list can grow
    // without the template changing.
    const running = await pods('hoster');
    assert.equal(running.length, 2);
    for (const spec of [dep.spec.template.spec, ...running.map((p) => p.spec)]) {
      const vol = spec.volumes?.find((v) => v.projected?.sources.some((s) => s.configMap?.name === 'hoster-mapi-access'));
      assert.ok(vol, 'a projected volume of the access ConfigMaps');
      const sources = vol.projected!.sources.map((s) => s.configMap!);
      assert.deepEqual(sources.map((s) => s.name), [...Array.from({ length: 64 }, (_, i) => `hoster-mapi-access-${i}`), 'hoster-mapi-access']);
      assert.ok(sources.every((s) => s.optional === true), 'every source optional');
      for (const c of spec.containers) {
        const volumeName: string = vol.name;
        const mount = c.volumeMounts?.find((m) => m.name === volumeName);
        assert.deepEqual({ path: mount?.mountPath, readOnly: mount?.readOnly, subPath: mount?.subPath }, { path: '/etc/mapi-operator/access', readOnly: true, subPath: undefined }, `container ${c.name}`);
      }
    }

    const printed = await world.k.ok(['get', 'mbx', '-n', ns]);
    assert.match(printed, /^NAME\s+ADDRESS\s+DOMAIN\s+MAPI\s+READY\s+AGE\n/);
    assert.match(printed, /\nken\s+ken\.sanchez@on\.mbx\.test\s+on\s+true\s+True\s+\S+/);
    assert.match(printed, /\npilar\s+Pilar\.Pinilla@On-Alias\.mbx\.test\s+on\s+false\s+True\s+\S+/);
    assert.match(printed, /\ndflt\s+default\.user@on\.mbx\.test\s+on\s+true\s+True\s+\S+/);
    assert.match(printed, /\nearly\s+early\.bird@late\.mbx\.test\s+late\s+true\s+True\s+\S+/);
  });

  test('a mailbox toggled false→true→false rewrites only the ConfigMap holding its shard and never restarts a pod', async () => {
    const before = await workloadFingerprint();
    const base = await access();
    const pilarCm = shardConfigMapOf('hoster', 'pilar.pinilla@on-alias.mbx.test', base.count);
    let versions = base.versions;
    const others = { 'early.bird@late.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'default.user@on.mbx.test': true };
    for (const value of [true, false]) {
      await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', value));
      await mailboxIs('pilar', { ready: 'True', reason: value ? 'MapiEnabled' : 'MapiDisabled', mapi: value });
      const a = await accessIs({ mailboxes: { ...others, 'pilar.pinilla@on-alias.mbx.test': value }, domains: { [LATE]: [true, 'late'], [ON]: [true, 'on'], [ALIAS]: [true, 'on'] } });
      assert.deepEqual([...a.versions.keys()].sort(), [...versions.keys()].sort(), 'the same ConfigMaps');
      for (const [name, rv] of versions) {
        if (name === pilarCm) assert.notEqual(a.versions.get(name), rv, `${name} (holding pilar's shard) rewritten`);
        else assert.equal(a.versions.get(name), rv, `${name} untouched by a change in another shard`);
      }
      assert.equal(a.decide('pilar.pinilla@on-alias.mbx.test').allow, value);
      versions = a.versions;
      await mailboxIs('ken', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    }
    // Also on → off → on for ken, whose address is in the primary domain.
    for (const value of [false, true]) {
      await world.k.apply(mailbox('ken', 'on', 'ken.sanchez@on.mbx.test', value));
      await mailboxIs('ken', { ready: 'True', reason: value ? 'MapiEnabled' : 'MapiDisabled', mapi: value });
      await accessIs({ mailboxes: { ...others, 'ken.sanchez@on.mbx.test': value, 'pilar.pinilla@on-alias.mbx.test': false }, domains: { [LATE]: [true, 'late'], [ON]: [true, 'on'], [ALIAS]: [true, 'on'] } });
    }
    assert.deepEqual(await workloadFingerprint(), before, 'pods, Deployment template and generation, Ingresses and Certificates unchanged');
  });

  test('what the schema cannot check: AddressNotInDomain and DuplicateAddress are Stalled; the apiserver rejects a non-address', async () => {
    const rejected = await world.k(['apply', '-f', '-'], JSON.stringify(mailbox('bad', 'on', 'not-an-address')));
    assert.notEqual(rejected.code, 0, 'the apiserver rejects it');
    assert.match(rejected.stderr, /spec\.address/);
    assert.match(rejected.stderr, /must be an e-mail address/);
    assert.equal(await get<Mbx>('mailbox', 'bad'), undefined);

    const before = await workloadFingerprint();
    const base = { 'early.bird@late.mbx.test': true, 'default.user@on.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false };
    const domains = { [LATE]: [true, 'late'] as [boolean, string], [ON]: [true, 'on'] as [boolean, string], [ALIAS]: [true, 'on'] as [boolean, string] };
    await world.k.apply(mailbox('stranger', 'on', 'someone@elsewhere.mbx.test'));
    const stranger = await mailboxIs('stranger', { ready: 'False', reason: 'AddressNotInDomain', mapi: false, stalled: true });
    assert.equal(cond(stranger, 'Stalled')?.reason, 'AddressNotInDomain');
    assert.match(cond(stranger, 'Stalled')!.message, /someone@elsewhere\.mbx\.test is not in on\.mbx\.test, on-alias\.mbx\.test/);
    assert.equal(cond(stranger, 'Reconciling')?.status, 'False');

    // Same address, other case: the later Mailbox is the duplicate, the first keeps its place.
    await world.k.apply(mailbox('ken-again', 'on', 'KEN.SANCHEZ@on.mbx.test', false));
    const dup = await mailboxIs('ken-again', { ready: 'False', reason: 'DuplicateAddress', mapi: false, stalled: true });
    assert.match(cond(dup, 'Stalled')!.message, new RegExp(`already declared by Mailbox ${ns}/ken`));
    await mailboxIs('ken', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    // Neither invalid Mailbox reaches the access list.
    const a = await access();
    assert.deepEqual(Object.fromEntries([...a.entries].sort()), Object.fromEntries(Object.entries(base).sort()));
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns]), /\nstranger\s+someone@elsewhere\.mbx\.test\s+on\s+false\s+False/);

    // The first Mailbox of an address moves to another address: the duplicate becomes the first.
    await world.k.apply(mailbox('dup-a', 'on', 'shared@on.mbx.test', true));
    await mailboxIs('dup-a', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    await world.k.apply(mailbox('dup-b', 'on', 'shared@on.mbx.test', true));
    await mailboxIs('dup-b', { ready: 'False', reason: 'DuplicateAddress', mapi: false, stalled: true });
    await world.k.apply(mailbox('dup-a', 'on', 'moved@on.mbx.test', true));
    await mailboxIs('dup-b', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    await accessIs({ mailboxes: { ...base, 'shared@on.mbx.test': true, 'moved@on.mbx.test': true }, domains });
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'dup-a', 'dup-b', '--wait=true', '--timeout=30s']);

    // Fixing the address makes it valid without recreating it.
    await world.k.apply(mailbox('stranger', 'on', 'someone@on-alias.mbx.test'));
    await mailboxIs('stranger', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    await accessIs({ mailboxes: { ...base, 'someone@on-alias.mbx.test': true }, domains });
    assert.deepEqual(await workloadFingerprint(), before, 'no Mailbox change restarts a pod');
  });

  test('domain mapi.enabled true→false→true: every mailbox of the domain off in the list, pods, template and Ingresses unchanged, the other domain unaffected; then everything returns', async () => {
    const before = await workloadFingerprint();
    assert.ok(Object.values(ingressPaths(await get<Ing>('ingress', 'hoster-mapi'))).some((paths) => paths.includes('/mapi')), 'the server Ingress routes /mapi');
    const onMailboxes = ['default.user@on.mbx.test', 'ken.sanchez@on.mbx.test', 'pilar.pinilla@on-alias.mbx.test', 'someone@on-alias.mbx.test'];

    await world.k.apply(onDomain(false));
    // Domain off AND any mailbox setting = off, whatever the mailbox says.
    const off = await accessIs({
      mailboxes: { 'early.bird@late.mbx.test': true, ...Object.fromEntries(onMailboxes.map((a) => [a, false])) },
      domains: { [LATE]: [true, 'late'], [ON]: [false, 'on'], [ALIAS]: [false, 'on'] },
    });
    assert.deepEqual(off.decide('nobody@on.mbx.test'), { allow: false, reason: 'domain-disabled' }, 'an address without a Mailbox is off too');
    assert.deepEqual(off.decide('ken.sanchez@on.mbx.test'), { allow: false, reason: 'domain-disabled' });
    assert.deepEqual(off.decide('early.bird@late.mbx.test'), { allow: true, reason: 'enabled' }, 'the other domain is unaffected');
    for (const name of ['ken', 'pilar', 'dflt', 'stranger']) {
      const o = await mailboxIs(name, { ready: 'True', reason: 'MapiDisabled', mapi: false });
      assert.match(cond(o, 'Ready')!.message, /switched off for the whole domain on\.mbx\.test/);
    }
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns, 'ken']), /\nken\s+ken\.sanchez@on\.mbx\.test\s+on\s+false\s+True/);
    // A mailbox switched on while its domain is off stays off.
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', true));
    await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false });
    assert.equal((await access()).entries.get('pilar.pinilla@on-alias.mbx.test'), false);
    await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    // The gatekeeper enforces the switch: nothing is scaled, restarted or unrouted.
    assert.deepEqual(await workloadFingerprint(), before, 'pods, Deployment, Ingresses (with /mapi) and Certificates unchanged with the domain off');
    assert.equal(cond(await get<Srv>('mapiserver', 'hoster'), 'Ready')?.status, 'True', 'the server stays Ready');

    await world.k.apply(onDomain(true));
    const on = await accessIs({
      mailboxes: { 'early.bird@late.mbx.test': true, ...Object.fromEntries(onMailboxes.map((a) => [a, true])) },
      domains: { [LATE]: [true, 'late'], [ON]: [true, 'on'], [ALIAS]: [true, 'on'] },
    });
    assert.deepEqual(on.decide('nobody@on.mbx.test'), { allow: true, reason: 'enabled' });
    for (const name of ['ken', 'pilar', 'dflt', 'stranger']) await mailboxIs(name, { ready: 'True', reason: 'MapiEnabled', mapi: true });
    assert.deepEqual(await workloadFingerprint(), before, 'and unchanged after');

    // The mailbox's own switch still counts when the domain is on.
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', false));
    const pilarOff = await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false });
    assert.match(cond(pilarOff, 'Ready')!.message, /switched off for this mailbox/);
  });

  test('deleting a Mailbox removes it from the list; deleting a MailDomain removes its domains and mailboxes and leaves its Mailboxes MailDomainNotFound; deleting the MapiServer collects the list', async () => {
    const before = await workloadFingerprint();
    const domains = { [LATE]: [true, 'late'] as [boolean, string], [ON]: [true, 'on'] as [boolean, string], [ALIAS]: [true, 'on'] as [boolean, string] };
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'dflt', '--wait=true', '--timeout=30s']);
    await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': true }, domains });
    // The duplicate's original goes: the duplicate takes its place.
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'ken', '--wait=true', '--timeout=30s']);
    await mailboxIs('ken-again', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false });
    await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true, 'ken.sanchez@on.mbx.test': false, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': true }, domains });
    assert.deepEqual(await workloadFingerprint(), before, 'deleting Mailboxes restarts no pod');

    await world.k.ok(['delete', 'maildomain', '-n', ns, 'on', '--wait=true', '--timeout=60s']);
    await accessIs({ mailboxes: { 'early.bird@late.mbx.test': true }, domains: { [LATE]: [true, 'late'] } });
    for (const name of ['pilar', 'stranger', 'ken-again']) {
      const o = await mailboxIs(name, { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
      assert.equal(o.metadata.deletionTimestamp, undefined, 'the Mailboxes stay');
    }
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns, 'pilar']), /\npilar\s+Pilar\.Pinilla@On-Alias\.mbx\.test\s+on\s+false\s+False/);
    // The other domain's Mailbox and the server's pods are untouched.
    await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    assert.deepEqual((await pods('hoster')).map((p) => p.metadata.uid).sort(), before.podUids, 'deleting a MailDomain restarts no pod');

    // The server goes: its access ConfigMaps are garbage-collected with it; the Mailbox waits again.
    await world.k.ok(['delete', 'mapiserver', '-n', ns, 'hoster', '--wait=true', '--timeout=60s']);
    await waitFor(async () => (await access()).cms.size === 0, { describe: "hoster's access ConfigMaps garbage-collected", timeoutMs: 90_000, intervalMs: 1_000 });
    const early = await mailboxIs('early', { ready: 'False', reason: 'MailDomainNotReady', mapi: true, stalled: false });
    assert.match(cond(early, 'Ready')!.message, /MapiServer hoster .*does not exist/);
  });
});
