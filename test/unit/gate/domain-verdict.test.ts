import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from '../../../src/checks/types.ts';
import { domainVerdict, type DomainReason } from '../../../src/gate/index.ts';
import { certificateRow, domainRows, row } from './fixtures.ts';

const COM = 'autodiscover.example.com';
const ORG = 'autodiscover.example.org';
const hosts = [{ domain: 'example.com', host: COM }, { domain: 'example.org', host: ORG }];

interface Case {
  name: string;
  require: 'Any' | 'All';
  rows: CheckResult[];
  certificate?: CheckResult | null;
  passing: boolean;
  published: boolean;
  reason: DomainReason;
  message?: RegExp;
}

const all = (overrides: CheckResult[] = []) => domainRows(['example.com', 'example.org'], overrides);

const cases: Case[] = [
  { name: 'everything passes (Any)', require: 'Any', rows: all(), passing: true, published: true, reason: 'ChecksPassed', message: /example\.com, example\.org/ },
  { name: 'everything passes (All)', require: 'All', rows: all(), passing: true, published: true, reason: 'ChecksPassed' },
  {
    name: 'one alias unpublished, Any: the domain is enough', require: 'Any',
    rows: all([row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), passing: true, published: true, reason: 'ChecksPassed',
  },
  {
    name: 'one alias unpublished, All: fails naming the alias and its row', require: 'All',
    rows: all([row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), passing: false, published: false, reason: 'AutodiscoverNotPublished',
    message: /example\.org: dns\/autodiscover\.example\.org Failed \(NameNotFound\)/,
  },
  {
    name: 'nothing published, Any', require: 'Any',
    rows: all([row(`dns/${COM}`, 'Failed', 'NameNotFound'), row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), passing: false, published: false, reason: 'AutodiscoverNotPublished',
  },
  {
    name: 'published but the TLS Outlook meets fails', require: 'Any',
    rows: all([row(`tls/${COM}`, 'Failed', 'NameMismatch'), row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), passing: false, published: true, reason: 'AutodiscoverTlsFailed',
    message: /tls\/autodiscover\.example\.com Failed \(NameMismatch\)/,
  },
  {
    name: 'certificate expiring soon (tls Warning) still counts', require: 'All',
    rows: all([row(`tls/${COM}`, 'Warning', 'CertificateExpiringSoon'), row(`tls/${ORG}`, 'Warning', 'CertificateExpiringSoon')]), passing: true, published: true, reason: 'ChecksPassed',
  },
  {
    name: 'SRV-published: the SRV target\'s TLS counts, not the host\'s', require: 'All',
    rows: [
      ...all([row(`dns/${ORG}`, 'Warning', 'SrvRecordOnly', { srvTarget: 'mail.hoster.example' }), row(`tls/${ORG}`, 'Warning', 'PublishedBySrvOnly')]),
      row('tls/mail.hoster.example', 'Passed'),
    ],
    passing: true, published: true, reason: 'ChecksPassed',
  },
  {
    name: 'SRV-published with a broken SRV target', require: 'All',
    rows: [...all([row(`dns/${ORG}`, 'Warning', 'SrvRecordOnly', { srvTarget: 'mail.hoster.example.' })]), row('tls/mail.hoster.example', 'Failed', 'Expired')],
    passing: false, published: true, reason: 'AutodiscoverTlsFailed', message: /tls\/mail\.hoster\.example Failed \(Expired\)/,
  },
  { name: 'checks not yet run', require: 'Any', rows: [], passing: false, published: false, reason: 'ChecksPending' },
  { name: 'certificate not Ready comes first', require: 'Any', rows: all(), certificate: certificateRow('Unknown'), passing: false, published: true, reason: 'CertificateNotReady' },
  { name: 'certificate Ready', require: 'Any', rows: all(), certificate: certificateRow('Passed'), passing: true, published: true, reason: 'ChecksPassed' },
];

describe('domainVerdict', () => {
  for (const c of cases) {
    it(c.name, () => {
      const v = domainVerdict(c.rows, { require: c.require, autodiscoverHosts: hosts, ...(c.certificate ? { certificate: c.certificate } : {}) });
      assert.deepEqual([v.passing, v.published, v.reason], [c.passing, c.published, c.reason], v.message);
      if (c.message) assert.match(v.message, c.message);
    });
  }

  it('per host: published and served, with the row that decides a failing host', () => {
    const v = domainVerdict(all([row(`dns/${ORG}`, 'Failed', 'NameNotFound')]), { require: 'Any', autodiscoverHosts: hosts });
    assert.deepEqual(v.hosts.map((h) => [h.host, h.domain, h.published, h.served]), [[COM, 'example.com', true, true], [ORG, 'example.org', false, true]]);
    assert.match(v.hosts[1]?.missing ?? '', /^dns\/autodiscover\.example\.org Failed/);
  });

  it('a domain with two explicit hosts passes when one of them does (require All)', () => {
    const two = [{ domain: 'example.com', host: COM }, { domain: 'example.com', host: 'autodiscover2.example.com' }, { domain: 'example.org', host: ORG }];
    const v = domainVerdict(all([row('dns/autodiscover2.example.com', 'Failed', 'NameNotFound')]), { require: 'All', autodiscoverHosts: two });
    assert.equal(v.passing, true, v.message);
  });

  it('no autodiscover host left (all claimed elsewhere): not published', () => {
    const v = domainVerdict(all(), { require: 'Any', autodiscoverHosts: [] });
    assert.deepEqual([v.passing, v.reason], [false, 'AutodiscoverNotPublished']);
  });
});
