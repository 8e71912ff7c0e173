// A certificate just issued is checked at once: the tls/ probe of its hosts is keyed by the
// issued certificate, so the failed handshake made before it (cached for the interval) is not
// what judges it. Before, a new MailDomain passed only one check interval after its
// certificate, and a new server's first rollout waited for that interval too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks } from '../../../src/checks/engine.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import type { CheckTarget, TlsHandshake } from '../../../src/checks/types.ts';
import { domainCheckTarget } from '../../../src/gate/targets.ts';
import { servedCertificates } from '../../../src/controllers/observed.ts';
import type { KubeObject } from '../../../src/kube/index.ts';
import { certificate, fakeDns, fakeHttp, fakeIO, fixedClock, handshake, response } from '../checks/fake-io.ts';

const EXTERNAL = 'mail.hoster.example';
const HOST = 'autodiscover.d0.example';

const cert = (ready: 'True' | 'False', revision?: number): KubeObject => ({
  apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'd0-autodiscover', namespace: 'mail', uid: 'uid-1' },
  spec: { dnsNames: [HOST] },
  status: { ...(revision ? { revision } : {}), conditions: [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'Ready' : 'DoesNotExist', message: '' }] },
});

describe('servedCertificates', () => {
  it('names each host of a Ready Certificate with its revision, and nothing before it is Ready', () => {
    assert.deepEqual(servedCertificates(cert('False')), []);
    assert.deepEqual(servedCertificates(undefined), []);
    assert.deepEqual(servedCertificates(cert('True', 1)), [[HOST, 'uid-1/1']]);
    assert.notDeepEqual(servedCertificates(cert('True', 2)), servedCertificates(cert('True', 1)), 'a renewal is a new certificate to check');
  });

  it('gives every reader of one Certificate version the same frozen pairs (one revision string for all MailDomains)', () => {
    const server = { ...cert('True', 1), spec: { dnsNames: [EXTERNAL] } };
    const first = servedCertificates(server);
    assert.equal(servedCertificates(server), first);
    assert.ok(Object.isFrozen(first) && first.every((pair) => Object.isFrozen(pair)));
    // The MailDomain controller joins it with the domain's own: the server's pair is the same object.
    const domains = Array.from({ length: 3 }, () => [...servedCertificates(server), ...servedCertificates(cert('True', 1))]);
    assert.deepEqual(domains[0], [[EXTERNAL, 'uid-1/1'], [HOST, 'uid-1/1']]);
    assert.equal(domains[0]![0], domains[2]![0]);
    // A new version of the object (the informer replaces it on each change) is read afresh.
    const renewed = { ...cert('True', 2), spec: { dnsNames: [EXTERNAL] } };
    assert.deepEqual(servedCertificates(renewed), [[EXTERNAL, 'uid-1/2']]);
  });
});

describe('a MailDomain\'s tls/ row once its certificate is issued', () => {
  // The front serves its default certificate until cert-manager has issued the domain's.
  let issued = false;
  const served = (host: string): TlsHandshake => {
    const one = handshake({ chain: [certificate({ dnsNames: [issued || host === EXTERNAL ? host : 'ingress.local'] })] });
    return { ...one, perAddress: [one] } as TlsHandshake;
  };
  const clock = fixedClock();
  const io = fakeIO({ dns: fakeDns({ [EXTERNAL]: { a: ['203.0.113.7'] }, [HOST]: { cname: EXTERNAL }, 'd0.example': { a: ['203.0.113.7'] } }), tls: { handshake: async (h) => served(h) }, clock });
  const cache = new ProbeCache({ clock, ttlMs: 30_000 });
  const target = (certificateObject?: KubeObject): CheckTarget => domainCheckTarget(
    { domain: 'd0.example', aliases: [], autodiscover: { require: 'Any', hosts: [] } } as unknown as Parameters<typeof domainCheckTarget>[0],
    { externalHost: EXTERNAL, checks: { nameservers: [] } } as unknown as Parameters<typeof domainCheckTarget>[1],
    { includeHttp: false, servedCertificates: servedCertificates(certificateObject) });
  const tlsRow = async (t: CheckTarget) => (await runChecks(t, io, { cache })).find((r) => r.name === `tls/${HOST}`)!;

  it('fails before the certificate is issued, and passes in the same interval once it is', async () => {
    const pending = target(cert('False'));
    assert.equal((await tlsRow(pending)).status, 'Failed');
    issued = true;
    // The same target (nothing known of the certificate) meets the cached failure: that was the delay.
    assert.equal((await tlsRow(pending)).status, 'Failed');
    const ready = target(cert('True', 1));
    assert.notEqual(JSON.stringify(ready), JSON.stringify(pending), 'a new target: the scheduler checks it at once');
    assert.equal((await tlsRow(ready)).status, 'Passed');
  });
});

describe('a MailDomain\'s http/ and redirect/ rows once its certificate is issued', () => {
  // The front serves (and redirects) a host once its certificate is there; before, it answers
  // 404. Both answers are "Passed" for the redirect row (advisory), so a cached one lived a whole
  // interval: at a hoster's 5 minutes its change came in what looked like idle time.
  it('are probed again at the issuance, as tls/ is; the external host\'s, whose certificate did not change, stay cached', async () => {
    let issued = false;
    const http = fakeHttp((req) => {
      if (req.host === HOST && !issued) return response(404);
      return req.scheme === 'http' ? response(301, { location: `https://${req.host}${req.path}` }) : response(401, { 'www-authenticate': 'Basic realm="mail"' });
    });
    const served = (host: string): TlsHandshake => {
      const one = handshake({ chain: [certificate({ dnsNames: [host] })] });
      return { ...one, perAddress: [one] } as TlsHandshake;
    };
    const clock = fixedClock();
    const io = fakeIO({ dns: fakeDns({ [EXTERNAL]: { a: ['203.0.113.7'] }, [HOST]: { cname: EXTERNAL }, 'd0.example': { a: ['203.0.113.7'] } }), tls: { handshake: async (h) => served(h) }, http, clock });
    const cache = new ProbeCache({ clock, ttlMs: 300_000 });
    const external = { 'mail-cert-uid/1': [EXTERNAL] };
    const target = (certificateObject?: KubeObject): CheckTarget => domainCheckTarget(
      { domain: 'd0.example', aliases: [], autodiscover: { require: 'Any', hosts: [] } } as unknown as Parameters<typeof domainCheckTarget>[0],
      { externalHost: EXTERNAL, checks: { nameservers: [] } } as unknown as Parameters<typeof domainCheckTarget>[1],
      { includeHttp: true, servedCertificates: [[EXTERNAL, Object.keys(external)[0]!], ...servedCertificates(certificateObject)] });
    const requestsTo = (host: string) => http.requests.filter((r) => r.host === host).length;
    const redirect = async (t: CheckTarget) => (await runChecks(t, io, { cache })).find((r) => r.name === `redirect/${HOST}`)!;

    assert.equal((await redirect(target(cert('False')))).reason, 'UnexpectedRedirectResponse');
    const [hostBefore, externalBefore] = [requestsTo(HOST), requestsTo(EXTERNAL)];
    issued = true;
    assert.equal((await redirect(target(cert('True', 1)))).reason, 'RedirectToHttps', 'probed again at once, not an interval later');
    assert.ok(requestsTo(HOST) > hostBefore, 'the host\'s http/ and redirect/ probes ran again');
    assert.equal(requestsTo(EXTERNAL), externalBefore, 'the external host\'s probes came from the cache');
  });
});

describe('a failed probe and the scheduler\'s retry', () => {
  it('the retry 5 s after a failure probes again (the front may pick a new certificate up a moment after cert-manager calls it Ready)', async () => {
    const clock = fixedClock();
    const cache = new ProbeCache({ clock, ttlMs: 30_000 });
    let serving = false;
    let probes = 0;
    const probe = async () => {
      probes++;
      return { name: `tls/${HOST}`, status: serving ? 'Passed' as const : 'Failed' as const, reason: serving ? 'Trusted' : 'NameMismatch', message: '', details: {} };
    };
    assert.equal((await cache.get(`tls/${HOST}`, { host: HOST }, probe)).status, 'Failed');
    serving = true;
    clock.advance(5_000);
    assert.equal((await cache.get(`tls/${HOST}`, { host: HOST }, probe)).status, 'Passed');
    assert.equal(probes, 2);
  });
});
