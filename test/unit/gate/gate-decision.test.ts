import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult, CheckStatus } from '../../../src/checks/types.ts';
import { gateDecision, type GateTarget } from '../../../src/gate/gate-decision.ts';

const EXTERNAL = 'mail.example.com';
const COM = 'autodiscover.example.com';
const ORG = 'autodiscover.example.org';

function row(name: string, status: CheckStatus, reason = status === 'Passed' ? 'Ok' : 'Broken', details: Record<string, unknown> = {}): CheckResult {
  return { name, status, reason, message: `${name} ${status}`, details };
}

/** Everything passing; a case overrides rows by name. */
function results(overrides: CheckResult[] = [], drop: string[] = []): CheckResult[] {
  const all = [
    row('certificate', 'Passed'),
    row(`dns/${COM}`, 'Passed'), row(`dns/${ORG}`, 'Passed'),
    row(`tls/${EXTERNAL}`, 'Passed'), row(`tls/${COM}`, 'Passed'), row(`tls/${ORG}`, 'Passed'),
    row('http/mail.example.com', 'Failed'), row('rootdomain/example.com', 'Warning'), row(`redirect/${COM}`, 'Warning'),
  ];
  const byName = new Map(all.map((r) => [r.name, r]));
  for (const o of overrides) byName.set(o.name, o);
  for (const d of drop) byName.delete(d);
  return [...byName.values()];
}

const target = (require: 'Any' | 'All', withCertificate = true): GateTarget => ({
  require,
  externalHost: EXTERNAL,
  autodiscoverHosts: [{ domain: 'example.com', host: COM }, { domain: 'example.org', host: ORG }],
  ...(withCertificate ? { certificate: { ready: true, reason: 'Ready', message: '' } } : {}),
});

interface Case {
  name: string;
  require: 'Any' | 'All';
  rows: CheckResult[];
  withCertificate?: boolean;
  open: boolean;
  reason: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'everything passes', require: 'Any', rows: results(), open: true, reason: 'GatePassed' },
  { name: 'everything passes (All)', require: 'All', rows: results(), open: true, reason: 'GatePassed' },
  { name: 'warnings never block: http/, rootdomain/, redirect/', require: 'All', rows: results(), open: true, reason: 'GatePassed' },
  { name: 'certificate not ready', require: 'Any', rows: results([row('certificate', 'Failed', 'CertificateNotReady')]), open: false, reason: 'CertificateNotReady', message: /certificate Failed \(CertificateNotReady\)/ },
  { name: 'no certificate row while a certificate is expected', require: 'Any', rows: results([], ['certificate']), open: false, reason: 'CertificateNotReady', message: /has not run/ },
  { name: 'no certificate check without a cluster', require: 'Any', rows: results([], ['certificate']), withCertificate: false, open: true, reason: 'GatePassed' },
  { name: 'external host TLS fails', require: 'Any', rows: results([row(`tls/${EXTERNAL}`, 'Failed', 'NameMismatch')]), open: false, reason: 'ExternalHostTlsFailed', message: /tls\/mail\.example\.com Failed \(NameMismatch\)/ },
  { name: 'external host TLS expiring soon still counts', require: 'Any', rows: results([row(`tls/${EXTERNAL}`, 'Warning', 'CertificateExpiringSoon')]), open: true, reason: 'GatePassed' },
  { name: 'external host TLS unknown', require: 'Any', rows: results([row(`tls/${EXTERNAL}`, 'Unknown', 'CheckTimedOut')]), open: false, reason: 'ExternalHostTlsFailed' },
  { name: 'Any: alias alone is enough', require: 'Any', rows: results([row(`dns/${COM}`, 'Failed', 'NameNotFound')]), open: true, reason: 'GatePassed', message: /example\.org/ },
  { name: 'All: alias missing closes', require: 'All', rows: results([row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), open: false, reason: 'AutodiscoverNotPublished', message: /example\.org: dns\/autodiscover\.example\.org Failed \(NameNotFound\)/ },
  { name: 'Any: nothing published', require: 'Any', rows: results([row(`dns/${COM}`, 'Failed', 'NameNotFound'), row(`dns/${ORG}`, 'Failed', 'WrongAddress')]), open: false, reason: 'AutodiscoverNotPublished', message: /example\.com: .*NameNotFound.*example\.org: .*WrongAddress/ },
  { name: 'Any: published but TLS fails everywhere', require: 'Any', rows: results([row(`tls/${COM}`, 'Failed', 'NameMismatch'), row(`tls/${ORG}`, 'Failed', 'Expired')]), open: false, reason: 'AutodiscoverTlsFailed', message: /tls\/autodiscover\.example\.com Failed \(NameMismatch\)/ },
  { name: 'dns/ Warning counts as published', require: 'All', rows: results([row(`dns/${COM}`, 'Warning', 'SomeAddressesElsewhere')]), open: true, reason: 'GatePassed' },
  {
    name: 'SRV-published domain: the SRV target\'s tls/ counts, not the autodiscover host\'s', require: 'All',
    rows: results([row(`dns/${ORG}`, 'Warning', 'SrvRecordOnly', { srvTarget: EXTERNAL }), row(`tls/${ORG}`, 'Failed', 'HostNotResolved')]),
    open: true, reason: 'GatePassed',
  },
  {
    name: 'SRV-published domain whose target fails TLS', require: 'All',
    rows: results([row(`dns/${ORG}`, 'Warning', 'SrvRecordOnly', { srvTarget: COM }), row(`tls/${COM}`, 'Failed', 'Expired'), row(`dns/${COM}`, 'Failed', 'NameNotFound')]),
    open: false, reason: 'AutodiscoverNotPublished',
  },
  { name: 'a missing dns/ row is not a pass', require: 'All', rows: results([], [`dns/${ORG}`]), open: false, reason: 'AutodiscoverNotPublished', message: /dns\/autodiscover\.example\.org has not run/ },
  { name: 'Unknown dns/ is not published', require: 'All', rows: results([row(`dns/${COM}`, 'Unknown', 'CheckTimedOut')]), open: false, reason: 'AutodiscoverNotPublished' },
];

describe('gateDecision', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.open ? 'open' : 'closed'} (${c.reason})`, () => {
      const decision = gateDecision(c.rows, target(c.require, c.withCertificate ?? true));
      assert.equal(decision.open, c.open, decision.message);
      assert.equal(decision.reason, c.reason);
      if (c.message) assert.match(decision.message, c.message);
    });
  }

  it('is closed when no autodiscover host is declared', () => {
    const decision = gateDecision(results(), { require: 'Any', externalHost: EXTERNAL, autodiscoverHosts: [] });
    assert.deepEqual([decision.open, decision.reason], [false, 'AutodiscoverNotPublished']);
  });

  it('is pure: the same input gives the same decision and the input is untouched', () => {
    const rows = results([row(`dns/${COM}`, 'Failed', 'NameNotFound')]);
    const before = JSON.stringify(rows);
    assert.deepEqual(gateDecision(rows, target('All')), gateDecision(rows, target('All')));
    assert.equal(JSON.stringify(rows), before);
  });
});
