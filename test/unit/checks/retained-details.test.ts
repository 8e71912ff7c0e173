// The operator keeps of a check result only the details it reads after the run: the SRV target
// of a dns/ row and the leaf certificate's expiry. Everything else (every address's outcome,
// the chain as served, each HTTP exchange) is for `mapi-operator check`; kept by the probe cache
// and each resource's last results it was ~14 MiB of the heap at 5,000 MailDomains.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { runChecks } from '../../../src/checks/engine.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import { detailsReadAfterRun } from '../../../src/checks/retained-details.ts';
import type { CheckResult, CheckTarget, TlsHandshake } from '../../../src/checks/types.ts';
import { CheckMetrics } from '../../../src/controllers/checks/check-metrics.ts';
import { certificate, fakeDns, fakeHttp, fakeIO, fixedClock, handshake, response, DAY, NOW } from './fake-io.ts';

const EXTERNAL = 'mail.hoster.example';
const HOST = 'autodiscover.d0.example';

function io() {
  const tls = {
    handshake: (host: string): Promise<TlsHandshake> => {
      const one = handshake({ address: '203.0.113.7', chain: [certificate({ dnsNames: [host], notAfter: NOW + 30 * DAY }), certificate({ subject: 'CN=Test CA' })] });
      return Promise.resolve({ ...one, perAddress: [one] });
    },
  };
  const http = fakeHttp((req) => (req.scheme === 'http' ? response(302, { location: `https://${req.host}${req.path}` }) : response(401, { 'www-authenticate': 'Basic realm="mail"' })));
  return fakeIO({ dns: fakeDns({ [EXTERNAL]: { a: ['203.0.113.7'] }, [HOST]: { cname: EXTERNAL }, 'd0.example': { a: ['203.0.113.7'] } }), tls, http, clock: fixedClock() });
}
const target: CheckTarget = { domain: 'd0.example', aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [{ domain: 'd0.example', host: HOST }], nameservers: [], require: 'Any', includeHttp: true, release: 'r1' };

describe('detailsReadAfterRun', () => {
  it('keeps the SRV target and the leaf certificate\'s expiry, nothing else; name, status, reason and message as they were', () => {
    const tls: CheckResult = { name: `tls/${HOST}`, status: 'Passed', reason: 'CertificateValid', message: 'ok', details: { address: '203.0.113.7', chain: [{ subject: 'CN=x', notAfter: '2027-01-01T00:00:00.000Z', dnsNames: [HOST] }, { subject: 'CN=ca' }], protocol: 'TLSv1.3' } };
    assert.deepEqual(detailsReadAfterRun(tls), { ...tls, details: { chain: [{ notAfter: '2027-01-01T00:00:00.000Z' }] } });
    const dns: CheckResult = { name: `dns/${HOST}`, status: 'Warning', reason: 'SrvRecordOnly', message: 'srv', details: { srvTarget: 'mail.hoster.example', answers: ['x'] } };
    assert.deepEqual(detailsReadAfterRun(dns).details, { srvTarget: 'mail.hoster.example' });
    assert.deepEqual(detailsReadAfterRun({ ...dns, details: { addresses: [{ address: 'a' }] } }).details, {});
  });

  it('rows that keep no detail share one frozen empty object (no copy per row)', () => {
    const a = detailsReadAfterRun({ name: `http/${HOST}`, status: 'Passed', reason: 'Served', message: 'ok', details: { exchanges: [1, 2] } });
    const b = detailsReadAfterRun({ name: `redirect/${HOST}`, status: 'Passed', reason: 'RedirectToHttps', message: 'ok', details: {} });
    assert.equal(a.details, b.details);
    assert.ok(Object.isFrozen(a.details));
    assert.throws(() => { (a.details as Record<string, unknown>)['x'] = 1; }, TypeError, 'a change to the shared object would show in every row');
  });

  it('the engine with it: what the cache keeps is slim, the rows are the same, and the expiry metric still has its value', async () => {
    const clock = fixedClock();
    const full = await runChecks(target, io(), { cache: new ProbeCache({ clock, ttlMs: 60_000 }) });
    const cache = new ProbeCache({ clock, ttlMs: 60_000 });
    const slim = await runChecks(target, io(), { cache, retain: detailsReadAfterRun });
    const row = (r: CheckResult) => [r.name, r.status, r.reason, r.message];
    assert.deepEqual(slim.map(row), full.map(row));
    assert.ok(full.some((r) => Object.keys(r.details).some((k) => k !== 'chain' && k !== 'srvTarget')), 'the full results carry more');
    for (const r of slim) assert.deepEqual(Object.keys(r.details).filter((k) => k !== 'chain' && k !== 'srvTarget'), [], r.name);
    // A second run is served from the cache: slim there too.
    const again = await runChecks(target, io(), { cache, retain: detailsReadAfterRun });
    assert.deepEqual(again.find((r) => r.name === `tls/${HOST}`)?.details, { chain: [{ notAfter: new Date(NOW + 30 * DAY).toISOString() }] });

    const registry = new Registry();
    const metrics = new CheckMetrics(registry);
    metrics.observe('MailDomain/ns/d0', slim, 10, NOW);
    const expiry = (await metrics.certificateExpiry.get()).values.find((v) => v.labels.host === HOST);
    assert.equal(expiry?.value, 30 * DAY / 1000);
  });
});
