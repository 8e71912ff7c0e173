// The configuration loader that spares the operator @kubernetes/client-node: which kubeconfigs
// it reads itself, that the credentials reach the server (a real TLS server from the test CA),
// that one kept-alive connection carries many requests, and what goes to client-node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../../../src/dev/pki.ts';
import { DirectClusterConfig, directConfigFromFile, inClusterConfig, loadKubeConfig } from '../../../src/kube/kubeconfig.ts';
import { KubeClient } from '../../../src/kube/client.ts';

let pki: TestPki;
let dir: string;
let server: https.Server;
let port: number;
const connections: TLSSocket[] = [];
const seen: Array<{ authorization: string | undefined; clientCn: string | undefined }> = [];

before(async () => {
  pki = createTestPki('kubeconfig test');
  dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-test-'));
  const leaf = pki.issue({ commonName: 'localhost', dnsNames: ['localhost'] });
  server = https.createServer({ cert: leaf.chainPem, key: leaf.keyPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ authorization: req.headers.authorization, clientCn: peer && 'subject' in peer ? [peer.subject?.CN].flat()[0] : undefined });
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ kind: 'Status', path: req.url }));
  });
  server.on('secureConnection', (s: TLSSocket) => connections.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
  pki.cleanup();
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function kubeconfig(cluster: string, user: string): string {
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'contexts:', '- name: c', '  context: {cluster: k, user: u}',
    'clusters:', '- name: k', '  cluster:', ...cluster.split('\n').map((l) => `    ${l}`),
    'users:', '- name: u', '  user:', ...user.split('\n').map((l) => `    ${l}`),
  ].join('\n');
}

describe('kubeconfig files read without client-node', () => {
  test('client certificate from files relative to the kubeconfig: the server sees the certificate; one connection for many requests', async () => {
    const client = pki.issue({ commonName: 'mapi-operator-client', dnsNames: ['client'] });
    write('ca.pem', pki.rootPem);
    write('client.pem', client.certPem);
    write('client-key.pem', client.keyPem);
    const file = write('cert.kubeconfig', kubeconfig(`server: https://localhost:${port}\ncertificate-authority: ca.pem`, 'client-certificate: client.pem\nclient-key: client-key.pem'));
    const config = directConfigFromFile(file);
    assert.ok(config instanceof DirectClusterConfig);
    assert.deepEqual(config.getCurrentCluster(), { name: 'k', server: `https://localhost:${port}`, skipTLSVerify: false, caFile: path.join(dir, 'ca.pem') });
    const kube = new KubeClient(config);
    const before = connections.length;
    seen.length = 0;
    for (let i = 0; i < 5; i++) assert.deepEqual(await kube.request({ path: `/api/v1/namespaces/n${i}` }), { kind: 'Status', path: `/api/v1/namespaces/n${i}` });
    assert.deepEqual(seen.map((s) => s.clientCn), Array(5).fill('mapi-operator-client'));
    // Sequential requests share one kept-alive TLS connection (client-node's agent opened one each).
    assert.equal(connections.length - before, 1);
    config.destroy();
  });

  test('a bearer token and inline CA data: sent as Authorization on every request', async () => {
    const file = write('token.kubeconfig', kubeconfig(`server: https://localhost:${port}\ncertificate-authority-data: ${Buffer.from(pki.rootPem).toString('base64')}`, 'token: s3cret'));
    const config = loadKubeConfig(file);
    assert.ok(config instanceof DirectClusterConfig);
    seen.length = 0;
    await new KubeClient(config).request({ path: '/version' });
    assert.deepEqual(seen, [{ authorization: 'Bearer s3cret', clientCn: undefined }]);
    (config as DirectClusterConfig).destroy();
  });

  test('a server certificate from another CA is refused (TLS verification stays on)', async () => {
    const other = createTestPki('another CA');
    try {
      const file = write('other-ca.kubeconfig', kubeconfig(`server: https://localhost:${port}\ncertificate-authority-data: ${Buffer.from(other.rootPem).toString('base64')}`, 'token: t'));
      const config = directConfigFromFile(file)!;
      await assert.rejects(new KubeClient(config).request({ path: '/version', timeoutMs: 5_000 }), /certificate/i);
      config.destroy();
    } finally {
      other.cleanup();
    }
  });

  test('exec, auth-provider and basic-auth users go to client-node, which implements them', () => {
    for (const user of ['exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}', 'auth-provider: {name: oidc}', 'username: a\npassword: b']) {
      const file = write('exec.kubeconfig', kubeconfig(`server: https://localhost:${port}\ninsecure-skip-tls-verify: true`, user));
      assert.equal(directConfigFromFile(file), undefined, user);
      const config = loadKubeConfig(file);
      assert.ok(!(config instanceof DirectClusterConfig), user);
      assert.equal(config.getCurrentCluster()?.server, `https://localhost:${port}`);
    }
  });

  test('mistakes name the file and the field', () => {
    const noCluster = write('broken.kubeconfig', 'current-context: c\ncontexts:\n- name: c\n  context: {cluster: missing, user: u}\nclusters: []\nusers: []\n');
    assert.throws(() => directConfigFromFile(noCluster), /broken\.kubeconfig: context "c" names cluster "missing", which is not among clusters\[\]/);
    const plainHttp = write('http.kubeconfig', kubeconfig('server: http://127.0.0.1:1', 'token: t'));
    assert.throws(() => directConfigFromFile(plainHttp), /plain http; set insecure-skip-tls-verify: true/);
    const halfCert = write('half.kubeconfig', kubeconfig(`server: https://localhost:${port}`, 'client-certificate-data: eA=='));
    assert.throws(() => directConfigFromFile(halfCert), /client-key\(-data\)/);
    const badServer = write('server.kubeconfig', kubeconfig('server: localhost:6443', 'token: t'));
    assert.throws(() => directConfigFromFile(badServer), /clusters\[k\]\.cluster\.server must be an http\(s\) URL/);
  });
});

describe('in-cluster', () => {
  test('the service account token is read from its file, and read again after rotation (60 s)', async (t) => {
    const sa = mkdtempSync(path.join(dir, 'sa-'));
    writeFileSync(path.join(sa, 'ca.crt'), pki.rootPem);
    writeFileSync(path.join(sa, 'token'), 'first\n');
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const config = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'localhost', KUBERNETES_SERVICE_PORT: String(port) }, sa);
    assert.equal(config.getCurrentCluster().server, `https://localhost:${port}`);
    const auth = async () => {
      const opts: https.RequestOptions = { headers: { Accept: 'application/json' } };
      await config.applyToHTTPSOptions(opts);
      return (opts.headers as Record<string, string>).Authorization;
    };
    assert.equal(await auth(), 'Bearer first');
    writeFileSync(path.join(sa, 'token'), 'second\n');
    assert.equal(await auth(), 'Bearer first', 'read at most once a minute');
    t.mock.timers.tick(60_000);
    assert.equal(await auth(), 'Bearer second');
    assert.equal(inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa).getCurrentCluster().server, 'https://[fd00::1]:443');
    config.destroy();
  });

  test('outside a pod the error says what to pass', () => {
    assert.throws(() => inClusterConfig({}, dir), /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset; pass --kubeconfig/);
  });
});
