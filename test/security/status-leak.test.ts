// Status tells a tenant nothing about a host it does not own beyond the class of failure. The
// attack: a tenant declares hosts that resolve to somebody else's server (here a loopback TLS
// server standing in for an internal service) whose certificate names that service's hosts, and
// whose HTTP side redirects to a sign-in URL carrying a token. Before, the status quoted the
// certificate's names and the redirect URL with its query string; now the rows keep the class
// of failure (NameMismatch, the redirect's host and path) and nothing else. The operator's
// probes reach loopback only through the test-only --probe-loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startDnsServer, type TestDnsServer } from '../../src/dev/dns-server.ts';
import { startHttpFixture, startHttpsFixture, type Fixture } from '../../src/dev/https-fixtures.ts';
import { createTestPki, type TestPki } from '../../src/dev/pki.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { domain, get, k, kubeconfig, server } from './support.ts';

const ns = 'sec-status-leak';
const FOREIGN_NAMES = ['billing.internal.corp.example', 'vault.internal.corp.example'];
const TOKEN = 'SECRET-TOKEN-4711';

let dns: TestDnsServer;
let pki: TestPki;
let front: Fixture;
let redirects: Fixture;
let op: OperatorProcess;

before(async () => {
  await freshNamespace(k, ns);
  pki = createTestPki('Internal Corp Services CA');
  const foreign = pki.issue({ commonName: FOREIGN_NAMES[0], dnsNames: FOREIGN_NAMES });
  front = await startHttpsFixture({ address: '127.0.0.1', certificate: { keyPem: foreign.keyPem, chainPem: foreign.chainPem } });
  redirects = await startHttpFixture('127.0.0.1', 0, (_req, res) => {
    res.writeHead(302, { Location: `https://sso.internal.corp.example/login?session=${TOKEN}#state=${TOKEN}` });
    res.end();
  });
  dns = await startDnsServer({ zones: { 'leak.test': ['mail IN A 127.0.0.1', 'autodiscover IN A 127.0.0.1'] } });
  // The tenant even trusts that CA, so the only failure left is the names: the sharpest leak.
  await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'corp-ca', namespace: ns }, data: { 'ca.crt': pki.rootPem } });
  op = await startOperator({ kubeconfig, namespaces: [ns], name: 'sec-status-leak', args: ['--https-port', String(front.port), '--http-port', String(redirects.port)] });
  const checks = { nameservers: [dns.nameserver], interval: '30s', caBundle: { configMapKeyRef: { name: 'corp-ca', key: 'ca.crt' } } };
  // Warn: it rolls out although the checks fail, so the http/ and redirect/ probes run too.
  await k.apply(server('leaky', ns, 'mail.leak.test', { checks, gate: { mode: 'Warn' } }));
  await k.apply(domain('leaky', ns, 'leaky', 'leak.test'));
});

after(async () => {
  await op?.stop();
  await k(['delete', 'namespace', ns, '--wait=false']);
  await front?.close();
  await redirects?.close();
  await dns?.stop();
  pki?.cleanup();
});

const rows = async (kind: string, name: string) => (await get(kind, ns, name))?.status?.checks ?? [];
const leaks = (text: string) => [...FOREIGN_NAMES, 'Internal Corp Services', TOKEN].filter((s) => text.includes(s));

describe('status redaction', () => {
  test("a certificate of somebody else's server: the row says NameMismatch, never the names it carries", async () => {
    const tls = await waitFor(async () => (await rows('mapiserver', 'leaky')).find((r) => r.name === 'tls/mail.leak.test' && r.status === 'Failed'), { timeoutMs: 90_000, describe: `tls/mail.leak.test Failed (log ${op.logFile})` });
    assert.equal(tls.reason, 'NameMismatch', tls.message);
    assert.deepEqual(leaks(tls.message), [], tls.message);
    const domainTls = await waitFor(async () => (await rows('maildomain', 'leaky')).find((r) => r.name === 'tls/autodiscover.leak.test' && r.status === 'Failed'), { timeoutMs: 90_000, describe: 'tls/autodiscover.leak.test Failed' });
    assert.deepEqual(leaks(domainTls.message), [], domainTls.message);
  });

  test('a redirect to a URL with a token: the row keeps the host and path, never the query or fragment', async () => {
    const redirect = await waitFor(async () => (await rows('maildomain', 'leaky')).find((r) => r.name === 'redirect/autodiscover.leak.test' && /sso\.internal\.corp\.example/.test(r.message)), { timeoutMs: 180_000, describe: `redirect/autodiscover.leak.test naming the target (log ${op.logFile})` });
    assert.match(redirect.message, /https:\/\/sso\.internal\.corp\.example\/login/);
    assert.deepEqual(leaks(redirect.message), [], redirect.message);
  });

  test('no status, condition or Event of the tenant carries the foreign names or the token', async () => {
    const everything = JSON.stringify([
      await get('mapiserver', ns, 'leaky'), await get('maildomain', ns, 'leaky'),
      await k.json(['get', 'events', '-n', ns]),
    ]);
    assert.deepEqual(leaks(everything), []);
  });
});
