// cert-manager's API is real in the shared control plane: its CRDs are installed and its
// controller issues certificates from the test CA ClusterIssuer.
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { testIssuerRef } from '../../src/dev/cert-manager/issuer.ts';
import { sharedKubeconfigPath } from '../../src/dev/controlplane.ts';
import { waitFor } from '../../src/dev/wait.ts';

const kc = new k8s.KubeConfig();
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns = '';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
interface Certificate {
  metadata: { name: string; generation?: number };
  spec: { dnsNames: string[]; secretName: string };
  status?: { conditions?: Condition[]; revision?: number };
}

const certApi = { group: 'cert-manager.io', version: 'v1', plural: 'certificates' };

function certificate(name: string, dnsNames: string[], issuerRef: object = testIssuerRef): object {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name },
    spec: { secretName: `${name}-tls`, dnsNames, issuerRef },
  };
}

async function readCertificate(name: string): Promise<Certificate> {
  return (await custom.getNamespacedCustomObject({ ...certApi, namespace: ns, name })) as Certificate;
}

/** Waits for Ready=True observed at the Certificate's current generation. */
async function waitReady(name: string, generation: number): Promise<Certificate> {
  return waitFor(
    async () => {
      const cert = await readCertificate(name);
      const ready = cert.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True' && ready.observedGeneration === generation) return cert;
      throw new Error(`Ready condition: ${JSON.stringify(ready)}`);
    },
    { timeoutMs: 60_000, describe: `certificate ${ns}/${name} to be Ready at generation ${generation}` },
  );
}

function sans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice('DNS:'.length))
    .sort();
}

async function issuedCertificate(secretName: string): Promise<{ leaf: X509Certificate; ca: X509Certificate; secret: k8s.V1Secret }> {
  const secret = await core.readNamespacedSecret({ name: secretName, namespace: ns });
  const pem = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  return { leaf: new X509Certificate(pem('tls.crt')), ca: new X509Certificate(pem('ca.crt')), secret };
}

before(async () => {
  kc.loadFromFile(sharedKubeconfigPath());
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  ns = `certs-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

after(async () => {
  if (ns) await core.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('cert-manager in the shared control plane', () => {
  test('its CRDs are served', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const name of ['certificates.cert-manager.io', 'issuers.cert-manager.io', 'clusterissuers.cert-manager.io', 'certificaterequests.cert-manager.io']) {
      const crd = await ext.readCustomResourceDefinition({ name });
      assert.ok(crd.spec.versions.some((v) => v.name === 'v1' && v.served), `${name} serves v1`);
      assert.equal(crd.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True', `${name} Established`);
    }
  });

  test('the test ClusterIssuer is Ready', async () => {
    const issuer = (await custom.getClusterCustomObject({
      group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', name: testIssuerRef.name,
    })) as { status?: { conditions?: Condition[] } };
    assert.equal(issuer.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  test('a Certificate becomes Ready and its Secret holds a certificate for exactly its dnsNames', async () => {
    const dnsNames = ['mail.example.com', 'autodiscover.example.com', 'autodiscover.example.org'];
    await custom.createNamespacedCustomObject({ ...certApi, namespace: ns, body: certificate('mail', dnsNames) });
    await waitReady('mail', 1);

    const { leaf, ca, secret } = await issuedCertificate('mail-tls');
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.ok(secret.data?.['tls.key'], 'the Secret holds the private key');
    assert.deepEqual(sans(leaf), [...dnsNames].sort());
    assert.ok(leaf.checkIssued(ca), 'ca.crt issued tls.crt');
    assert.ok(leaf.verify(ca.publicKey), 'tls.crt carries a valid signature of the CA');
    assert.ok(new Date(leaf.validTo).getTime() > Date.now() + 24 * 3600_000, 'the certificate is valid for more than a day');
  });

  test('changing dnsNames re-issues the certificate', async () => {
    await custom.createNamespacedCustomObject({ ...certApi, namespace: ns, body: certificate('reissue', ['a.example.com']) });
    await waitReady('reissue', 1);
    const first = await issuedCertificate('reissue-tls');
    assert.deepEqual(sans(first.leaf), ['a.example.com']);

    await custom.patchNamespacedCustomObject(
      { ...certApi, namespace: ns, name: 'reissue', body: { spec: { dnsNames: ['a.example.com', 'b.example.com'] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await waitReady('reissue', 2);
    const second = await waitFor(
      async () => {
        const issued = await issuedCertificate('reissue-tls');
        return sans(issued.leaf).length === 2 ? issued : undefined;
      },
      { timeoutMs: 30_000, describe: 'secret reissue-tls to hold the re-issued certificate' },
    );
    assert.deepEqual(sans(second.leaf), ['a.example.com', 'b.example.com']);
    assert.notEqual(second.leaf.serialNumber, first.leaf.serialNumber);
  });

  test('a Certificate naming a missing issuer reports Ready=False with a reason', async () => {
    await custom.createNamespacedCustomObject({
      ...certApi,
      namespace: ns,
      body: certificate('orphan', ['orphan.example.com'], { name: 'no-such-issuer', kind: 'Issuer', group: 'cert-manager.io' }),
    });
    const ready = await waitFor(
      async () => (await readCertificate('orphan')).status?.conditions?.find((c) => c.type === 'Ready'),
      { timeoutMs: 30_000, describe: 'certificate orphan to get a Ready condition' },
    );
    assert.equal(ready.status, 'False');
    assert.ok(ready.reason && /^[A-Z][A-Za-z]+$/.test(ready.reason), `CamelCase reason, got ${ready.reason}`);
    await assert.rejects(core.readNamespacedSecret({ name: 'orphan-tls', namespace: ns }), (err: { code?: number }) => err.code === 404);
  });
});
