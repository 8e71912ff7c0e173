// One TLS connection per host and interval: the real check IO keeps the connection of a host's
// tls/ handshake for its HTTPS probes, against real TLS servers on loopback (BIND for the names)
// that count what reaches them: TCP connections, HTTP requests, decrypted bytes, connections
// still open. Also what reuse must never change: a server that closes kept connections gets
// every probe answered (one retry on a fresh connection, never more), a verified request on a
// kept connection to a bad certificate fails as before with not one byte sent, and no
// connection outlives its idle time or a probe's time-out.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { runChecks } from '../../../src/checks/engine.ts';
import { createRealCheckIO, type ProbeLimits } from '../../../src/checks/io.ts';
import type { CheckIO, HttpRequest, HttpResponse } from '../../../src/checks/types.ts';
import { startDnsServer, type TestDnsServer } from '../../../src/dev/dns-server.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../../../src/dev/pki.ts';
import { waitFor } from '../../../src/dev/wait.ts';

const ZONE = 'reuse.test';
/** Every scenario its own host (and server port), all on 127.0.0.1. */
const HOSTS = {
  mail: `mail.${ZONE}`,
  engine: `engine.${ZONE}`,
  idle: `idle.${ZONE}`,
  racy: `racy.${ZONE}`,
  quick: `quick.${ZONE}`,
  resets: `resets.${ZONE}`,
  closes: `closes.${ZONE}`,
  wrongName: `wrongname.${ZONE}`,
  selfSigned: `selfsigned.${ZONE}`,
  stalls: `stalls.${ZONE}`,
  big: `big.${ZONE}`,
  slow: `slow.${ZONE}`,
} as const;

interface CountingServer {
  port: number;
  /** TCP connections accepted (each one TLS handshake, one ClientHello). */
  connections: number;
  /** HTTP requests that reached the handler. */
  requests: number;
  /** Application bytes received after the TLS handshakes (decrypted), all connections together. */
  bytesIn: number;
  /** Connections still open now. */
  open: number;
  close(): Promise<void>;
}

async function countingServer(certificate: TestCertificate, handler: http.RequestListener, tune: (server: https.Server) => void = () => {}): Promise<CountingServer> {
  const state = { connections: 0, requests: 0, bytesIn: 0 };
  const sockets = new Set<net.Socket>();
  const server = https.createServer({ key: certificate.keyPem, cert: certificate.chainPem }, (req, res) => {
    state.requests++;
    handler(req, res);
  });
  tune(server);
  server.on('connection', (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => socket.on('data', (chunk: Buffer) => { state.bytesIn += chunk.length; }));
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() { return state.connections; },
    get requests() { return state.requests; },
    get bytesIn() { return state.bytesIn; },
    get open() { return sockets.size; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** What a mail server answers the unauthenticated probes: 401 with a challenge. */
const challenge: http.RequestListener = (req, res) => {
  req.resume();
  req.once('end', () => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mail"', 'Content-Length': '0' }).end());
};

let pki: TestPki;
let bind: TestDnsServer;
const servers = {} as Record<keyof typeof HOSTS, CountingServer>;

before(async () => {
  pki = createTestPki('connection reuse');
  bind = await startDnsServer({ zones: { [ZONE]: Object.values(HOSTS).map((h) => `${h.slice(0, -ZONE.length - 1)} A 127.0.0.1`) } });
  const cert = (host: string) => pki.issue({ dnsNames: [host] });
  const answersPerConnection = new WeakMap<net.Socket, number>();
  servers.mail = await countingServer(cert(HOSTS.mail), challenge);
  servers.engine = await countingServer(cert(HOSTS.engine), challenge);
  servers.idle = await countingServer(cert(HOSTS.idle), challenge);
  // The keep-alive race, every time: the second request on a connection is dropped unanswered,
  // as when the server closes an idle connection just as the request goes out.
  servers.racy = await countingServer(cert(HOSTS.racy), (req, res) => {
    const n = (answersPerConnection.get(req.socket) ?? 0) + 1;
    answersPerConnection.set(req.socket, n);
    if (n >= 2) return req.socket.destroy();
    challenge(req, res);
  });
  // Closes a kept connection 1 ms after each answer.
  servers.quick = await countingServer(cert(HOSTS.quick), challenge, (server) => { server.keepAliveTimeout = 1; });
  // Drops every request, fresh connection or not.
  servers.resets = await countingServer(cert(HOSTS.resets), (req) => req.socket.destroy());
  servers.closes = await countingServer(cert(HOSTS.closes), (req, res) => {
    req.resume();
    req.once('end', () => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mail"', 'Content-Length': '0', Connection: 'close' }).end());
  });
  servers.wrongName = await countingServer(pki.issue({ dnsNames: [`other.${ZONE}`] }), challenge);
  servers.selfSigned = await countingServer(pki.selfSigned({ dnsNames: [HOSTS.selfSigned] }), challenge);
  servers.stalls = await countingServer(cert(HOSTS.stalls), (req) => { req.resume(); });
  servers.big = await countingServer(cert(HOSTS.big), (req, res) => {
    req.resume();
    req.once('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('x'.repeat(256 * 1024)));
  });
  servers.slow = await countingServer(cert(HOSTS.slow), (req, res) => {
    req.resume();
    req.once('end', () => setTimeout(() => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mail"', 'Content-Length': '0' }).end(), 1_500));
  });
});

after(async () => {
  for (const server of Object.values(servers)) await server.close();
  await bind?.stop();
  pki?.cleanup();
});

const portOf = (host: string): number => {
  const entry = Object.entries(HOSTS).find(([, h]) => h === host);
  assert.ok(entry, host);
  return servers[entry[0] as keyof typeof HOSTS].port;
};

function checkIO(limits: Partial<ProbeLimits> = {}): CheckIO {
  return createRealCheckIO({
    nameservers: [bind.nameserver], caBundlePem: pki.rootPem, probePolicy: { loopback: true, privateNetworks: false },
    httpsPortFor: portOf, limits: { connectTimeoutMs: 2_000, totalTimeoutMs: 5_000, ...limits },
  });
}

const post = (host: string, path: string, verifyTls = false): HttpRequest =>
  ({ scheme: 'https', host, method: 'POST', path, headers: { 'Content-Type': 'text/xml' }, body: '<probe/>', verifyTls });

/** The three unauthenticated probes of an external host, issued together as http/ issues them. */
const probesOf = (io: CheckIO, host: string) => Promise.all(['/autodiscover/autodiscover.xml', '/mapi/emsmdb/', '/mapi/nspi/'].map((p) => io.http.request(post(host, p))));

const statuses = (answers: HttpResponse[]) => answers.map((a) => (a.ok ? a.status : `${a.failure} ${a.detail}`));

describe('one TLS connection per host', () => {
  it('a tls/ handshake and the three HTTPS probes of the host cost ONE connection (one ClientHello) at the server', async () => {
    const io = checkIO();
    const server = servers.mail;
    const handshake = await io.tls.handshake(HOSTS.mail);
    assert.ok(handshake.ok && handshake.chainStatus === 'Trusted', JSON.stringify(handshake));
    assert.deepEqual(statuses(await probesOf(io, HOSTS.mail)), [401, 401, 401]);
    assert.equal(server.connections, 1, 'one TCP connection for the handshake and every probe');
    assert.equal(server.requests, 3);
  });

  it('through the engine: tls/ and http/ of a host (issued side by side) on one connection', async () => {
    const io = checkIO();
    const results = await runChecks({
      domain: HOSTS.engine, aliases: [], externalHost: HOSTS.engine, autodiscoverHosts: [], require: 'Any',
      nameservers: [bind.nameserver], caBundlePem: pki.rootPem, includeHttp: true,
    }, io);
    for (const name of [`tls/${HOSTS.engine}`, `http/${HOSTS.engine}`]) {
      const row = results.find((r) => r.name === name);
      assert.equal(row?.status, 'Passed', `${name}: ${row?.reason}: ${row?.message}`);
    }
    assert.equal(servers.engine.requests, 3, 'the POX POST and the two MAPI PINGs');
    assert.equal(servers.engine.connections, 1);
  });
});

describe('a server that closes kept connections', () => {
  it('closing one just as the request goes out: the probe is sent again once, on a fresh connection, and answered', async () => {
    const io = checkIO();
    const server = servers.racy;
    assert.ok((await io.tls.handshake(HOSTS.racy)).ok);
    const answers: HttpResponse[] = [];
    for (const path of ['/autodiscover/autodiscover.xml', '/mapi/emsmdb/', '/mapi/nspi/']) answers.push(await io.http.request(post(HOSTS.racy, path)));
    assert.deepEqual(statuses(answers), [401, 401, 401], 'the same answers as from a server that keeps its connections');
    // The handshake's connection answers the first probe and drops the second, which is answered
    // on a fresh one; that drops the third, answered on a third connection.
    assert.equal(server.connections, 3);
    assert.equal(server.requests, 5, '3 answered, 2 dropped and sent again');
  });

  it('closing each 1 ms after its answer (keepAliveTimeout): every probe answered, back to back or spaced', async () => {
    const io = checkIO();
    const server = servers.quick;
    assert.ok((await io.tls.handshake(HOSTS.quick)).ok);
    const answers: HttpResponse[] = [];
    for (let i = 0; i < 3; i++) answers.push(await io.http.request(post(HOSTS.quick, '/mapi/emsmdb/')));
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answers.push(await io.http.request(post(HOSTS.quick, '/mapi/emsmdb/')));
    }
    assert.deepEqual(statuses(answers), [401, 401, 401, 401, 401, 401]);
    assert.ok(server.connections <= 7, `${server.connections} connections for a handshake and 6 probes`);
    await waitFor(() => server.open === 0, { timeoutMs: 5_000, describe: 'no connection left open' });
  });

  it('a fresh connection is never retried: a server that drops every request costs each probe one retry at most', async () => {
    const io = checkIO();
    const server = servers.resets;
    assert.ok((await io.tls.handshake(HOSTS.resets)).ok);
    // On the handshake's connection (kept), then once more on a fresh one.
    const first = await io.http.request(post(HOSTS.resets, '/mapi/emsmdb/'));
    assert.deepEqual(first.ok ? first.status : [first.failure, first.detail, first.connected], ['RESET', 'ECONNRESET', true]);
    assert.equal(server.connections, 2);
    assert.equal(server.requests, 2);
    // Nothing kept: a fresh connection, and its failure is the answer.
    const second = await io.http.request(post(HOSTS.resets, '/mapi/nspi/'));
    assert.deepEqual(second.ok ? second.status : [second.failure, second.detail, second.connected], ['RESET', 'ECONNRESET', true]);
    assert.equal(server.connections, 3);
    assert.equal(server.requests, 3);
  });

  it('Connection: close is honoured: the next probe dials a fresh connection', async () => {
    const io = checkIO();
    const server = servers.closes;
    assert.ok((await io.tls.handshake(HOSTS.closes)).ok);
    const answers: HttpResponse[] = [];
    for (const path of ['/autodiscover/autodiscover.xml', '/mapi/emsmdb/', '/mapi/nspi/']) answers.push(await io.http.request(post(HOSTS.closes, path)));
    assert.deepEqual(statuses(answers), [401, 401, 401]);
    // The first probe on the handshake's connection, each other one on its own.
    assert.equal(server.connections, 3);
    assert.equal(server.requests, 3, 'no request sent on a connection the server said it closes');
  });
});

describe('verified requests on a kept connection', () => {
  for (const [label, host, code] of [
    ['a certificate for another name', HOSTS.wrongName, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['an untrusted (self-signed) certificate', HOSTS.selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  ] as const) {
    it(`${label}: fails as https fails it, before a single byte is written; the connection still serves unverified probes`, async () => {
      const server = label.includes('another') ? servers.wrongName : servers.selfSigned;
      const io = checkIO();
      // First without a kept connection (dialled for the request), then on the handshake's.
      const fresh = await io.http.request(post(host, '/autodiscover/autodiscover.xml', true));
      assert.deepEqual(fresh, { ok: false, failure: 'HANDSHAKE', detail: code, address: '127.0.0.1', connected: true });
      const handshake = await io.tls.handshake(host);
      assert.ok(handshake.ok && handshake.verifyError !== null, JSON.stringify(handshake));
      const kept = await io.http.request(post(host, '/autodiscover/autodiscover.xml', true));
      assert.deepEqual(kept, { ok: false, failure: 'HANDSHAKE', detail: code, address: '127.0.0.1', connected: true });
      assert.equal(server.requests, 0, 'no request reached the server');
      assert.equal(server.bytesIn, 0, 'not one byte (credentials never leave)');
      const unverified = await io.http.request(post(host, '/autodiscover/autodiscover.xml', false));
      assert.deepEqual(unverified.ok && unverified.status, 401);
      assert.equal(server.requests, 1);
      // The dial for the first request was kept too: the handshake made one more, and the
      // unverified probe went on a kept connection.
      assert.equal(server.connections, 2);
    });
  }
});

describe('no connection outlives its use', () => {
  it('an idle kept connection is closed after its idle time (about 2 s)', async () => {
    const io = checkIO();
    const server = servers.idle;
    assert.ok((await io.tls.handshake(HOSTS.idle)).ok);
    assert.deepEqual(statuses(await probesOf(io, HOSTS.idle)), [401, 401, 401]);
    assert.equal(server.connections, 1);
    assert.equal(server.open, 1, 'kept for the next probe');
    const keptAt = Date.now();
    await waitFor(() => server.open === 0, { timeoutMs: 6_000, intervalMs: 50, describe: 'the kept connection closed' });
    const keptMs = Date.now() - keptAt;
    assert.ok(keptMs >= 1_500 && keptMs < 4_000, `closed after ${keptMs} ms`);
  });

  it('a probe time-out destroys the connection, kept or fresh', async () => {
    const io = checkIO({ totalTimeoutMs: 500 });
    const server = servers.stalls;
    const fresh = await io.http.request(post(HOSTS.stalls, '/mapi/emsmdb/'));
    assert.deepEqual(fresh, { ok: false, failure: 'TIMEOUT', detail: 'the connection was accepted but no answer came within 500 ms', address: '127.0.0.1', connected: true });
    await waitFor(() => server.open === 0, { timeoutMs: 2_000, intervalMs: 20, describe: 'the timed-out connection closed at once' });
    assert.ok((await io.tls.handshake(HOSTS.stalls)).ok);
    assert.equal(server.open, 1);
    const kept = await io.http.request(post(HOSTS.stalls, '/mapi/emsmdb/'));
    assert.deepEqual(kept, fresh);
    await waitFor(() => server.open === 0, { timeoutMs: 1_000, intervalMs: 20, describe: 'the kept connection closed with the time-out' });
    assert.equal(server.connections, 2, 'no retry after a time-out');
  });

  it('a body cut at the size cap destroys the connection', async () => {
    const io = checkIO({ maxBodyBytes: 1024 });
    const server = servers.big;
    assert.ok((await io.tls.handshake(HOSTS.big)).ok);
    const answer = await io.http.request(post(HOSTS.big, '/'));
    assert.ok(answer.ok && answer.truncated && answer.body.length === 1024, JSON.stringify(answer).slice(0, 200));
    await waitFor(() => server.open === 0, { timeoutMs: 1_000, intervalMs: 20, describe: 'the connection with the rest of the body closed' });
  });

  it('a probe that throws (a port net.connect refuses) leaves no hold on its host: the next one does not wait for it', async () => {
    const io = createRealCheckIO({
      nameservers: [bind.nameserver], caBundlePem: pki.rootPem, probePolicy: { loopback: true, privateNetworks: false },
      httpsPortFor: () => 70_000, limits: { connectTimeoutMs: 2_000, totalTimeoutMs: 5_000 },
    });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      await assert.rejects(io.http.request(post(HOSTS.mail, '/mapi/emsmdb/')), /port/i);
      assert.ok(Date.now() - started < 1_000, `probe ${i + 1} took ${Date.now() - started} ms (a held key makes the next probe wait 2 s)`);
    }
  });

  it('a probe does not wait behind a slow one for long: it dials its own connection', async () => {
    // connectTimeoutMs 300: a probe waits at most that long for the connection in use.
    const io = checkIO({ connectTimeoutMs: 300 });
    const server = servers.slow;
    const started = Date.now();
    assert.deepEqual(statuses(await Promise.all([io.http.request(post(HOSTS.slow, '/mapi/emsmdb/')), io.http.request(post(HOSTS.slow, '/mapi/nspi/'))])), [401, 401]);
    const elapsed = Date.now() - started;
    assert.equal(server.connections, 2);
    assert.ok(elapsed < 2_900, `both answered in ${elapsed} ms (one after the other would take 3 s)`);
  });
});
