import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineAddressResults, worstStatus } from '../../../src/checks/per-address.ts';
import { judgeTlsHandshake } from '../../../src/checks/tls-check.ts';
import type { CheckResult, SingleTlsHandshake } from '../../../src/checks/types.ts';
import { certificate, DAY, handshake, NOW } from './fake-io.ts';

const row = (status: CheckResult['status'], reason: string): CheckResult => ({ name: 'tls/mail.example.com', status, reason, message: `${reason} message`, details: {} });

describe('combineAddressResults', () => {
  it('the worst status wins: Failed over Unknown over Warning over Passed', () => {
    assert.equal(worstStatus(['Passed', 'Warning']), 'Warning');
    assert.equal(worstStatus(['Warning', 'Unknown']), 'Unknown');
    assert.equal(worstStatus(['Unknown', 'Failed', 'Passed']), 'Failed');
  });
  it('one address: its row, with details.addresses', () => {
    const result = combineAddressResults('mail.example.com', [{ address: '203.0.113.7', result: row('Passed', 'CertificateValid') }]);
    assert.deepEqual([result.status, result.reason, result.message], ['Passed', 'CertificateValid', 'CertificateValid message']);
    assert.deepEqual(result.details['addresses'], [{ address: '203.0.113.7', status: 'Passed', reason: 'CertificateValid', message: 'CertificateValid message' }]);
  });
  it('addresses that disagree: the worst one named in the message, the others listed', () => {
    const result = combineAddressResults('mail.example.com', [
      { address: '203.0.113.7', result: row('Passed', 'CertificateValid') },
      { address: '203.0.113.8', result: row('Failed', 'Expired') },
      { address: '203.0.113.9', result: row('Warning', 'CertificateExpiringSoon') },
    ]);
    assert.deepEqual([result.status, result.reason], ['Failed', 'Expired']);
    assert.match(result.message, /^mail\.example\.com has 3 addresses .*; address 203\.0\.113\.8: Expired message — the other addresses: 203\.0\.113\.7 Passed \(CertificateValid\), 203\.0\.113\.9 Warning/);
  });
  it('addresses that agree: one message saying all of them', () => {
    const result = combineAddressResults('mail.example.com', [
      { address: '203.0.113.7', result: row('Passed', 'CertificateValid') },
      { address: '203.0.113.8', result: row('Passed', 'CertificateValid') },
    ], 3);
    assert.match(result.message, /^all 2 addresses of mail\.example\.com \(203\.0\.113\.7, 203\.0\.113\.8\): CertificateValid message \(only the first 2 of 5 addresses were probed\)/);
    assert.equal(result.details['addressesNotProbed'], 3);
  });
});

describe('judgeTlsHandshake on several addresses', () => {
  it('a second front with an expired certificate fails tls/<host> and names that address', () => {
    const good = handshake({ address: '203.0.113.7' }) as SingleTlsHandshake;
    const expired = handshake({ address: '203.0.113.8', chain: [certificate({ notBefore: NOW - 400 * DAY, notAfter: NOW - 2 * DAY })] }) as SingleTlsHandshake;
    const result = judgeTlsHandshake('mail.example.com', { ...good, perAddress: [good, expired] }, NOW);
    assert.deepEqual([result.status, result.reason], ['Failed', 'Expired']);
    assert.match(result.message, /address 203\.0\.113\.8: The certificate for mail\.example\.com expired on .*203\.0\.113\.7 Passed/);
  });
  it('a refused address and a timed-out one are told apart', () => {
    const refused: SingleTlsHandshake = { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED', address: '203.0.113.7', port: 443 };
    const timedOut: SingleTlsHandshake = { ok: false, failure: 'TIMEOUT', detail: 'TCP connect took over 5000 ms', address: '203.0.113.8', port: 443 };
    const result = judgeTlsHandshake('mail.example.com', { ...refused, perAddress: [refused, timedOut] }, NOW);
    const reasons = (result.details['addresses'] as { reason: string }[]).map((a) => a.reason);
    assert.deepEqual(reasons, ['ConnectionRefused', 'ConnectionTimedOut']);
  });
  it('an address the checks never dial is a Failed AddressNotAllowed', () => {
    const metadata: SingleTlsHandshake = { ok: false, failure: 'NOT_ALLOWED', detail: '169.254.169.254 is link-local', address: '169.254.169.254', port: 443 };
    const result = judgeTlsHandshake('mail.example.com', { ...metadata, perAddress: [metadata] }, NOW);
    assert.deepEqual([result.status, result.reason], ['Failed', 'AddressNotAllowed']);
  });
  it('NXDOMAIN advises a record; a refused or silent name server points at dns/ and says Unknown', () => {
    const nx = judgeTlsHandshake('mail.example.com', { ok: false, failure: 'NOT_RESOLVED', detail: 'NXDOMAIN', dnsFailure: 'NXDOMAIN' }, NOW);
    assert.deepEqual([nx.status, nx.reason], ['Failed', 'HostNotResolved']);
    assert.match(nx.message, /publish an A\/AAAA or CNAME record/);
    const servfail = judgeTlsHandshake('autodiscover.example.com', { ok: false, failure: 'NOT_RESOLVED', detail: 'SERVFAIL', dnsFailure: 'SERVFAIL' }, NOW, { dnsCheck: 'dns/autodiscover.example.com' });
    assert.deepEqual([servfail.status, servfail.reason], ['Unknown', 'DnsLookupFailed']);
    assert.match(servfail.message, /see dns\/autodiscover\.example\.com/);
    assert.doesNotMatch(servfail.message, /publish an A/);
  });
});
