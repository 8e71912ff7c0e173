import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from '../../../src/checks/types.ts';
import { jsonReport, textReport, useColour } from '../../../src/cli/report.ts';

const subject = {
  domain: 'example.com', aliases: ['example.org'], externalHost: 'mail.example.com',
  autodiscoverHosts: [{ domain: 'example.com', host: 'autodiscover.example.com' }, { domain: 'example.org', host: 'autodiscover.example.org' }],
};
const rows: CheckResult[] = [
  { name: 'dns/autodiscover.example.org', status: 'Failed', reason: 'NameNotFound', message: 'autodiscover.example.org could not be resolved in DNS (NXDOMAIN)', details: {} },
  { name: 'tls/mail.example.com', status: 'Passed', reason: 'CertificateValid', message: 'ok', details: { port: 443 } },
  { name: 'dns/autodiscover.example.com', status: 'Passed', reason: 'CnameToExternalHost', message: 'CNAME → mail.example.com', details: {} },
  { name: 'tls/autodiscover.example.com', status: 'Warning', reason: 'CertificateExpiringSoon', message: 'expires in 3 day(s)', details: {} },
];
const gate = { open: false, reason: 'ExternalHostTlsFailed', message: 'tls/mail.example.com Failed' };

describe('jsonReport', () => {
  it('is exactly {gate, checks} with the five fields per check', () => {
    const report = JSON.parse(JSON.stringify(jsonReport(rows, gate))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), ['gate', 'checks']);
    assert.equal(report['gate'], 'Closed');
    assert.deepEqual((report['checks'] as Record<string, unknown>[]).map((c) => Object.keys(c)), rows.map(() => ['name', 'status', 'reason', 'message', 'details']));
    assert.equal(jsonReport(rows, { ...gate, open: true }).gate, 'Open');
  });
});

describe('textReport', () => {
  const text = textReport(subject, rows, gate, false);
  it('groups per host: the external host, then each autodiscover host in declared order', () => {
    const order = ['mail.example.com\n', 'autodiscover.example.com\n', 'autodiscover.example.org\n'].map((h) => text.indexOf(h));
    assert.ok(order.every((i) => i >= 0), text);
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.ok(text.indexOf('[PASS] dns') < text.indexOf('[WARN] tls'), 'dns before tls within a host');
  });
  it('ends with the counts and the gate', () => {
    assert.match(text, /4 checks: 2 passed, 1 warning, 1 failed\nGate: CLOSED \(ExternalHostTlsFailed\) — tls\/mail\.example\.com Failed\n$/);
  });
  it('has no escape codes without colour, and some with', () => {
    assert.ok(!text.includes('\u001b['));
    assert.ok(textReport(subject, rows, gate, true).includes('\u001b[31m'));
  });
});

describe('textReport with several addresses per host', () => {
  it('lists each address under the row, the failing one marked', () => {
    const twoFronts: CheckResult = {
      name: 'tls/mail.example.com', status: 'Failed', reason: 'Expired', message: 'mail.example.com has 2 addresses; address 203.0.113.8: expired',
      details: { addresses: [
        { address: '203.0.113.7', status: 'Passed', reason: 'CertificateValid', message: 'ok' },
        { address: '203.0.113.8', status: 'Failed', reason: 'Expired', message: 'expired' },
      ] },
    };
    const text = textReport(subject, [twoFronts], gate, false);
    assert.match(text, /\[FAIL\] tls {9}Expired\n.*address 203\.0\.113\.8: expired\n {11}203\.0\.113\.7 {5}PASS CertificateValid\n {11}203\.0\.113\.8 {5}FAIL Expired\n/);
  });
  it('prints no address lines for a host with one address', () => {
    const one: CheckResult = { name: 'tls/mail.example.com', status: 'Passed', reason: 'CertificateValid', message: 'ok', details: { addresses: [{ address: '203.0.113.7', status: 'Passed', reason: 'CertificateValid', message: 'ok' }] } };
    assert.ok(!textReport(subject, [one], gate, false).includes('203.0.113.7'));
  });
});

describe('useColour', () => {
  it('only on a TTY, never with NO_COLOR or TERM=dumb', () => {
    assert.equal(useColour({ isTTY: true }, {}), true);
    assert.equal(useColour({ isTTY: false }, {}), false);
    assert.equal(useColour({}, {}), false);
    assert.equal(useColour({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColour({ isTTY: true }, { TERM: 'dumb' }), false);
  });
});
