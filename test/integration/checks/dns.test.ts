// dns/ against a real name server (BIND), one zone record per failure kind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { resolveAddresses } from '../../../src/checks/address-resolution.ts';
import { checkAutodiscoverDns } from '../../../src/checks/dns-check.ts';
import { createDnsResolver } from '../../../src/checks/io.ts';
import type { DnsResolver } from '../../../src/checks/types.ts';
import { startWorld, type World } from './world.ts';

const EXTERNAL = 'mail.dns.test';

describe('dns/ against a real name server', () => {
  let world: World;
  let dns: DnsResolver;
  before(async () => {
    world = await startWorld();
    dns = createDnsResolver([world.dns.nameserver], { dnsTimeoutMs: 1_000, dnsTries: 1 });
  });
  after(() => world.stop());

  const check = async (resolver: DnsResolver, domain: string) => checkAutodiscoverDns({
    entry: { domain, host: `autodiscover.${domain}` },
    externalHost: EXTERNAL,
    servedHosts: [EXTERNAL],
    external: await resolveAddresses(EXTERNAL, resolver),
  }, resolver);

  const cases: { domain: string; status: string; reason: string; message: RegExp; srvTarget?: string }[] = [
    { domain: 'cname.dns.test', status: 'Passed', reason: 'CnameToExternalHost', message: /CNAME → mail\.dns\.test \(127\.0\.0\.21\)/ },
    { domain: 'a.dns.test', status: 'Passed', reason: 'AddressOfExternalHost', message: /127\.0\.0\.21/ },
    { domain: 'wrong.dns.test', status: 'Failed', reason: 'WrongAddress', message: /resolves to 127\.0\.0\.99, not to mail\.dns\.test/ },
    { domain: 'missing.dns.test', status: 'Failed', reason: 'NameNotFound', message: /autodiscover\.missing\.dns\.test could not be resolved in DNS \(NXDOMAIN\).*publish a CNAME autodiscover\.missing\.dns\.test → mail\.dns\.test/ },
    { domain: 'txt.dns.test', status: 'Failed', reason: 'NoAddressRecord', message: /\(NODATA\)/ },
    { domain: 'dangling.dns.test', status: 'Failed', reason: 'DanglingCname', message: /CNAME to gone\.dns\.test, which has no address \(NXDOMAIN\)/ },
    { domain: 'loop.dns.test', status: 'Failed', reason: 'CnameLoop', message: /loop/ },
    { domain: 'long.dns.test', status: 'Failed', reason: 'CnameChainTooLong', message: /more than 8 CNAMEs/ },
    { domain: 'srv443.dns.test', status: 'Warning', reason: 'SrvRecordOnly', message: /SRV → mail\.dns\.test:443.*asks the user to confirm/, srvTarget: EXTERNAL },
    { domain: 'srvport.dns.test', status: 'Failed', reason: 'SrvWrongPort', message: /mail\.dns\.test:8443.*port 443/ },
    { domain: 'x.broken.test', status: 'Failed', reason: 'ServerFailure', message: /\(SERVFAIL\)/ },
    { domain: 'nowhere.invalid', status: 'Failed', reason: 'QueryRefused', message: /\(REFUSED\)/ },
  ];
  for (const c of cases) {
    it(`autodiscover.${c.domain} → ${c.status} ${c.reason}`, async () => {
      const result = await check(dns, c.domain);
      assert.equal(result.status, c.status, result.message);
      assert.equal(result.reason, c.reason);
      assert.match(result.message, c.message);
      assert.equal(result.details['srvTarget'], c.srvTarget);
    });
  }

  it('a name server that never answers → Failed QueryTimedOut', async () => {
    const silent = createDnsResolver([world.silentNameserver.nameserver], { dnsTimeoutMs: 300, dnsTries: 1 });
    const result = await check(silent, 'cname.dns.test');
    assert.deepEqual([result.status, result.reason], ['Failed', 'QueryTimedOut']);
  });

  it('tells NXDOMAIN, NODATA, SERVFAIL and REFUSED apart at the resolver', async () => {
    const answers = await Promise.all([
      dns.a('missing.dns.test'), dns.a('autodiscover.txt.dns.test'), dns.a('x.broken.test'), dns.a('x.nowhere.invalid'),
    ]);
    assert.deepEqual(answers.map((a) => (a.ok ? 'ok' : a.failure)), ['NXDOMAIN', 'NODATA', 'SERVFAIL', 'REFUSED']);
  });
});
