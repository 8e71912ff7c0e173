import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { remedyFor } from '../../../src/gate/index.ts';
import { row } from './fixtures.ts';

const ctx = { externalHost: 'mail.hoster.example', domainOf: (host: string) => (host === 'autodiscover.example.com' ? 'example.com' : undefined) };

describe('remedyFor', () => {
  const cases: [name: string, result: ReturnType<typeof row>, expected: RegExp | undefined][] = [
    ['a passing check needs nothing', row('dns/autodiscover.example.com', 'Passed'), undefined],
    ['a warning needs nothing', row('tls/autodiscover.example.com', 'Warning', 'CertificateExpiringSoon'), undefined],
    ['an unpublished host: the CNAME, or the SRV record of its domain', row('dns/autodiscover.example.com', 'Failed', 'NameNotFound'),
      /^publish autodiscover\.example\.com\. 3600 IN CNAME mail\.hoster\.example\. \(or, without a record at autodiscover\.example\.com: _autodiscover\._tcp\.example\.com\. 3600 IN SRV 0 0 443 mail\.hoster\.example\.\)$/],
    ['a wrong record is replaced', row('dns/autodiscover.example.com', 'Failed', 'WrongAddress'), /^replace the record by autodiscover\.example\.com\. 3600 IN CNAME mail\.hoster\.example\./],
    ['a name server that does not answer', row('dns/autodiscover.example.com', 'Failed', 'QueryTimedOut'), /make the name servers of autodiscover\.example\.com answer/],
    ['a certificate for another name', row('tls/autodiscover.example.com', 'Failed', 'NameMismatch'), /subjectAltName includes DNS:autodiscover\.example\.com/],
    ['a chain without its intermediate', row('tls/mail.hoster.example', 'Failed', 'MissingIntermediate'), /tls\.crt must hold the leaf followed by every intermediate/],
    ['an expired certificate', row('tls/mail.hoster.example', 'Failed', 'Expired'), /renew the certificate/],
    ['the external host without address: an A record, never a CNAME to itself', row('tls/mail.hoster.example', 'Failed', 'HostNotResolved'), /^publish mail\.hoster\.example\. 3600 IN A <address of the front>$/],
    ['an autodiscover host without address', row('tls/autodiscover.example.com', 'Failed', 'HostNotResolved'), /^publish autodiscover\.example\.com\. 3600 IN CNAME mail\.hoster\.example\.$/],
    ['cert-manager\'s certificate', row('certificate', 'Failed', 'CertificateNotReady'), /kubectl describe certificate/],
    ['an advisory row has no record fix', row('rootdomain/example.com', 'Failed', 'Whatever'), undefined],
  ];
  for (const [name, result, expected] of cases) {
    it(name, () => {
      const remedy = remedyFor(result, ctx);
      if (expected === undefined) assert.equal(remedy, undefined);
      else assert.match(remedy ?? '', expected);
    });
  }
});
