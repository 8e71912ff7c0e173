// The client keeps its connections to the apiserver open between requests: against a real
// apiserver every new connection is a TLS handshake with the client certificate. A local
// server stands in for the apiserver and counts the connections it accepts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../../src/kube/client.ts';
import { createTestPki, type TestPki } from '../../../src/dev/pki.ts';

function kubeConfigFor(server: string, tls: { ca?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, ...(tls.ca ? { caData: Buffer.from(tls.ca).toString('base64') } : { skipTLSVerify: true }) }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const answer = (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.setHeader('Content-Type', 'application/json');
  res.end('{"kind":"ConfigMap","metadata":{"name":"x"}}');
};

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('KubeClient connections', () => {
  let pki: TestPki;
  before(() => { pki = createTestPki('keepalive'); });
  after(() => pki.cleanup());

  it('five requests over http share one connection', async () => {
    let connections = 0;
    const server = http.createServer(answer).on('connection', () => connections++);
    const port = await listen(server);
    try {
      const client = new KubeClient(kubeConfigFor(`http://127.0.0.1:${port}`));
      for (let i = 0; i < 5; i++) await client.request({ path: '/api/v1/namespaces/x/configmaps/x' });
      assert.equal(connections, 1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('five requests over https share one TLS session (one handshake, not five)', async () => {
    const leaf = pki.issue({ dnsNames: ['localhost'], commonName: '127.0.0.1' });
    let handshakes = 0;
    const server = https.createServer({ cert: leaf.chainPem, key: leaf.keyPem }, answer).on('secureConnection', () => handshakes++);
    const port = await listen(server);
    try {
      const client = new KubeClient(kubeConfigFor(`https://localhost:${port}`, { ca: pki.rootPem }));
      for (let i = 0; i < 5; i++) await client.request({ path: '/api/v1/namespaces/x/configmaps/x' });
      assert.equal(handshakes, 1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
