// End to end: MAPI off per mailbox and per domain, enforced by the gatekeeper sidecar. The
// operator adds the sidecar (--gatekeeper-image) and writes the access list; the gatekeeper
// pods stand-in lays the list out as the kubelet would and runs the real `mapi-operator
// gatekeeper` in front of a MAPI test server that speaks the real framing; the ingress front
// stand-in sends the Service's traffic to it. Observed as Outlook would: autodiscover answers
// and MAPI responses through the front, over TLS with cert-manager's certificates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eDomain, e2eMailbox, e2eServer, startWorld, toFront, type World } from '../../src/dev/world.ts';

const ns = 'e2e-gatekeeper';
const PASSWORD = 'Outlook-Test-1';
const KEN = 'ken@one.test';
const PILAR = 'pilar@one.test';
const BOB = 'bob@two.test';
let world: World;
let operator: OperatorProcess;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** One request through the front, as Outlook sends it: TLS with SNI, the test CA trusted. */
function viaFront(host: string, path: string, headers: Record<string, string>, body = ''): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: world.front.httpsPort, servername: host, ca: world.caPem, method: 'POST', path,
      headers: { host, 'Content-Length': String(Buffer.byteLength(body)), ...headers }, agent: false, timeout: 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}${path} in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (address: string) => `Basic ${Buffer.from(`${address}:${PASSWORD}`).toString('base64')}`;
const domainOf = (address: string) => address.slice(address.indexOf('@') + 1);

function autodiscover(address: string): Promise<Answer> {
  const body = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`;
  return viaFront(`autodiscover.${domainOf(address)}`, '/autodiscover/autodiscover.xml', {
    'Content-Type': 'text/xml; charset=utf-8', 'X-MapiHttpCapability': '1', 'X-AnchorMailbox': address, Authorization: basic(address),
  }, body);
}

/** A MAPI Connect to the mailbox's MailStore URL, as autodiscover handed it out. */
function connect(address: string): Promise<Answer> {
  const mailboxId = `${world.mapi!.mailboxIdOf(address)}@${domainOf(address)}`;
  return viaFront('mail.gk.test', `/mapi/emsmdb/?MailboxId=${mailboxId}`, {
    'Content-Type': 'application/mapi-http', 'X-RequestType': 'Connect',
    'X-RequestId': '{E2EA4C8A-6C5F-4E5F-8B6A-1F2D3C4B5A69}:1', 'X-ClientInfo': '{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1',
    'X-ClientApplication': 'Outlook/16.0.17928.20114', Authorization: basic(address),
  });
}

/** What Outlook gets for this mailbox: MAPI settings from autodiscover, and a MAPI session. */
async function outlookSees(address: string): Promise<{ mapiSettings: boolean; responseCode: string }> {
  const ad = await autodiscover(address);
  assert.equal(ad.status, 200, `autodiscover for ${address}: ${ad.status} ${ad.body.slice(0, 200)}`);
  const mapi = await connect(address);
  assert.equal(mapi.status, 200, `MAPI Connect for ${address}: HTTP ${mapi.status}`);
  return { mapiSettings: /Type="mapiHttp"/.test(ad.body), responseCode: String(mapi.headers['x-responsecode'] ?? '') };
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
