// Every failure visible, on the real control plane: names the apiserver would refuse for a
// child (a 253-character dotted resource name) still give valid children; an apply the
// apiserver refuses shows in status with its message and one Event; each unusable reference
// has its own reason naming the field and the fix; checks.interval below 30 s is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { childName, labelValue } from '../../src/builders/names.ts';
import { createTestPki } from '../../src/dev/pki.ts';
import { domain, eventsFor, get, k, kubeconfig, server, waitForCondition } from './support.ts';

const ns = 'sec-visible';
let op: OperatorProcess;
const longName = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;

before(async () => {
  await freshNamespace(k, ns);
  op = await startOperator({ kubeconfig, namespaces: [ns], name: 'sec-visible' });
});

after(async () => {
  const code = await op?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${op?.logFile})`);
});

describe('names', () => {
  test('a 253-character dotted MapiServer and MailDomain name: valid children, labels within 63, status written', async () => {
    assert.equal(longName.length, 253);
    await k.apply(server(longName, ns, 'mail.long-names.example'));
    await k.apply(domain('mail.long-names.example', ns, longName, 'long-names.example'));
    const base = childName(longName, 'mapi');
    for (const kind of ['service', 'deployment', 'poddisruptionbudget', 'certificate', 'ingress']) {
      const o = await waitFor(() => get(kind, ns, base), { timeoutMs: 60_000, describe: `${kind} ${base} (log ${op.logFile})` });
      assert.equal(o.metadata.labels?.['mapi-operator.io/mapiserver'], labelValue(longName));
    }
    await waitFor(() => get('configmap', ns, childName(longName, 'mapi-access')), { describe: 'access list ConfigMap' });
    await waitFor(() => get('certificate', ns, childName('mail.long-names.example', 'autodiscover')), { describe: 'the dotted MailDomain\'s Certificate' });
    const s = await waitFor(async () => { const o = await get('mapiserver', ns, longName); return o?.status?.observedGeneration === 1 ? o : undefined; }, { describe: 'status of the long-named server' });
    assert.equal(s.status?.conditions?.find((c) => c.type === 'Stalled')?.status, 'False', JSON.stringify(s.status?.conditions));
  });
});

describe('refused applies and references', () => {
  test('a child the apiserver refuses: Stalled/ApplyRejected with the apiserver\'s message and the object, one Event', async () => {
    await k.apply(server('badcpu', ns, 'mail.badcpu.example', { resources: { limits: { cpu: 'lots' } } }));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'badcpu', 'Stalled', 'ApplyRejected');
    assert.match(stalled.message, /the apiserver refused Deployment badcpu-mapi: .*(quantit|cpu)/i);
    await waitFor(async () => (await eventsFor(ns, 'MapiServer', 'badcpu', 'ApplyRejected')).length === 1, { describe: 'one ApplyRejected Event' });
  });

  test('an Issuer that does not exist: IssuerNotFound naming the field and the fix', async () => {
    await k.apply(server('noissuer', ns, 'mail.noissuer.example', { tls: { issuerRef: { name: 'nope', kind: 'Issuer' } } }));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'noissuer', 'Stalled', 'IssuerNotFound');
    assert.match(stalled.message, /spec\.tls\.issuerRef: Issuer nope does not exist in namespace sec-visible; create it/);
  });

  test('a ClusterIssuer that does not exist: ClusterIssuerNotFound naming the field and the fix; created, the server goes on', async () => {
    await k.apply(server('noclusterissuer', ns, 'mail.noclusterissuer.example', { tls: { issuerRef: { name: 'sec-visible-absent', kind: 'ClusterIssuer' } } }));
    const stalled = await waitForCondition(op, 'mapiserver', ns, 'noclusterissuer', 'Stalled', 'ClusterIssuerNotFound');
    assert.match(stalled.message, /spec\.tls\.issuerRef: ClusterIssuer sec-visible-absent does not exist; ask the platform team to create it, or name an Issuer/);
    assert.equal(await get('certificate', ns, 'noclusterissuer-mapi'), undefined, 'nothing asked of an issuer that is not there');
    await k.apply({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'sec-visible-absent' }, spec: { selfSigned: {} } });
    try {
      await waitForCondition(op, 'mapiserver', ns, 'noclusterissuer', 'Stalled', 'NotStalled', 'False');
      await waitFor(() => get('certificate', ns, 'noclusterissuer-mapi'), { describe: 'the Certificate once the ClusterIssuer exists' });
    } finally {
      await k(['delete', 'clusterissuer', 'sec-visible-absent', '--ignore-not-found']);
    }
  });

  test('caBundle missing, key missing, no PEM, bad PEM and missing probeCredentials: each its own reason in status', async () => {
    const pki = createTestPki('sec-visible');
    try {
      await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-key', namespace: ns }, data: { other: 'x' } });
      await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-pem', namespace: ns }, data: { 'ca.crt': 'not a certificate' } });
      await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad-pem', namespace: ns }, data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } });
      await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'good-pem', namespace: ns }, data: { 'ca.crt': pki.rootPem } });
      const cases: [string, Record<string, unknown>, string, RegExp][] = [
        ['ca-missing', { caBundle: { configMapKeyRef: { name: 'absent', key: 'ca.crt' } } }, 'CaBundleNotFound', /spec\.checks\.caBundle\.configMapKeyRef: ConfigMap absent does not exist/],
        ['ca-nokey', { caBundle: { configMapKeyRef: { name: 'no-key', key: 'ca.crt' } } }, 'CaBundleKeyMissing', /has no key ca\.crt/],
        ['ca-nopem', { caBundle: { configMapKeyRef: { name: 'no-pem', key: 'ca.crt' } } }, 'CaBundleNoPem', /holds no PEM certificate/],
        ['ca-badpem', { caBundle: { configMapKeyRef: { name: 'bad-pem', key: 'ca.crt' } } }, 'CaBundleBadPem', /not a valid X\.509 certificate/],
        ['creds-missing', { probeCredentials: { secretName: 'absent-creds' } }, 'ProbeCredentialsNotFound', /spec\.checks\.probeCredentials\.secretName: Secret absent-creds does not exist/],
      ];
      for (const [name, checks] of cases) await k.apply(server(name, ns, `mail.${name}.example`, { checks }));
      await k.apply(server('ca-good', ns, 'mail.ca-good.example', { checks: { caBundle: { configMapKeyRef: { name: 'good-pem', key: 'ca.crt' } } } }));
      for (const [name, , reason, message] of cases) {
        const row = await waitFor(async () => (await get('mapiserver', ns, name))?.status?.checks?.find((r) => r.name.startsWith('reference/')), { timeoutMs: 60_000, describe: `reference row of ${name} (log ${op.logFile})` });
        assert.equal(row.reason, reason, name);
        assert.equal(row.status, 'Failed');
        assert.match(row.message, message);
      }
      // A usable bundle has no such row once the checks ran.
      const rows = await waitFor(async () => { const r = (await get('mapiserver', ns, 'ca-good'))?.status?.checks; return r?.some((x) => x.name.startsWith('tls/')) ? r : undefined; }, { timeoutMs: 60_000, describe: 'checks of ca-good' });
      assert.equal(rows.filter((r) => r.name.startsWith('reference/')).length, 0, JSON.stringify(rows));
    } finally {
      pki.cleanup();
    }
  });
});

describe('checks.interval', () => {
  test('below 30 s the apiserver refuses it with the reason; 30s is accepted', async () => {
    for (const interval of ['0s', '29s', '29999ms', '0.4m']) {
      const r = await k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(server('tight', ns, 'mail.tight.example', { checks: { interval } })));
      assert.notEqual(r.code, 0, `${interval} must be refused`);
      assert.match(r.stderr, /must be at least 30s.*tight loop/, interval);
    }
    for (const interval of ['30s', '0.5m', '1m']) {
      const r = await k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(server('tight', ns, 'mail.tight.example', { checks: { interval } })));
      assert.equal(r.code, 0, `${interval}: ${r.stderr}`);
    }
  });
});
