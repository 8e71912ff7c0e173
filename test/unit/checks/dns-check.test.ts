import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveAddresses } from '../../../src/checks/address-resolution.ts';
import { checkAutodiscoverDns, preferredSrv } from '../../../src/checks/dns-check.ts';
import { fakeDns, type FakeName } from './fake-io.ts';

const EXTERNAL = 'mail.example.com';
const HOST = 'autodiscover.example.org';
const SRV = '_autodiscover._tcp.example.org';
const base: Record<string, FakeName> = { [EXTERNAL]: { a: ['203.0.113.7'] } };

interface Case {
  name: string;
  zone: Record<string, FakeName>;
  status: string;
  reason: string;
  /** Fragments the message must contain (it names the problem and the fix). */
  message: string[];
  srvTarget?: string;
}

const cases: Case[] = [
  { name: 'CNAME to the external host', zone: { [HOST]: { cname: EXTERNAL } }, status: 'Passed', reason: 'CnameToExternalHost', message: ['CNAME → mail.example.com (203.0.113.7)'] },
  { name: 'A record with the external address', zone: { [HOST]: { a: ['203.0.113.7'] } }, status: 'Passed', reason: 'AddressOfExternalHost', message: ['203.0.113.7', EXTERNAL] },
  { name: 'CNAME via another name to the same address', zone: { [HOST]: { cname: 'lb.example.net' }, 'lb.example.net': { a: ['203.0.113.7'] } }, status: 'Passed', reason: 'AddressOfExternalHost', message: ['203.0.113.7'] },
  { name: 'some addresses elsewhere', zone: { [HOST]: { a: ['203.0.113.7', '198.51.100.1'] } }, status: 'Warning', reason: 'SomeAddressesElsewhere', message: ['198.51.100.1', `publish a CNAME ${HOST} → ${EXTERNAL}`] },
  { name: 'wrong address', zone: { [HOST]: { a: ['198.51.100.1'] } }, status: 'Failed', reason: 'WrongAddress', message: ['198.51.100.1', `not to ${EXTERNAL}`, `publish a CNAME ${HOST} → ${EXTERNAL}`] },
  { name: 'NXDOMAIN, no SRV', zone: {}, status: 'Failed', reason: 'NameNotFound', message: [`${HOST} could not be resolved in DNS (NXDOMAIN)`, `publish a CNAME ${HOST} → ${EXTERNAL}`] },
  { name: 'NODATA, no SRV', zone: { [HOST]: {} }, status: 'Failed', reason: 'NoAddressRecord', message: [`${HOST} has no A/AAAA/CNAME record (NODATA)`, 'publish a CNAME'] },
  {
    name: 'SRV on 443 to the external host', zone: { [SRV]: { srv: [{ name: 'mail.example.com.', port: 443, priority: 0, weight: 0 }] } },
    status: 'Warning', reason: 'SrvRecordOnly', message: ['asks the user to confirm', `publish a CNAME ${HOST} → ${EXTERNAL}`], srvTarget: EXTERNAL,
  },
  {
    name: 'SRV on another port only', zone: { [SRV]: { srv: [{ name: EXTERNAL, port: 8443, priority: 0, weight: 0 }] } },
    status: 'Failed', reason: 'SrvWrongPort', message: ['mail.example.com:8443', 'port 443'],
  },
  {
    name: 'SRV on 443 wins over a preferred record on another port', zone: { [SRV]: { srv: [{ name: 'other.example.net', port: 8443, priority: 0, weight: 0 }, { name: EXTERNAL, port: 443, priority: 10, weight: 0 }] } },
    status: 'Warning', reason: 'SrvRecordOnly', message: ['mail.example.com:443'], srvTarget: EXTERNAL,
  },
  {
    name: 'SRV to a host this MailDomain does not serve (a hoster\'s shared name): published, with the prompt', zone: { [SRV]: { srv: [{ name: 'mail.hoster.net', port: 443, priority: 0, weight: 0 }] } },
    status: 'Warning', reason: 'SrvRecordOnly', message: ['mail.hoster.net:443', 'outside this MailDomain', 'allow the redirect', 'see tls/mail.hoster.net'], srvTarget: 'mail.hoster.net',
  },
  { name: 'SRV "." (service not offered)', zone: { [SRV]: { srv: [{ name: '.', port: 0, priority: 0, weight: 0 }] } }, status: 'Failed', reason: 'NameNotFound', message: ['NXDOMAIN'] },
  { name: 'dangling CNAME', zone: { [HOST]: { cname: 'old-lb.example.net' } }, status: 'Failed', reason: 'DanglingCname', message: ['CNAME to old-lb.example.net', 'NXDOMAIN', 'publish a CNAME'] },
  { name: 'CNAME loop', zone: { [HOST]: { cname: 'x.example.org' }, 'x.example.org': { cname: HOST } }, status: 'Failed', reason: 'CnameLoop', message: ['loop', 'x.example.org'] },
  {
    name: 'CNAME chain too long',
    zone: Object.fromEntries([[HOST, { cname: 'c1.example.org' }], ...Array.from({ length: 9 }, (_, i) => [`c${i + 1}.example.org`, { cname: `c${i + 2}.example.org` }]), ['c10.example.org', { a: ['203.0.113.7'] }]]),
    status: 'Failed', reason: 'CnameChainTooLong', message: ['more than 8 CNAMEs'],
  },
  { name: 'SERVFAIL', zone: { [HOST]: { fail: 'SERVFAIL' } }, status: 'Failed', reason: 'ServerFailure', message: ['(SERVFAIL)'] },
  { name: 'REFUSED', zone: { [HOST]: { fail: 'REFUSED' } }, status: 'Failed', reason: 'QueryRefused', message: ['(REFUSED)', 'checks.nameservers'] },
  { name: 'time-out', zone: { [HOST]: { fail: 'TIMEOUT' } }, status: 'Failed', reason: 'QueryTimedOut', message: ['(time-out)'] },
];

describe('checkAutodiscoverDns', () => {
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.reason}`, async () => {
      const dns = fakeDns({ ...base, ...c.zone });
      const result = await checkAutodiscoverDns({
        entry: { domain: 'example.org', host: HOST },
        externalHost: EXTERNAL,
        servedHosts: [EXTERNAL, HOST, 'autodiscover.example.com'],
        external: await resolveAddresses(EXTERNAL, dns),
      }, dns);
      assert.equal(result.name, `dns/${HOST}`);
      assert.equal(result.status, c.status, result.message);
      assert.equal(result.reason, c.reason);
      for (const fragment of c.message) assert.ok(result.message.includes(fragment), `"${result.message}" lacks "${fragment}"`);
      assert.equal(result.details['srvTarget'], c.srvTarget);
    });
  }

  it('fails with ExternalHostNotResolved when the external host itself has no address', async () => {
    const dns = fakeDns({ [HOST]: { a: ['203.0.113.7'] } });
    const result = await checkAutodiscoverDns({
      entry: { domain: 'example.org', host: HOST }, externalHost: EXTERNAL, servedHosts: [EXTERNAL], external: await resolveAddresses(EXTERNAL, dns),
    }, dns);
    assert.equal(result.reason, 'ExternalHostNotResolved');
    assert.match(result.message, /publish an A\/AAAA record for mail\.example\.com/);
  });

  it('only asks for SRV when the host has no record', async () => {
    const dns = fakeDns({ ...base, [HOST]: { cname: EXTERNAL } });
    await checkAutodiscoverDns({ entry: { domain: 'example.org', host: HOST }, externalHost: EXTERNAL, servedHosts: [EXTERNAL], external: await resolveAddresses(EXTERNAL, dns) }, dns);
    assert.equal(dns.queries.filter((q) => q.startsWith('SRV')).length, 0);
  });
});

describe('preferredSrv (RFC 2782 order)', () => {
  it('takes the lowest priority, then the highest weight', () => {
    const best = preferredSrv([
      { name: 'c', port: 443, priority: 20, weight: 100 },
      { name: 'a', port: 443, priority: 10, weight: 5 },
      { name: 'b', port: 443, priority: 10, weight: 50 },
    ]);
    assert.equal(best?.name, 'b');
  });
});
