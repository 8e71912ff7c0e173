import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeTlsHandshake } from '../../../src/checks/tls-check.ts';
import type { TlsHandshake } from '../../../src/checks/types.ts';
import { certificate, DAY, handshake, NOW } from './fake-io.ts';

const HOST = 'mail.example.com';

interface Case {
  name: string;
  handshake: TlsHandshake;
  host?: string;
  status: string;
  reason: string;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'trusted, named, valid', handshake: handshake(), status: 'Passed', reason: 'CertificateValid', message: /trusted certificate for mail\.example\.com/ },
  { name: 'wildcard covers one label', host: 'autodiscover.example.com', handshake: handshake({ chain: [certificate({ dnsNames: ['*.example.com'] })] }), status: 'Passed', reason: 'CertificateValid', message: /trusted/ },
  { name: 'wildcard does not cover two labels', host: 'autodiscover.mail.example.com', handshake: handshake({ chain: [certificate({ dnsNames: ['*.example.com'] })] }), status: 'Failed', reason: 'NameMismatch', message: /SSL Certificate Name Mismatch/ },
  { name: 'expiring within 7 days', handshake: handshake({ chain: [certificate({ notAfter: NOW + 3 * DAY })] }), status: 'Warning', reason: 'CertificateExpiringSoon', message: /expires in 3 day/ },
  { name: 'expired', handshake: handshake({ chain: [certificate({ notAfter: NOW - DAY })] }), status: 'Failed', reason: 'Expired', message: /expired on .*renew it/ },
  { name: 'not yet valid', handshake: handshake({ chain: [certificate({ notBefore: NOW + DAY })] }), status: 'Failed', reason: 'NotYetValid', message: /not valid before/ },
  { name: 'expired intermediate', handshake: handshake({ chain: [certificate(), certificate({ subject: 'CN=Example Intermediate', notAfter: NOW - DAY })] }), status: 'Failed', reason: 'Expired', message: /chain certificate CN=Example Intermediate expired/ },
  { name: 'name mismatch', handshake: handshake({ chain: [certificate({ dnsNames: ['www.example.com'] })] }), status: 'Failed', reason: 'NameMismatch', message: /SSL Certificate Name Mismatch: .*valid for www\.example\.com, not for mail\.example\.com/ },
  { name: 'self-signed', handshake: handshake({ chainStatus: 'SelfSigned', verifyError: 'DEPTH_ZERO_SELF_SIGNED_CERT', chain: [certificate({ selfSigned: true })] }), status: 'Failed', reason: 'SelfSigned', message: /SSL Certificate Trust Failure: .*self-signed/ },
  { name: 'missing intermediate', handshake: handshake({ chainStatus: 'MissingIntermediate', verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), status: 'Failed', reason: 'MissingIntermediate', message: /Missing Intermediate Certificates in Chain/ },
  { name: 'untrusted root', handshake: handshake({ chainStatus: 'UntrustedRoot', verifyError: 'SELF_SIGNED_CERT_IN_CHAIN', chain: [certificate(), certificate({ subject: 'CN=Private Root', selfSigned: true })] }), status: 'Failed', reason: 'UntrustedRoot', message: /SSL Certificate Trust Failure: .*CN=Private Root.*checks\.caBundle/ },
  { name: 'chain rejected otherwise', handshake: handshake({ chainStatus: 'Invalid', verifyError: 'CERT_SIGNATURE_FAILURE' }), status: 'Failed', reason: 'ChainInvalid', message: /CERT_SIGNATURE_FAILURE/ },
  { name: 'not resolved', handshake: { ok: false, failure: 'NOT_RESOLVED', detail: 'NXDOMAIN' }, status: 'Failed', reason: 'HostNotResolved', message: /could not be resolved in DNS/ },
  { name: 'refused', handshake: { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' }, status: 'Failed', reason: 'ConnectionRefused', message: /connection refused/ },
  { name: 'time-out', handshake: { ok: false, failure: 'TIMEOUT', detail: 'no TLS handshake within 10000 ms' }, status: 'Failed', reason: 'ConnectionTimedOut', message: /no answer in time/ },
  { name: 'reset', handshake: { ok: false, failure: 'RESET', detail: 'ECONNRESET' }, status: 'Failed', reason: 'ConnectionReset', message: /reset/ },
  { name: 'handshake alert', handshake: { ok: false, failure: 'HANDSHAKE', detail: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR' }, status: 'Failed', reason: 'HandshakeFailed', message: /SNI/ },
];

describe('judgeTlsHandshake', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.reason}`, () => {
      const host = c.host ?? HOST;
      const result = judgeTlsHandshake(host, c.handshake, NOW);
      assert.equal(result.name, `tls/${host}`);
      assert.equal(result.status, c.status, result.message);
      assert.equal(result.reason, c.reason);
      assert.match(result.message, c.message);
    });
  }

  it('names every problem when there are several, the name first', () => {
    const result = judgeTlsHandshake(HOST, handshake({ chainStatus: 'SelfSigned', chain: [certificate({ dnsNames: ['other.example.com'], notAfter: NOW - DAY, selfSigned: true })] }), NOW);
    assert.equal(result.reason, 'NameMismatch');
    assert.deepEqual(result.details['problems'], ['NameMismatch', 'SelfSigned', 'Expired']);
    assert.match(result.message, /also: SelfSigned, Expired/);
  });

  it('judges dates by the injected clock, not the machine clock', () => {
    const hs = handshake({ chain: [certificate({ notAfter: NOW + 10 * DAY })] });
    assert.equal(judgeTlsHandshake(HOST, hs, NOW).status, 'Passed');
    assert.equal(judgeTlsHandshake(HOST, hs, NOW + 5 * DAY).status, 'Warning');
    assert.equal(judgeTlsHandshake(HOST, hs, NOW + 11 * DAY).status, 'Failed');
  });
});
