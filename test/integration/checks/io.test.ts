// The real I/O's safety rails against real servers: body cap, no redirect followed, time-outs
// that tell connect from total, credentials refused over an unverified connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import { startHttpsFixture, type Fixture } from '../../../src/dev/https-fixtures.ts';
import { startWorld, TLS_HOSTS, type World } from './world.ts';

describe('real check I/O', () => {
  let world: World;
  let big: Fixture;
  before(async () => {
    world = await startWorld();
    // valid.tls.test's address, another port: a server answering 200 KiB, or a redirect.
    big = await startHttpsFixture({
      address: TLS_HOSTS.valid.address,
      certificate: world.pki.issue({ dnsNames: [TLS_HOSTS.valid.host] }),
      handler: (req, res) => {
        if (req.url === '/redirect') {
          res.writeHead(302, { Location: 'https://elsewhere.example/' });
          return res.end();
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('x'.repeat(200 * 1024));
      },
    });
  });
  after(async () => {
    await big.close();
    await world.stop();
  });

  const io = (port: () => number, limits = {}) => createRealCheckIO({
    nameservers: [world.dns.nameserver], caBundlePem: world.pki.rootPem, httpsPortFor: port, limits,
  });
  const get = (path: string, host: string = TLS_HOSTS.valid.host, verifyTls = true) =>
    ({ scheme: 'https' as const, host, method: 'GET' as const, path, headers: {}, verifyTls });

  it('cuts response bodies at 64 KiB', async () => {
    const answer = await io(() => big.port).http.request(get('/'));
    assert.ok(answer.ok);
    assert.equal(answer.body.length, 64 * 1024);
    assert.equal(answer.truncated, true);
  });

  it('does not follow redirects', async () => {
    const answer = await io(() => big.port).http.request(get('/redirect'));
    assert.ok(answer.ok);
    assert.equal(answer.status, 302);
    assert.equal(answer.headers['location'], 'https://elsewhere.example/');
  });

  it('a slow TLS handshake within the total time-out is no connect time-out', async () => {
    const answer = await io(() => world.httpsPort, { connectTimeoutMs: 500, totalTimeoutMs: 3_000 }).http.request(get('/', TLS_HOSTS.slow.host));
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.equal(answer.status, 200);
  });

  it('a silent peer ends at the total time-out', async () => {
    const answer = await io(() => world.httpsPort, { connectTimeoutMs: 500, totalTimeoutMs: 1_000 }).http.request(get('/', TLS_HOSTS.silent.host, false));
    assert.deepEqual(answer.ok ? 'answered' : answer.failure, 'TIMEOUT');
  });

  it('with verification on, an untrusted certificate fails the request (credentials never leave)', async () => {
    const answer = await io(() => world.httpsPort).http.request(get('/', TLS_HOSTS.selfSigned.host, true));
    assert.deepEqual(answer.ok ? 'answered' : answer.failure, 'HANDSHAKE');
    const unverified = await io(() => world.httpsPort).http.request(get('/', TLS_HOSTS.selfSigned.host, false));
    assert.ok(unverified.ok);
  });

  it('with verification on, a certificate for another name fails the request', async () => {
    const answer = await io(() => world.httpsPort).http.request(get('/', TLS_HOSTS.wrongName.host, true));
    assert.deepEqual(answer.ok ? 'answered' : answer.failure, 'HANDSHAKE');
  });
});
