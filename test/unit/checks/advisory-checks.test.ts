import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttpRedirect, judgeCertificate, judgeRootDomain } from '../../../src/checks/advisory-checks.ts';
import type { HttpResponse } from '../../../src/checks/types.ts';
import { certificate, fakeHttp, handshake, NOW, response } from './fake-io.ts';

describe('judgeRootDomain (never blocks)', () => {
  it('passes when https://<domain> refuses: the request fails at once and Outlook moves on', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' }, NOW);
    assert.deepEqual([result.name, result.status, result.reason], ['rootdomain/example.com', 'Passed', 'RootDomainRefuses']);
    assert.match(result.message, /fails at once/);
  });
  it('passes when the domain has no address (NXDOMAIN/NODATA)', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'NOT_RESOLVED', detail: 'NODATA', dnsFailure: 'NODATA' }, NOW);
    assert.deepEqual([result.status, result.reason], ['Passed', 'RootDomainNotServing']);
  });
  it('says Unknown, not Passed, when the name server could not be asked', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'NOT_RESOLVED', detail: 'TIMEOUT', dnsFailure: 'TIMEOUT' }, NOW);
    assert.deepEqual([result.status, result.reason], ['Unknown', 'NameServerUnreachable']);
  });
  it('warns when https://<domain> accepts TCP and never completes TLS, naming the fixes', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'TIMEOUT', detail: 'no TLS handshake within 10000 ms', connected: true, address: '203.0.113.9' }, NOW);
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainStalls']);
    assert.match(result.message, /every user waits.*answer at once \(any HTTP status\) or refuse connections on port 443.*ExcludeHttpsRootDomain/);
  });
  it('warns when the TCP connect itself times out (packets dropped), saying it may be local', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'TIMEOUT', detail: 'TCP connect took over 5000 ms', connected: false }, NOW);
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainConnectTimedOut']);
    assert.match(result.message, /if only this checker's network drops them/);
  });
  it('warns when TLS completes but the autodiscover POST is never answered', () => {
    const ok = handshake({ chain: [certificate({ dnsNames: ['example.com'] })] });
    const result = judgeRootDomain('example.com', { ...ok, perAddress: [ok] }, NOW, {
      '203.0.113.7': { ok: false, failure: 'TIMEOUT', detail: 'the connection was accepted but no answer came within 10000 ms', connected: true },
    });
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainStalls']);
    assert.match(result.message, /completes TLS but does not answer POST \/autodiscover\/autodiscover\.xml/);
  });
  it('passes when TLS completes and the POST is answered (any status)', () => {
    const ok = handshake({ chain: [certificate({ dnsNames: ['example.com'] })] });
    const result = judgeRootDomain('example.com', { ...ok, perAddress: [ok] }, NOW, { '203.0.113.7': response(404) });
    assert.deepEqual([result.status, result.reason], ['Passed', 'RootDomainCertificateValid']);
    assert.match(result.message, /HTTP 404/);
  });
  it('one stalling address among two is a Warning that names it', () => {
    const ok = handshake({ address: '203.0.113.7', chain: [certificate({ dnsNames: ['example.com'] })] });
    const stall = { ok: false as const, failure: 'TIMEOUT' as const, detail: 'no TLS handshake', connected: true, address: '203.0.113.8' };
    const result = judgeRootDomain('example.com', { ...ok, perAddress: [ok, stall] }, NOW);
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainStalls']);
    assert.match(result.message, /address 203\.0\.113\.8: .*203\.0\.113\.7 Passed/);
    assert.deepEqual((result.details['addresses'] as { address: string; status: string }[]).map((a) => `${a.address} ${a.status}`), ['203.0.113.7 Passed', '203.0.113.8 Warning']);
  });
  it('passes with a valid certificate for the domain', () => {
    const result = judgeRootDomain('example.com', handshake({ chain: [certificate({ dnsNames: ['example.com', 'www.example.com'] })] }), NOW);
    assert.equal(result.reason, 'RootDomainCertificateValid');
  });
  it('warns when the web site there has a certificate for another name', () => {
    const result = judgeRootDomain('example.com', handshake({ chain: [certificate({ dnsNames: ['www.example.com'] })] }), NOW);
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainCertificateInvalid']);
    assert.match(result.message, /https:\/\/example\.com \(203\.0\.113\.7\) answers with a certificate not valid for example\.com .*SSL Certificate Name Mismatch/);
  });
});

describe('checkHttpRedirect (never blocks)', () => {
  const cases: { name: string; answer: HttpResponse; status: string; reason: string }[] = [
    { name: '302 to https', answer: response(302, { location: 'https://autodiscover.example.com/autodiscover/autodiscover.xml' }), status: 'Passed', reason: 'RedirectToHttps' },
    { name: '301 to https', answer: response(301, { location: 'https://mail.example.com/autodiscover/autodiscover.xml' }), status: 'Passed', reason: 'RedirectToHttps' },
    { name: '307 to https', answer: response(307, { location: 'https://mail.example.com/autodiscover/autodiscover.xml' }), status: 'Passed', reason: 'RedirectToHttps' },
    { name: '308 (Outlook does not follow it)', answer: response(308, { location: 'https://mail.example.com/x' }), status: 'Warning', reason: 'UnexpectedRedirectResponse' },
    { name: '302 to http', answer: response(302, { location: 'http://mail.example.com/x' }), status: 'Warning', reason: 'UnexpectedRedirectResponse' },
    { name: '200', answer: response(200), status: 'Warning', reason: 'UnexpectedRedirectResponse' },
    { name: 'no answer on port 80', answer: { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' }, status: 'Passed', reason: 'RedirectNotOffered' },
    { name: 'no such name (NXDOMAIN)', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'ENOTFOUND', dnsFailure: 'NXDOMAIN' }, status: 'Passed', reason: 'RedirectNotOffered' },
    // The name server did not answer: nothing is known of the redirect (and the row must not be
    // kept for an interval as a Passed one is).
    { name: 'the name server timed out', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'ETIMEOUT', dnsFailure: 'TIMEOUT' }, status: 'Unknown', reason: 'NameServerUnreachable' },
    { name: 'the name server failed (SERVFAIL)', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'ESERVFAIL', dnsFailure: 'SERVFAIL' }, status: 'Unknown', reason: 'DnsLookupFailed' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.reason}`, async () => {
      const http = fakeHttp(() => c.answer);
      const result = await checkHttpRedirect('autodiscover.example.com', http);
      assert.equal(result.status, c.status);
      assert.equal(result.reason, c.reason);
      assert.deepEqual(http.requests.map((r) => `${r.scheme} ${r.method} ${r.host}${r.path}`), ['http GET autodiscover.example.com/autodiscover/autodiscover.xml']);
    });
  }
  it('says a name server time-out left the redirect unprobed, and points at the dns/ row', async () => {
    const result = await checkHttpRedirect('autodiscover.example.com', fakeHttp(() => ({ ok: false, failure: 'NOT_RESOLVED', detail: 'ETIMEOUT', dnsFailure: 'TIMEOUT' })));
    assert.match(result.message, /^GET http:\/\/autodiscover\.example\.com\/autodiscover\/autodiscover\.xml was not sent: No name server answered for autodiscover\.example\.com \(time-out\).*see dns\/autodiscover\.example\.com/);
    assert.doesNotMatch(result.message, /skips the HTTP redirect method/);
  });
});

describe('judgeCertificate', () => {
  it('passes a Ready certificate', () => {
    assert.equal(judgeCertificate({ ready: true, reason: 'Ready', message: 'Certificate is up to date and has not expired' }).status, 'Passed');
  });
  it('fails a certificate that is not Ready and carries cert-manager\'s message', () => {
    const result = judgeCertificate({ ready: false, reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' });
    assert.deepEqual([result.status, result.reason], ['Failed', 'CertificateNotReady']);
    assert.match(result.message, /DoesNotExist.*Issuing certificate as Secret does not exist/);
  });
});
