// The real I/O's safety rails against real servers: body cap, no redirect followed, time-outs
// that tell connect from total, credentials refused over an unverified connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import { startHttpsFixture, type Fixture } from '../../../src/dev/https-fixtures.ts';
import { SETUPS, startWorld, TLS_HOSTS, type World } from './world.ts';

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

  const io = (port: () => number, limits = {}) => createRealCheckIO({ probePolicy: { loopback: true, privateNetworks: false },
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

  it('dials every address of a host and reports each', async () => {
    const { host, addresses } = SETUPS.twoFrontsExpired;
    const handshake = await io(() => world.httpsPort).tls.handshake(host);
    assert.deepEqual((handshake.perAddress ?? []).map((h) => `${h.address} ${h.ok}`).sort(), addresses.map((a) => `${a} true`));
  });

  it('sends a pinned request to that address, and refuses an address the host does not have', async () => {
    const { host, addresses } = SETUPS.twoFrontsHttp;
    const pinned = await io(() => world.httpsPort).http.request({ ...get('/', host, false), address: addresses[1] });
    assert.ok(pinned.ok);
    assert.equal(pinned.address, addresses[1]);
    assert.equal(pinned.body, 'ok', 'the plain web server, not the MAPI test server');
    const elsewhere = await io(() => world.httpsPort).http.request({ ...get('/', host, false), address: '127.0.0.99' });
    assert.deepEqual(elsewhere.ok ? 'answered' : [elsewhere.failure, elsewhere.detail], ['NOT_ALLOWED', `127.0.0.99 is not an address of ${host}`]);
  });

  it('never connects to a link-local or metadata address a name resolves to', async () => {
    const handshake = await io(() => world.httpsPort).tls.handshake(SETUPS.srvMetadata.target);
    assert.deepEqual(handshake.ok ? 'connected' : [handshake.failure, handshake.address], ['NOT_ALLOWED', '169.254.169.254']);
    const answer = await io(() => world.httpsPort).http.request(get('/', SETUPS.srvMetadata.target, false));
    assert.deepEqual(answer.ok ? 'answered' : answer.failure, 'NOT_ALLOWED');
  });

  it('a body that never ends is INCOMPLETE, not a time-out before an answer', async () => {
    const answer = await io(() => world.httpsPort, { totalTimeoutMs: 800 }).http.request(get('/', SETUPS.endless.host, false));
    assert.deepEqual(answer.ok ? 'answered' : answer.failure, 'INCOMPLETE');
    assert.match(answer.ok ? '' : answer.detail, /HTTP 200 answer started but the body did not end within 800 ms after \d+ bytes/);
  });
});
