// End to end: Mailboxes switch MAPI on and off per mailbox and per domain (DESIGN.md
// "Mailbox", PROTOCOL.md "Enabling and disabling MAPI"), with the operator as a process, the
// control plane (kwok makes pods Ready), cert-manager's controller, BIND and the ingress front.
// Observed only through the API: Mailbox status and printer columns, the access ConfigMaps
// (docs/access-format.md), the Deployment, its pods and the Ingress.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eMailDomain, startWorld, toFront, type World, type Zones } from '../../src/dev/world.ts';
import { shardOf } from '../../src/builders/access.ts';

const ns = 'mbx-e2e';
let world: World;
let operator: OperatorProcess;

const ON = 'on.mbx.test';
const ALIAS = 'on-alias.mbx.test';
const LATE = 'late.mbx.test';
const READY = 'ready.mbx.test';
const zones = (latePublished: boolean): Zones => ({
  [ON]: toFront('mail', 'autodiscover'),
  [ALIAS]: toFront('autodiscover'),
  [LATE]: toFront('mail', ...(latePublished ? ['autodiscover'] : [])),
  [READY]: toFront('mail', 'autodiscover'),
});

type Cond = { type: string; status: string; reason: string; message: string; observedGeneration?: number };
type Meta = { uid: string; name: string; generation?: number; resourceVersion: string; deletionTimestamp?: string; annotations?: Record<string, string> };
type Mbx = { metadata: Meta; status?: { observedGeneration?: number; mapiEnabled?: boolean; conditions?: Cond[] } };
type MD = { status?: { rollout?: { state: string } } };
type Volume = { name: string; projected?: { sources: { configMap?: { name: string } }[] }; configMap?: unknown };
type PodSpec = { volumes?: Volume[]; containers: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[] }[] };
type Dep = { metadata: Meta; spec: { replicas: number; template: { metadata?: { annotations?: Record<string, string> }; spec: PodSpec } }; status?: { readyReplicas?: number } };
type Ing = { metadata: Meta; spec: { rules: { host: string; http: { paths: { path: string }[] } }[]; tls?: { hosts: string[]; secretName: string }[] } };
type Cert = { metadata: Meta; spec: { dnsNames: string[] } };
type CM = { metadata: Meta & { ownerReferences?: { kind: string; name: string }[] }; data?: Record<string, string> };
type Index = { format: string; domain: string; domains: string[]; mapiEnabled: boolean; defaultMailboxMapiEnabled: boolean; shards: string[] };

const mailbox = (name: string, domainRef: string, address: string, mapiEnabled?: boolean) => ({
  apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name, namespace: ns },
  spec: { domainRef, address, ...(mapiEnabled === undefined ? {} : { mapiEnabled }) },
});
const onDomain = (mapiEnabled = true) => e2eMailDomain({ name: 'on', namespace: ns, domain: ON, aliases: [ALIAS], nameserver: world.dns.nameserver, mapiEnabled });

const get = <T>(kind: string, name: string) => world.k.tryGet<T>(kind, ns, name);
const cond = (o: Mbx | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const nn = (i: number) => String(i).padStart(2, '0');

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

/** The 17 access ConfigMaps of a MailDomain, read as a MAPI server would. */
async function access(md: string) {
  const cms = new Map<string, CM>();
  for (const name of [`${md}-mapi-access`, ...Array.from({ length: 16 }, (_, i) => `${md}-mapi-access-${nn(i)}`)]) {
    const cm = await get<CM>('configmap', name);
    if (cm) cms.set(name, cm);
  }
  const indexCm = cms.get(`${md}-mapi-access`);
  const index = indexCm ? JSON.parse(indexCm.data!['access.json']!) as Index : undefined;
  const entries = new Map<string, boolean>();
  for (let i = 0; i < 16; i++) {
    const shard = cms.get(`${md}-mapi-access-${nn(i)}`);
    for (const [address, value] of Object.entries(JSON.parse(shard?.data?.[`mailboxes-${nn(i)}.json`] ?? '{}') as Record<string, boolean>)) {
      assert.equal(shardOf(address), i, `${address} is in shard ${nn(shardOf(address))}, found in ${nn(i)}`);
      entries.set(address, value);
    }
  }
  return { cms, index, entries, versions: new Map([...cms].map(([n, cm]) => [n, cm.metadata.resourceVersion])) };
}

/** Waits until the shards list exactly `want` (address → effective value) and the index says `mapiEnabled`. */
async function accessIs(md: string, want: Record<string, boolean>, mapiEnabled: boolean) {
  return waitFor(async () => {
    const a = await access(md);
    const same = a.cms.size === 17 && a.index?.mapiEnabled === mapiEnabled && a.entries.size === Object.keys(want).length &&
      Object.entries(want).every(([k, v]) => a.entries.get(k) === v);
    return same ? a : undefined;
  }, { describe: `${md}: access list ${JSON.stringify(want)}, domain mapiEnabled ${mapiEnabled}`, timeoutMs: 60_000, intervalMs: 300 });
}

async function rolledOut(name: string, replicas = 2) {
  return waitFor(async () => {
    const d = await get<Dep>('deployment', `${name}-mapi`);
    const m = await get<MD>('maildomain', name);
    return d?.spec.replicas === replicas && d.status?.readyReplicas === replicas && m?.status?.rollout?.state === 'Available' ? d : undefined;
  }, { describe: `${name}: ${replicas} ready MAPI pods and rollout Available`, timeoutMs: 180_000, intervalMs: 500 });
}
const pods = async (md: string) => (await world.k.json<{ items: { metadata: Meta; spec: PodSpec }[] }>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${md}`])).items;
const podUids = async (md: string) => (await pods(md)).map((p) => p.metadata.uid).sort();
const ingressPaths = (ing: Ing | undefined) => Object.fromEntries((ing?.spec.rules ?? []).map((r) => [r.host, r.http.paths.map((p) => p.path).sort()]));

/** What must not move when a Mailbox changes: the pods, the Deployment's template and generation, the Ingress, the Certificate. */
async function workloadFingerprint() {
  const d = (await get<Dep>('deployment', 'on-mapi'))!;
  const ing = (await get<Ing>('ingress', 'on'))!;
  const cert = (await get<Cert>('certificate', 'on'))!;
  return {
    podUids: await podUids('on'),
    deploymentGeneration: d.metadata.generation,
    template: JSON.stringify(d.spec.template),
    ingress: `${ing.metadata.uid}@${ing.metadata.resourceVersion}`,
    certificate: `${cert.metadata.uid}@${cert.metadata.generation}`,
  };
}

before(async () => {
  world = await startWorld(zones(false));
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

describe('Mailbox: MAPI on and off per mailbox and per domain', () => {
  test('a Mailbox created before its MailDomain waits (MailDomainNotFound, then MailDomainNotReady) and becomes Ready by itself', async () => {
    await world.k.apply(mailbox('early', 'late', 'early.bird@late.mbx.test'));
    const notFound = await mailboxIs('early', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    assert.match(cond(notFound, 'Ready')!.message, /MailDomain late does not exist/);
    assert.equal(cond(notFound, 'Reconciling')?.status, 'True', 'waiting is Reconciling, not Stalled (kstatus)');

    // The domain arrives, but autodiscover is not published: its MAPI service is held.
    await world.k.apply(e2eMailDomain({ name: 'late', namespace: ns, domain: LATE, nameserver: world.dns.nameserver }));
    await waitFor(async () => (await get<{ status?: { rollout?: { state: string; reason: string } } }>('maildomain', 'late'))?.status?.rollout?.reason === 'AutodiscoverNotPublished', { describe: 'late: rollout held for autodiscover', timeoutMs: 90_000 });
    const notReady = await mailboxIs('early', { ready: 'False', reason: 'MailDomainNotReady', mapi: true, stalled: false });
    assert.match(cond(notReady, 'Ready')!.message, /not rolled out yet/);
    await accessIs('late', { 'early.bird@late.mbx.test': true }, true);

    // Publishing DNS opens the gate; the Mailbox follows without anyone touching it.
    await world.setZones(zones(true));
    await rolledOut('late');
    const ready = await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false }, 90_000);
    assert.equal(ready.metadata.generation, 1, 'the Mailbox was never edited');
    assert.equal(ready.metadata.resourceVersion !== notFound.metadata.resourceVersion, true);
    await world.k.ok(['wait', '--for=condition=Ready', 'mailbox/early', '-n', ns, '--timeout=30s']);
  });

  test('a Mailbox created before a MailDomain whose DNS is already published becomes Ready by itself once MAPI is rolled out', async () => {
    await world.k.apply(mailbox('first', 'ready', 'first.user@ready.mbx.test', false));
    await mailboxIs('first', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    await world.k.apply(e2eMailDomain({ name: 'ready', namespace: ns, domain: READY, nameserver: world.dns.nameserver, replicas: 1 }));
    await rolledOut('ready', 1);
    const ready = await mailboxIs('first', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false }, 90_000);
    assert.equal(ready.metadata.generation, 1, 'the Mailbox was never edited');
    await accessIs('ready', { 'first.user@ready.mbx.test': false }, true);
    await world.k.ok(['delete', 'maildomain', '-n', ns, 'ready', '--wait=true', '--timeout=60s']);
    await mailboxIs('first', { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'first', '--wait=true', '--timeout=30s']);
  });

  test('Mailboxes reconcile into the access ConfigMaps mounted read-only into the MAPI pods; kubectl get mbx is the Get-CASMailbox view', async () => {
    await world.k.apply(onDomain());
    const dep = await rolledOut('on');
    await world.k.apply(mailbox('ken', 'on', 'ken.sanchez@on.mbx.test', true));
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', false));
    await world.k.apply(mailbox('dflt', 'on', 'default.user@on.mbx.test'));
    await mailboxIs('ken', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    const pilar = await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false });
    assert.match(cond(pilar, 'Ready')!.message, /switched off for this mailbox/);
    await mailboxIs('dflt', { ready: 'True', reason: 'MapiEnabled', mapi: true }); // spec.mapiEnabled defaults to true

    const a = await accessIs('on', { 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'default.user@on.mbx.test': true }, true);
    assert.deepEqual({ ...a.index, shards: a.index!.shards.length }, {
      format: 'mapi-operator.io/access/v1', domain: ON, domains: [ON, ALIAS], mapiEnabled: true, defaultMailboxMapiEnabled: true, shards: 16,
    });
    assert.deepEqual(a.index!.shards, Array.from({ length: 16 }, (_, i) => `mailboxes-${nn(i)}.json`));
    for (const [name, cm] of a.cms) assert.ok(cm.metadata.ownerReferences?.some((o) => o.kind === 'MailDomain' && o.name === 'on'), `${name} owned by MailDomain on`);
    // The late domain's list is its own: nothing of domain on leaks into it.
    assert.deepEqual([...(await access('late')).entries.keys()], ['early.bird@late.mbx.test']);

    // One projected, read-only volume of all 17 ConfigMaps, without subPath, in the template and in the running pods.
    for (const spec of [dep.spec.template.spec, ...(await pods('on')).map((p) => p.spec)]) {
      const vol = spec.volumes?.find((v) => v.projected?.sources.some((s) => s.configMap?.name === 'on-mapi-access'));
      assert.ok(vol, 'a projected volume of the access ConfigMaps');
      assert.deepEqual(vol.projected!.sources.map((s) => s.configMap?.name).sort(), [...a.cms.keys()].sort());
      const mount = spec.containers[0]!.volumeMounts?.find((m) => m.name === vol.name);
      assert.deepEqual({ path: mount?.mountPath, readOnly: mount?.readOnly, subPath: mount?.subPath }, { path: '/etc/mapi-operator/access', readOnly: true, subPath: undefined });
    }
    assert.equal((await pods('on')).length, 2);

    const printed = await world.k.ok(['get', 'mbx', '-n', ns]);
    assert.match(printed, /^NAME\s+ADDRESS\s+DOMAIN\s+MAPI\s+READY\s+AGE\n/);
    assert.match(printed, /\nken\s+ken\.sanchez@on\.mbx\.test\s+on\s+true\s+True\s+\S+/);
    assert.match(printed, /\npilar\s+Pilar\.Pinilla@On-Alias\.mbx\.test\s+on\s+false\s+True\s+\S+/);
    assert.match(printed, /\ndflt\s+default\.user@on\.mbx\.test\s+on\s+true\s+True\s+\S+/);
    assert.match(printed, /\nearly\s+early\.bird@late\.mbx\.test\s+late\s+true\s+True\s+\S+/);
  });

  test('a mailbox toggled false→true→false rewrites only its shard and never restarts a pod', async () => {
    const before = await workloadFingerprint();
    const pilarShard = `on-mapi-access-${nn(shardOf('pilar.pinilla@on-alias.mbx.test'))}`;
    const base = await access('on');
    let others = base.versions;
    for (const value of [true, false]) {
      await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', value));
      await mailboxIs('pilar', { ready: 'True', reason: value ? 'MapiEnabled' : 'MapiDisabled', mapi: value });
      const a = await accessIs('on', { 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': value, 'default.user@on.mbx.test': true }, true);
      for (const [name, rv] of others) {
        if (name === pilarShard) assert.notEqual(a.versions.get(name), rv, `${name} (pilar's shard) rewritten`);
        else assert.equal(a.versions.get(name), rv, `${name} untouched by a change to another shard's mailbox`);
      }
      others = a.versions;
      // Neither the other Mailboxes' status nor anything of the workload moves.
      await mailboxIs('ken', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    }
    // Also on → off → on for ken, whose address is in the primary domain.
    for (const value of [false, true]) {
      await world.k.apply(mailbox('ken', 'on', 'ken.sanchez@on.mbx.test', value));
      await mailboxIs('ken', { ready: 'True', reason: value ? 'MapiEnabled' : 'MapiDisabled', mapi: value });
      await accessIs('on', { 'ken.sanchez@on.mbx.test': value, 'pilar.pinilla@on-alias.mbx.test': false, 'default.user@on.mbx.test': true }, true);
    }
    assert.deepEqual(await workloadFingerprint(), before, 'pods, Deployment template and generation, Ingress and Certificate unchanged');
    assert.equal((await get<Mbx>('mailbox', 'pilar'))?.metadata.generation, 3);
  });

  test('what the schema cannot check: AddressNotInDomain and DuplicateAddress are Stalled; the apiserver rejects a non-address', async () => {
    const rejected = await world.k(['apply', '-f', '-'], JSON.stringify(mailbox('bad', 'on', 'not-an-address')));
    assert.notEqual(rejected.code, 0, 'the apiserver rejects it');
    assert.match(rejected.stderr, /spec\.address/);
    assert.match(rejected.stderr, /must be an e-mail address/);
    assert.equal(await get<Mbx>('mailbox', 'bad'), undefined);

    const before = await workloadFingerprint();
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
    const a = await access('on');
    assert.deepEqual(Object.fromEntries([...a.entries].sort()), { 'default.user@on.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false });
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns]), /\nstranger\s+someone@elsewhere\.mbx\.test\s+on\s+false\s+False/);

    // The first Mailbox of an address moves to another address: the duplicate becomes the first.
    await world.k.apply(mailbox('dup-a', 'on', 'shared@on.mbx.test', true));
    await mailboxIs('dup-a', { ready: 'True', reason: 'MapiEnabled', mapi: true });
    await world.k.apply(mailbox('dup-b', 'on', 'shared@on.mbx.test', true));
    await mailboxIs('dup-b', { ready: 'False', reason: 'DuplicateAddress', mapi: false, stalled: true });
    await world.k.apply(mailbox('dup-a', 'on', 'moved@on.mbx.test', true));
    await mailboxIs('dup-b', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    await accessIs('on', { 'default.user@on.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'shared@on.mbx.test': true, 'moved@on.mbx.test': true }, true);
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'dup-a', 'dup-b', '--wait=true', '--timeout=30s']);

    // Fixing the address makes it valid without recreating it.
    await world.k.apply(mailbox('stranger', 'on', 'someone@on-alias.mbx.test'));
    await mailboxIs('stranger', { ready: 'True', reason: 'MapiEnabled', mapi: true, stalled: false });
    await accessIs('on', { 'default.user@on.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': true }, true);
    assert.deepEqual(await workloadFingerprint(), before, 'no Mailbox change restarts a pod');
  });

  test('domain mapi.enabled true→false→true: MAPI off for every mailbox, /mapi off the Ingress, the rest stays; then everything returns', async () => {
    const depBefore = (await get<Dep>('deployment', 'on-mapi'))!;
    const certBefore = (await get<Cert>('certificate', 'on'))!;
    const ingBefore = (await get<Ing>('ingress', 'on'))!;
    const hosts = ['mail.on.mbx.test', 'autodiscover.on.mbx.test', 'autodiscover.on-alias.mbx.test'];
    assert.deepEqual(ingressPaths(ingBefore), Object.fromEntries(hosts.map((h) => [h, ['/autodiscover', '/ews', '/mapi', '/oab']])));

    await world.k.apply(onDomain(false));
    await waitFor(async () => (await get<Dep>('deployment', 'on-mapi'))?.spec.replicas === 0 && (await pods('on')).length === 0, { describe: 'on: Deployment at 0 replicas, no pods', timeoutMs: 90_000 });
    const ingOff = await waitFor(async () => {
      const ing = await get<Ing>('ingress', 'on');
      return JSON.stringify(ingressPaths(ing)) === JSON.stringify(Object.fromEntries(hosts.map((h) => [h, ['/autodiscover', '/ews', '/oab']]))) ? ing : undefined;
    }, { describe: '/mapi off the Ingress, /autodiscover /ews /oab on every host', timeoutMs: 60_000 });
    assert.equal(ingOff.metadata.uid, ingBefore.metadata.uid);
    assert.deepEqual(ingOff.spec.tls, ingBefore.spec.tls, 'TLS of the Ingress unchanged');
    const certOff = (await get<Cert>('certificate', 'on'))!;
    assert.equal(certOff.metadata.uid, certBefore.metadata.uid, 'the Certificate stays');
    assert.deepEqual(certOff.spec.dnsNames, hosts);

    // Domain off AND any mailbox setting = off, whatever the mailbox says.
    const all = { 'default.user@on.mbx.test': false, 'ken.sanchez@on.mbx.test': false, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': false };
    const a = await accessIs('on', all, false);
    assert.equal(a.index!.defaultMailboxMapiEnabled, false, 'mailboxes without a Mailbox are off too');
    for (const name of ['ken', 'pilar', 'dflt', 'stranger']) {
      const o = await mailboxIs(name, { ready: 'True', reason: 'MapiDisabled', mapi: false });
      assert.match(cond(o, 'Ready')!.message, /switched off for the whole domain on\.mbx\.test/);
    }
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns, 'ken']), /\nken\s+ken\.sanchez@on\.mbx\.test\s+on\s+false\s+True/);
    // A mailbox switched on while its domain is off stays off.
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', true));
    await waitFor(async () => (await get<Mbx>('mailbox', 'pilar'))?.status?.observedGeneration === 4, { describe: 'pilar generation 4 observed' });
    await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false });
    assert.equal((await access('on')).entries.get('pilar.pinilla@on-alias.mbx.test'), false);
    // The other domain is not affected.
    await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true });

    await world.k.apply(onDomain(true));
    await rolledOut('on');
    await waitFor(async () => JSON.stringify(ingressPaths(await get<Ing>('ingress', 'on'))) === JSON.stringify(ingressPaths(ingBefore)), { describe: '/mapi back on the Ingress', timeoutMs: 60_000 });
    await accessIs('on', { 'default.user@on.mbx.test': true, 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': true, 'someone@on-alias.mbx.test': true }, true);
    assert.equal((await access('on')).index!.defaultMailboxMapiEnabled, true);
    for (const name of ['ken', 'pilar', 'dflt', 'stranger']) await mailboxIs(name, { ready: 'True', reason: 'MapiEnabled', mapi: true });
    assert.equal((await get<Cert>('certificate', 'on'))!.metadata.uid, certBefore.metadata.uid);
    assert.equal(JSON.stringify((await get<Dep>('deployment', 'on-mapi'))!.spec.template.spec), JSON.stringify(depBefore.spec.template.spec), 'the same pod spec as before');

    // And once more off → the mailbox's own switch still counts when the domain is on.
    await world.k.apply(mailbox('pilar', 'on', 'Pilar.Pinilla@On-Alias.mbx.test', false));
    const pilarOff = await mailboxIs('pilar', { ready: 'True', reason: 'MapiDisabled', mapi: false });
    assert.match(cond(pilarOff, 'Ready')!.message, /switched off for this mailbox/);
  });

  test('deleting a Mailbox removes it from the list; deleting the MailDomain collects the ConfigMaps and leaves the Mailboxes MailDomainNotFound', async () => {
    const before = await workloadFingerprint();
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'dflt', '--wait=true', '--timeout=30s']);
    await accessIs('on', { 'ken.sanchez@on.mbx.test': true, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': true }, true);
    // The duplicate's original goes: the duplicate takes its place.
    await world.k.ok(['delete', 'mailbox', '-n', ns, 'ken', '--wait=true', '--timeout=30s']);
    await mailboxIs('ken-again', { ready: 'True', reason: 'MapiDisabled', mapi: false, stalled: false });
    await accessIs('on', { 'ken.sanchez@on.mbx.test': false, 'pilar.pinilla@on-alias.mbx.test': false, 'someone@on-alias.mbx.test': true }, true);
    assert.deepEqual(await workloadFingerprint(), before, 'deleting Mailboxes restarts no pod');

    await world.k.ok(['delete', 'maildomain', '-n', ns, 'on', '--wait=true', '--timeout=60s']);
    await waitFor(async () => (await access('on')).cms.size === 0, { describe: 'the 17 access ConfigMaps of on garbage-collected', timeoutMs: 90_000, intervalMs: 1_000 });
    for (const name of ['pilar', 'stranger', 'ken-again']) {
      const o = await mailboxIs(name, { ready: 'False', reason: 'MailDomainNotFound', mapi: false, stalled: false });
      assert.equal(o.metadata.deletionTimestamp, undefined);
    }
    assert.match(await world.k.ok(['get', 'mbx', '-n', ns, 'pilar']), /\npilar\s+Pilar\.Pinilla@On-Alias\.mbx\.test\s+on\s+false\s+False/);
    // The other domain's list and Mailbox are untouched.
    assert.deepEqual([...(await access('late')).entries], [['early.bird@late.mbx.test', true]]);
    await mailboxIs('early', { ready: 'True', reason: 'MapiEnabled', mapi: true });
  });
});
