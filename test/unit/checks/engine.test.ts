import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticatedProbeHost, probeableHosts, runChecks } from '../../../src/checks/engine.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import type { CheckTarget, HttpRequest } from '../../../src/checks/types.ts';
import { certificate, fakeDns, fakeHttp, fakeIO, fakeTls, fixedClock, handshake, response } from './fake-io.ts';

const SANS = ['mail.example.com', 'autodiscover.example.com', 'autodiscover.example.org'];

function target(overrides: Partial<CheckTarget> = {}): CheckTarget {
  return {
    domain: 'example.com',
    aliases: ['example.org'],
    externalHost: 'mail.example.com',
    autodiscoverHosts: [{ domain: 'example.com', host: 'autodiscover.example.com' }, { domain: 'example.org', host: 'autodiscover.example.org' }],
    require: 'Any',
    nameservers: [],
    includeHttp: true,
    ...overrides,
  };
}

function world() {
  const dns = fakeDns({
    'mail.example.com': { a: ['203.0.113.7'] },
    'autodiscover.example.com': { cname: 'mail.example.com' },
    '_autodiscover._tcp.example.org': { srv: [{ name: 'mail.hoster.net', port: 443, priority: 0, weight: 0 }] },
  });
  const ok = handshake({ chain: [certificate({ dnsNames: SANS })] });
  const tls = fakeTls({ 'mail.example.com': ok, 'autodiscover.example.com': ok });
  const http = fakeHttp((req: HttpRequest) => (req.scheme === 'http' ? response(302, { location: `https://${req.host}${req.path}` }) : response(401, { 'www-authenticate': 'Basic' })));
  return { dns, tls, http, io: fakeIO({ dns, tls, http }) };
}

describe('runChecks', () => {
  it('runs every check in a stable order', async () => {
    const { io } = world();
    const results = await runChecks(target({ certificate: { ready: true, reason: 'Ready', message: 'ok' } }), io);
    assert.deepEqual(results.map((r) => r.name), [
      'certificate',
      'dns/autodiscover.example.com', 'dns/autodiscover.example.org',
      'tls/mail.example.com', 'tls/autodiscover.example.com', 'tls/autodiscover.example.org',
      'tls/mail.hoster.net',
      'rootdomain/example.com', 'rootdomain/example.org',
      'http/mail.example.com', 'http/autodiscover.example.com', 'http/autodiscover.example.org',
      'redirect/autodiscover.example.com', 'redirect/autodiscover.example.org',
    ]);
    assert.deepEqual(results.slice(0, 3).map((r) => r.status), ['Passed', 'Passed', 'Warning']);
    assert.equal(results[2]?.reason, 'SrvRecordOnly');
    assert.equal(results[2]?.details['srvTarget'], 'mail.hoster.net');
  });

  it('has no certificate check without a cluster and no http/ or redirect/ before pods exist', async () => {
    const { io, http } = world();
    const results = await runChecks(target({ includeHttp: false }), io);
    assert.ok(!results.some((r) => r.name === 'certificate' || r.name.startsWith('http/') || r.name.startsWith('redirect/')));
    assert.equal(http.requests.length, 0);
  });

  it('probes only hosts the target declares, plus TLS (only) to the SRV target a declared domain publishes', async () => {
    const { io, tls, http } = world();
    const results = await runChecks(target(), io);
    const allowed = probeableHosts(target());
    for (const host of http.requests.map((r) => r.host)) assert.ok(allowed.includes(host), `${host} got an HTTP request`);
    for (const host of tls.hosts) assert.ok([...allowed, 'mail.hoster.net'].includes(host), `${host} was dialled`);
    assert.deepEqual(tls.hosts.filter((h) => h === 'mail.hoster.net'), ['mail.hoster.net']);
    const srvTls = results.find((r) => r.name === 'tls/mail.hoster.net');
    assert.equal(srvTls?.reason, 'HostNotResolved', 'the fake has no handshake for it: judged, not skipped');
  });

  it('never dials an SRV target that no declared domain publishes', async () => {
    const { tls } = world();
    const dns = fakeDns({ 'mail.example.com': { a: ['203.0.113.7'] }, 'autodiscover.example.com': { cname: 'mail.example.com' } });
    await runChecks(target(), fakeIO({ dns, tls }));
    assert.ok(!tls.hosts.includes('mail.hoster.net'));
  });

  it('an SRV target outside the declared hosts with a valid certificate: dns/ Warning SrvRecordOnly, tls/<target> Passed', async () => {
    const { dns, http } = world();
    const ok = handshake({ chain: [certificate({ dnsNames: SANS })] });
    const tls = fakeTls({ 'mail.example.com': ok, 'autodiscover.example.com': ok, 'mail.hoster.net': handshake({ chain: [certificate({ dnsNames: ['mail.hoster.net'] })] }) });
    const results = await runChecks(target(), fakeIO({ dns, tls, http }));
    const rows = results.filter((r) => r.name === 'dns/autodiscover.example.org' || r.name === 'tls/mail.hoster.net');
    assert.deepEqual(rows.map((r) => `${r.name} ${r.status} ${r.reason}`), ['dns/autodiscover.example.org Warning SrvRecordOnly', 'tls/mail.hoster.net Passed CertificateValid']);
  });

  it('http/ probes every address of a host and names the one that fails', async () => {
    const { tls } = world();
    const dns = fakeDns({
      'mail.example.com': { a: ['203.0.113.7', '203.0.113.8'] },
      'autodiscover.example.com': { cname: 'mail.example.com' },
      'autodiscover.example.org': { cname: 'mail.example.com' },
    });
    const http = fakeHttp((req) => (req.scheme === 'http' ? response(302, { location: `https://${req.host}${req.path}` })
      : req.address === '203.0.113.8' ? response(502) : response(401, { 'www-authenticate': 'Basic' })));
    const results = await runChecks(target(), fakeIO({ dns, tls, http }));
    const row = results.find((r) => r.name === 'http/mail.example.com');
    assert.deepEqual([row?.status, row?.reason], ['Failed', 'MapiNotServed']);
    assert.match(row?.message ?? '', /address 203\.0\.113\.8: .*HTTP 502.*203\.0\.113\.7 Passed/);
    assert.deepEqual((row?.details['addresses'] as { address: string; status: string }[]).map((a) => `${a.address} ${a.status}`), ['203.0.113.7 Passed', '203.0.113.8 Failed']);
    assert.deepEqual([...new Set(http.requests.filter((r) => r.host === 'mail.example.com').map((r) => r.address))].sort(), ['203.0.113.7', '203.0.113.8']);
  });

  it('a dead name server: tls/ and http/ say Unknown with the DNS cause and point at dns/, never "publish a record"', async () => {
    const dns = fakeDns({ 'mail.example.com': { fail: 'TIMEOUT' }, 'autodiscover.example.com': { fail: 'TIMEOUT' }, 'autodiscover.example.org': { fail: 'TIMEOUT' }, '_autodiscover._tcp.example.org': { fail: 'TIMEOUT' } });
    const unresolved = { ok: false as const, failure: 'NOT_RESOLVED' as const, detail: 'TIMEOUT', dnsFailure: 'TIMEOUT' as const };
    const tls = fakeTls({ 'mail.example.com': unresolved, 'autodiscover.example.com': unresolved, 'autodiscover.example.org': unresolved });
    const http = fakeHttp(() => unresolved);
    const results = await runChecks(target(), fakeIO({ dns, tls, http }));
    for (const name of ['tls/mail.example.com', 'tls/autodiscover.example.com', 'http/mail.example.com', 'http/autodiscover.example.com']) {
      const row = results.find((r) => r.name === name);
      assert.deepEqual([row?.status, row?.reason], ['Unknown', 'NameServerUnreachable'], name);
      assert.doesNotMatch(row?.message ?? '', /publish an A/);
    }
    assert.match(results.find((r) => r.name === 'tls/autodiscover.example.com')?.message ?? '', /see dns\/autodiscover\.example\.com/);
  });

  it('with a shared ProbeCache probes each host once per interval across runs', async () => {
    const { io, tls, http } = world();
    const cache = new ProbeCache({ clock: io.clock, ttlMs: 300_000 });
    await runChecks(target(), io, { cache });
    const handshakes = tls.hosts.length;
    const requests = http.requests.length;
    await runChecks(target(), io, { cache });
    await runChecks(target({ aliases: ['example.org'] }), io, { cache });
    assert.equal(tls.hosts.filter((h) => h === 'mail.example.com').length, 1);
    assert.equal(tls.hosts.length, handshakes);
    assert.equal(http.requests.length, requests);
  });

  it('a redirect probe that met a name-server time-out is not kept for the interval: the retry probes it again', async () => {
    const { dns, tls } = world();
    const clock = fixedClock();
    let dnsDown = true;
    const http = fakeHttp((req: HttpRequest) => {
      if (req.scheme === 'http' && dnsDown) return { ok: false, failure: 'NOT_RESOLVED', detail: 'ETIMEOUT', dnsFailure: 'TIMEOUT' };
      return req.scheme === 'http' ? response(302, { location: `https://${req.host}${req.path}` }) : response(401, { 'www-authenticate': 'Basic' });
    });
    const io = fakeIO({ dns, tls, http, clock });
    const cache = new ProbeCache({ clock, ttlMs: 300_000 });
    const redirect = (results: { name: string; status: string; reason: string }[]) => results.find((r) => r.name === 'redirect/autodiscover.example.com');
    assert.deepEqual([redirect(await runChecks(target(), io, { cache }))?.status, redirect(await runChecks(target(), io, { cache }))?.reason], ['Unknown', 'NameServerUnreachable']);
    dnsDown = false;
    // The check scheduler's first retry of a failing run comes after 5 s.
    clock.advance(5_000);
    const retried = redirect(await runChecks(target(), io, { cache }));
    assert.deepEqual([retried?.status, retried?.reason], ['Passed', 'RedirectToHttps']);
  });

  it('probes again when the name servers differ (another view of the world)', async () => {
    const { io, tls } = world();
    const cache = new ProbeCache({ clock: fixedClock(), ttlMs: 300_000 });
    await runChecks(target(), io, { cache });
    await runChecks(target({ nameservers: ['192.0.2.53'] }), io, { cache });
    assert.equal(tls.hosts.filter((h) => h === 'mail.example.com').length, 2);
  });

  it('marks tls/ and http/ of an SRV-only autodiscover host as published by SRV, not failed', async () => {
    const { tls } = world();
    const http = fakeHttp((req) => (req.host === 'autodiscover.example.org'
      ? { ok: false, failure: 'NOT_RESOLVED', detail: 'NXDOMAIN', dnsFailure: 'NXDOMAIN' }
      : req.scheme === 'http' ? response(302, { location: `https://${req.host}${req.path}` }) : response(401, { 'www-authenticate': 'Basic' })));
    const dns = fakeDns({
      'mail.example.com': { a: ['203.0.113.7'] },
      'autodiscover.example.com': { cname: 'mail.example.com' },
      '_autodiscover._tcp.example.org': { srv: [{ name: 'mail.example.com', port: 443, priority: 0, weight: 0 }] },
    });
    const results = await runChecks(target(), fakeIO({ dns, tls, http }));
    const rows = results.filter((r) => r.name.endsWith('/autodiscover.example.org'));
    assert.deepEqual(rows.map((r) => `${r.name} ${r.status} ${r.reason}`), [
      'dns/autodiscover.example.org Warning SrvRecordOnly',
      'tls/autodiscover.example.org Warning PublishedBySrvOnly',
      'http/autodiscover.example.org Warning PublishedBySrvOnly',
      'redirect/autodiscover.example.org Passed RedirectNotOffered',
    ]);
    assert.match(rows[1]?.message ?? '', /SRV record → mail\.example\.com .*see tls\/mail\.example\.com/);
  });

  it('reports a check that outlives its deadline as Unknown', async () => {
    const { dns, http } = world();
    const io = fakeIO({ dns, http, tls: { handshake: () => new Promise(() => undefined) } });
    const results = await runChecks(target({ includeHttp: false }), io, { checkDeadlineMs: 20 });
    const tls = results.find((r) => r.name === 'tls/mail.example.com');
    assert.deepEqual([tls?.status, tls?.reason], ['Unknown', 'CheckTimedOut']);
  });

  it('sends the probe credentials to one autodiscover host only, never in a result', async () => {
    const { dns, tls } = world();
    const http = fakeHttp(() => response(401, { 'www-authenticate': 'Basic' }));
    const credentials = { username: 'probe', password: 'pr0be-s3cret!', address: 'ken@example.org' };
    const results = await runChecks(target({ probeCredentials: credentials }), fakeIO({ dns, tls, http }));
    const authenticated = http.requests.filter((r) => r.headers['Authorization']);
    assert.deepEqual([...new Set(authenticated.map((r) => r.host))], ['autodiscover.example.org']);
    assert.ok(!JSON.stringify(results).includes(credentials.password));
  });
});

describe('authenticatedProbeHost', () => {
  const hosts = [{ domain: 'example.com', host: 'autodiscover.example.com' }, { domain: 'example.org', host: 'autodiscover.example.org' }];
  it('is the autodiscover host of the probe address\'s domain', () => {
    assert.equal(authenticatedProbeHost({ username: 'u', password: 'p', address: 'ken@Example.org' }, hosts, 'mail.example.com'), 'autodiscover.example.org');
  });
  it('falls back to the first autodiscover host, then the external host', () => {
    assert.equal(authenticatedProbeHost({ username: 'u', password: 'p', address: 'ken@other.net' }, hosts, 'mail.example.com'), 'autodiscover.example.com');
    assert.equal(authenticatedProbeHost({ username: 'u', password: 'p', address: 'ken@other.net' }, [], 'mail.example.com'), 'mail.example.com');
  });
});
