// End to end: MAPI off per mailbox and per domain, enforced by the gatekeeper sidecar. The
// operator adds the sidecar (--gatekeeper-image) and writes the access list; the gatekeeper
// pods stand-in lays the list out as the kubelet would and runs the real `mapi-operator
// gatekeeper` in front of a MAPI test server that speaks the real framing; the ingress front
// stand-in sends the Service's traffic to it. Observed as Outlook would: autodiscover answers
// and MAPI responses through the front, over TLS with cert-manager's certificates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { outlookClient } from '../../src/dev/outlook-client.ts';
import { e2eDomain, e2eMailbox, e2eServer, startWorld, toFront, type World } from '../../src/dev/world.ts';

const ns = 'e2e-gatekeeper';
const PASSWORD = 'Outlook-Test-1';
const KEN = 'ken@one.test';
const PILAR = 'pilar@one.test';
const BOB = 'bob@two.test';
let world: World;
let operator: OperatorProcess;

/** What Outlook gets for this mailbox: MAPI settings from autodiscover, and a MAPI session. */
async function outlookSees(address: string): Promise<{ mapiSettings: boolean; responseCode: string }> {
  const outlook = outlookClient({ front: world.front, caPem: world.caPem, password: PASSWORD, mailboxIdOf: (a) => world.mapi!.mailboxIdOf(a) });
  const seen = await outlook.sees('mail.gk.test', address);
  assert.equal(seen.autodiscoverStatus, 200, `autodiscover for ${address}`);
  assert.equal(seen.mapiStatus, 200, `MAPI Connect for ${address}`);
  return { mapiSettings: seen.mapiSettings, responseCode: seen.responseCode };
}

const ALLOWED = { mapiSettings: true, responseCode: '0' };
const REFUSED = { mapiSettings: false, responseCode: '11' };
const becomes = (address: string, want: typeof ALLOWED) =>
  waitFor(async () => {
    const seen = await outlookSees(address);
    return seen.mapiSettings === want.mapiSettings && seen.responseCode === want.responseCode ? seen : undefined;
  }, { describe: `${address}: MAPI ${want === ALLOWED ? 'allowed' : 'refused'} through the gatekeeper`, timeoutMs: 60_000, intervalMs: 250 });

type Dep = { metadata: { generation: number }; spec: { template: unknown } };
async function workload() {
  const d = (await world.k.tryGet<Dep>('deployment', ns, 'gk-mapi'))!;
  const pods = await world.k.json<{ items: { metadata: { uid: string } }[] }>(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/instance=gk']);
  return { generation: d.metadata.generation, template: JSON.stringify(d.spec.template), pods: pods.items.map((p) => p.metadata.uid).sort() };
}

before(async () => {
  world = await startWorld({
    'gk.test': toFront('mail'), 'one.test': toFront('autodiscover'), 'two.test': toFront('autodiscover'),
  }, { gatekeepers: { users: { [KEN]: PASSWORD, [PILAR]: PASSWORD, [BOB]: PASSWORD } } });
  await freshNamespace(world.k, ns);
  await world.publishCa(ns);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'e2e-gatekeeper', args: world.operatorArgs });
  await world.k.apply(e2eServer({ name: 'gk', namespace: ns, externalHost: 'mail.gk.test', nameserver: world.dns.nameserver }));
  await world.k.apply(e2eDomain({ name: 'one', namespace: ns, server: 'gk', domain: 'one.test' }));
  await world.k.apply(e2eDomain({ name: 'two', namespace: ns, server: 'gk', domain: 'two.test' }));
  for (const [name, domainRef, address] of [['ken', 'one', KEN], ['pilar', 'one', PILAR], ['bob', 'two', BOB]] as const) {
    await world.k.apply(e2eMailbox({ name, namespace: ns, domainRef, address }));
  }
  await world.k.ok(['wait', '--for=condition=Ready', 'mapiserver/gk', '-n', ns, '--timeout=180s']);
  await world.k.ok(['wait', '--for=condition=Ready', 'mailbox/ken', 'mailbox/pilar', 'mailbox/bob', '-n', ns, '--timeout=120s']);
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, '--wait=false']);
  await world?.stop();
});

describe('MAPI off per mailbox and per domain, enforced by the gatekeeper', () => {
  test('the operator runs the gatekeeper in front of the MAPI container; every mailbox starts allowed', async () => {
    const d = await world.k.json<{ spec: { template: { spec: { containers: { name: string; image: string }[] } } } }>(['get', 'deployment', '-n', ns, 'gk-mapi']);
    assert.deepEqual(d.spec.template.spec.containers.map((c) => c.name).sort(), ['gatekeeper', 'mapi']);
    assert.equal(world.gatekeepers!.list().length, 1, 'one gatekeeper runs for the server');
    for (const a of [KEN, PILAR, BOB]) await becomes(a, ALLOWED);
  });

  test('a Mailbox switched off: no MAPI settings in its autodiscover answer, its MAPI requests refused; its neighbour unaffected; no pod restarted', async () => {
    const before = await workload();
    await world.k.apply(e2eMailbox({ name: 'ken', namespace: ns, domainRef: 'one', address: KEN, mapiEnabled: false }));
    await becomes(KEN, REFUSED);
    assert.deepEqual(await outlookSees(PILAR), ALLOWED, 'another mailbox of the same domain');
    assert.deepEqual(await outlookSees(BOB), ALLOWED, 'a mailbox of the other domain');
    assert.deepEqual(await workload(), before, 'pod UIDs, Deployment generation and template unchanged');
  });

  test('a MailDomain switched off: all its mailboxes refused, the other domain unaffected; switched on: allowed again', async () => {
    const before = await workload();
    await world.k.apply(e2eDomain({ name: 'one', namespace: ns, server: 'gk', domain: 'one.test', mapiEnabled: false }));
    await becomes(PILAR, REFUSED);
    assert.deepEqual(await outlookSees(KEN), REFUSED);
    assert.deepEqual(await outlookSees(BOB), ALLOWED, 'the server’s other domain');

    await world.k.apply(e2eDomain({ name: 'one', namespace: ns, server: 'gk', domain: 'one.test' }));
    await world.k.apply(e2eMailbox({ name: 'ken', namespace: ns, domainRef: 'one', address: KEN, mapiEnabled: true }));
    await becomes(PILAR, ALLOWED);
    await becomes(KEN, ALLOWED);
    assert.deepEqual(await workload(), before, 'no switch restarted a pod');
  });
});
