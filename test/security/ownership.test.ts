// Touch only what it created, on the real control plane: objects that already exist under a
// child's name (a Service, a ConfigMap, the user's own TLS Secret, an object another owner
// controls) are left byte-for-byte unchanged, the resource is Stalled naming them with one
// Event, garbage collection never reaches them, and an owner reference removed by hand is
// noticed at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { domain, eventsFor, fingerprint, get, k, kubeconfig, server, waitForCondition } from './support.ts';

const ns = 'sec-ownership';
let op: OperatorProcess;

const userTlsSecret = (name: string) => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from('-----BEGIN CERTIFICATE-----\nthe user\'s own certificate\n-----END CERTIFICATE-----\n').toString('base64'), 'tls.key': Buffer.from('the user\'s own key').toString('base64') },
});

before(async () => {
  await freshNamespace(k, ns);
  op = await startOperator({ kubeconfig, namespaces: [ns], name: 'sec-ownership' });
});

after(async () => {
  const code = await op?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${op?.logFile})`);
});

describe('an object of a child\'s name that the operator did not create', () => {
  test('a foreign Service: left unchanged, Stalled/NameInUse naming it, one Event, and never garbage-collected', async () => {
    await k.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc-mapi', namespace: ns, labels: { team: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    const before = fingerprint(await get('service', ns, 'svc-mapi'));
    await k.apply(server('svc', ns, 'mail.svc-owner.example'));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'svc', 'Stalled', 'NameInUse');
    assert.match(stalled.message, /Service svc-mapi already exists .*not created by this MapiServer .*left unchanged/);
    const ready = (await get('mapiserver', ns, 'svc'))?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.deepEqual(fingerprint(await get('service', ns, 'svc-mapi')), before, 'the Service is byte-for-byte as it was');
    // A few more reconciles (a spec change) must not write it either, nor add Events.
    await k.ok(['patch', 'mapiserver', '-n', ns, 'svc', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await waitFor(async () => (await get('mapiserver', ns, 'svc'))?.status?.observedGeneration === 2, { describe: 'status for generation 2' });
    assert.deepEqual(fingerprint(await get('service', ns, 'svc-mapi')), before);
    const events = await eventsFor(ns, 'MapiServer', 'svc', 'NameInUse');
    assert.equal(events.length, 1, `one NameInUse Event: ${JSON.stringify(events)}`);
    assert.ok((events[0]!.series?.count ?? events[0]!.deprecatedCount ?? 1) <= 1, 'recorded once, not once per reconcile');

    // Its own children exist and are owned; deleting the server removes them, never the Service.
    const deployment = await waitFor(() => get('deployment', ns, 'svc-mapi'), { describe: 'the server\'s own Deployment' });
    const serverUid = (await get('mapiserver', ns, 'svc'))!.metadata.uid;
    assert.ok(deployment.metadata.ownerReferences?.some((r) => r.uid === serverUid && r.controller));
    await k.ok(['delete', 'mapiserver', '-n', ns, 'svc', '--wait=true', '--timeout=60s']);
    await waitFor(async () => (await get('deployment', ns, 'svc-mapi')) === undefined, { timeoutMs: 60_000, describe: 'garbage collection of the server\'s own Deployment' });
    assert.deepEqual(fingerprint(await get('service', ns, 'svc-mapi')), before, 'the foreign Service survives its would-be owner');
  });

  test('a foreign ConfigMap under the access list\'s name: left unchanged, NameInUse', async () => {
    await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-mapi-access', namespace: ns }, data: { 'settings.json': '{"mine":true}' } });
    const before = fingerprint(await get('configmap', ns, 'cm-mapi-access'));
    await k.apply(server('cm', ns, 'mail.cm-owner.example'));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'cm', 'Stalled', 'NameInUse');
    assert.match(stalled.message, /ConfigMap cm-mapi-access/);
    assert.deepEqual(fingerprint(await get('configmap', ns, 'cm-mapi-access')), before);
  });

  test('an object another owner controls: NameInUse naming that owner, and the object unchanged', async () => {
    await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'someone-else', namespace: ns }, data: {} });
    const owner = (await get('configmap', ns, 'someone-else'))!;
    await k.apply({
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget',
      metadata: { name: 'owned-mapi', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'someone-else', uid: owner.metadata.uid, controller: true }] },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'other' } } },
    });
    const before = fingerprint(await get('poddisruptionbudget', ns, 'owned-mapi'));
    await k.apply(server('owned', ns, 'mail.owned-owner.example'));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'owned', 'Stalled', 'NameInUse');
    assert.match(stalled.message, /PodDisruptionBudget owned-mapi .*controller: ConfigMap someone-else/);
    assert.deepEqual(fingerprint(await get('poddisruptionbudget', ns, 'owned-mapi')), before);
  });

  test('the user\'s own TLS Secret named in tls.secretName: refused (SecretInUse), no Certificate, no route serving it', async () => {
    await k.apply(userTlsSecret('my-own-tls'));
    const before = fingerprint(await get('secret', ns, 'my-own-tls'));
    await k.apply(server('sec', ns, 'mail.sec-owner.example', { tls: { issuerRef: { name: 'mapi-test-ca', kind: 'ClusterIssuer' }, secretName: 'my-own-tls' } }));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'sec', 'Stalled', 'SecretInUse');
    assert.match(stalled.message, /Secret my-own-tls already exists .*not issued for Certificate sec-mapi.*tls\.secretName/);
    assert.equal(await get('certificate', ns, 'sec-mapi'), undefined, 'no Certificate that would overwrite it');
    assert.equal(await get('ingress', ns, 'sec-mapi'), undefined, 'no Ingress serving the user\'s certificate for our host');
    assert.deepEqual(fingerprint(await get('secret', ns, 'my-own-tls')), before, 'certificate and key untouched');

    // The same through a MailDomain's tls.secretName.
    await k.apply(server('mdsrv', ns, 'mail.mdsec.example'));
    await k.apply(domain('mdsec', ns, 'mdsrv', 'mdsec.example', { tls: { secretName: 'my-own-tls' } }));
    const mdStalled = await waitForCondition(op, 'maildomain', ns, 'mdsec', 'Stalled', 'SecretInUse');
    assert.match(mdStalled.message, /Secret my-own-tls/);
    assert.equal(await get('certificate', ns, 'mdsec-autodiscover'), undefined);
    assert.deepEqual(fingerprint(await get('secret', ns, 'my-own-tls')), before);
  });

  test('an owner reference removed by hand is noticed at once: the child is no longer written (NameInUse)', async () => {
    await k.apply(server('orphan', ns, 'mail.orphan-owner.example'));
    const service = await waitFor(async () => {
      const s = await get('service', ns, 'orphan-mapi');
      return s?.metadata.ownerReferences?.length ? s : undefined;
    }, { describe: 'the server\'s own Service' });
    await waitForCondition(op, 'mapiserver', ns, 'orphan', 'Stalled', 'NotStalled', 'False');
    await k.ok(['patch', 'service', '-n', ns, 'orphan-mapi', '--type=json', '-p', '[{"op":"remove","path":"/metadata/ownerReferences"}]']);
    const before = fingerprint(await get('service', ns, 'orphan-mapi'));
    assert.notEqual(before.resourceVersion, service.metadata.resourceVersion);
    // The resync is minutes away: only the label watch can bring this within the wait.
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'orphan', 'Stalled', 'NameInUse', 'True', 20_000);
    assert.match(stalled.message, /Service orphan-mapi/);
    assert.deepEqual(fingerprint(await get('service', ns, 'orphan-mapi')), before, 'not re-adopted behind the user\'s back');
  });
});
