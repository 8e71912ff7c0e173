import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttpRedirect, judgeCertificate, judgeRootDomain } from '../../../src/checks/advisory-checks.ts';
import type { HttpResponse } from '../../../src/checks/types.ts';
import { certificate, fakeHttp, handshake, NOW, response } from './fake-io.ts';

describe('judgeRootDomain (never blocks)', () => {
  it('passes when https://<domain> does not answer', () => {
    const result = judgeRootDomain('example.com', { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' }, NOW);
    assert.deepEqual([result.name, result.status, result.reason], ['rootdomain/example.com', 'Passed', 'RootDomainNotServing']);
  });
  it('passes with a valid certificate for the domain', () => {
    const result = judgeRootDomain('example.com', handshake({ chain: [certificate({ dnsNames: ['example.com', 'www.example.com'] })] }), NOW);
    assert.equal(result.reason, 'RootDomainCertificateValid');
  });
  it('warns when the web site there has a certificate for another name', () => {
    const result = judgeRootDomain('example.com', handshake({ chain: [certificate({ dnsNames: ['www.example.com'] })] }), NOW);
    assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainCertificateInvalid']);
    assert.match(result.message, /https:\/\/example\.com answers with a certificate not valid for example\.com .*SSL Certificate Name Mismatch/);
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
