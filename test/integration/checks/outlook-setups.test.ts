// Set-ups a mail admin really meets, where a check must never say Passed while some Outlook
// users get a certificate warning or a wait: real BIND, real TLS fronts from the test CA on
// several loopback addresses, the real check I/O and engine.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runChecks } from '../../../src/checks/engine.ts';
import { checkHttpServed } from '../../../src/checks/http-check.ts';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import { judgeTlsHandshake } from '../../../src/checks/tls-check.ts';
import type { CheckIO, CheckResult, CheckTarget } from '../../../src/checks/types.ts';
import { autodiscoverHostsFor } from '../../../src/checks/target.ts';
import { SETUPS, startWorld, type World } from './world.ts';

interface AddressOutcome {
  address: string;
  status: string;
  reason: string;
}

// BIND rotates the order of an RRset: compare the outcomes sorted by address.
const addressesOf = (result: CheckResult) => (result.details['addresses'] as AddressOutcome[]).map((a) => `${a.address} ${a.status} ${a.reason}`).sort();

describe('checks against the set-ups of issue 9', () => {
  let world: World;
  let io: CheckIO;
  const ioFor = (nameservers: string[]) => createRealCheckIO({ probePolicy: { loopback: true, privateNetworks: false },
    nameservers, caBundlePem: world.pki.rootPem,
    httpsPortFor: () => world.httpsPort, httpPortFor: () => world.httpPort,
    limits: { connectTimeoutMs: 1_000, totalTimeoutMs: 1_500, dnsTimeoutMs: 500, dnsTries: 1 },
  });
  const target = (domain: string, aliases: string[], externalHost: string, overrides: Partial<CheckTarget> = {}): CheckTarget => ({
    domain, aliases, externalHost, autodiscoverHosts: autodiscoverHostsFor(domain, aliases), require: 'Any',
    nameservers: [world.dns.nameserver], caBundlePem: world.pki.rootPem, includeHttp: false, ...overrides,
  });
  const row = (results: CheckResult[], name: string): CheckResult => {
    const found = results.find((r) => r.name === name);
    assert.ok(found, `${name} missing from ${results.map((r) => r.name).join(', ')}`);
    return found;
  };

  before(async () => {
    world = await startWorld();
    io = ioFor([world.dns.nameserver]);
  });
  after(() => world.stop());

  describe('1. every address of a host', () => {
    it('two A records, the second front with an expired certificate → tls/ Failed Expired naming that address', async () => {
      const { host, addresses } = SETUPS.twoFrontsExpired;
      const result = judgeTlsHandshake(host, await io.tls.handshake(host), io.clock.now());
      assert.deepEqual([result.status, result.reason], ['Failed', 'Expired'], result.message);
      assert.deepEqual(addressesOf(result), [`${addresses[0]} Passed CertificateValid`, `${addresses[1]} Failed Expired`]);
      assert.match(result.message, new RegExp(`address ${addresses[1].replace(/\./g, '\\.')}: The certificate for ${host.replace(/\./g, '\\.')} expired`));
    });

    it('two A records, the second front with a certificate for another name → tls/ Failed NameMismatch naming that address', async () => {
      const { host, addresses } = SETUPS.twoFrontsWrongName;
      const result = judgeTlsHandshake(host, await io.tls.handshake(host), io.clock.now());
      assert.deepEqual([result.status, result.reason], ['Failed', 'NameMismatch'], result.message);
      assert.deepEqual(addressesOf(result), [`${addresses[0]} Passed CertificateValid`, `${addresses[1]} Failed NameMismatch`]);
      assert.match(result.message, /SSL Certificate Name Mismatch: .*valid for other\.fronts\.test/);
    });

    it('two A records, the second not the mail server → http/ Failed naming that address; tls/ sees both', async () => {
      const { host, addresses } = SETUPS.twoFrontsHttp;
      const results = await runChecks(target('fronts.test', [], host, { includeHttp: true }), io);
      const http = row(results, `http/${host}`);
      assert.deepEqual([http.status, http.reason], ['Failed', 'MapiNotServed'], http.message);
      assert.deepEqual(addressesOf(http), [`${addresses[0]} Passed Served`, `${addresses[1]} Failed MapiNotServed`]);
      assert.match(http.message, new RegExp(`address ${addresses[1].replace(/\./g, '\\.')}: .*200 without X-ResponseCode \\(not the mail server\\)`));
      assert.equal((row(results, `tls/${host}`).details['addresses'] as unknown[]).length, 2);
    });
  });

  describe('2. whole answers only', () => {
    const probe = (host: string) => checkHttpServed({ host, role: 'autodiscover', domain: 'body.test', externalHost: host }, io.http);

    it('a 200 <Autodiscover answer larger than the cap is cut there → not served, says "cut at the cap"', async () => {
      const result = await probe(SETUPS.capped.host);
      assert.deepEqual([result.status, result.reason], ['Failed', 'AutodiscoverNotServed'], result.message);
      assert.match(result.message, /body cut at the 64 KiB size cap/);
    });

    it('a 200 <Autodiscover answer that never ends → not served, says the body did not end', async () => {
      const result = await probe(SETUPS.endless.host);
      assert.deepEqual([result.status, result.reason], ['Failed', 'AutodiscoverNotServed'], result.message);
      assert.match(result.message, /answer never completed \(HTTP 200 answer started but the body did not end within 1500 ms/);
    });

    it('a 200 <Autodiscover opening and then a closed connection → not served', async () => {
      const result = await probe(SETUPS.cutOff.host);
      assert.deepEqual([result.status, result.reason], ['Failed', 'AutodiscoverNotServed'], result.message);
      assert.match(result.message, /answer never completed \(HTTP 200 answer started but (the peer closed the connection|the connection broke)/);
    });

    it('the MAPI test server\'s whole answers are still served', async () => {
      const result = await checkHttpServed({ host: 'mail.example.test', role: 'external', domain: 'example.test', externalHost: 'mail.example.test' }, io.http);
      assert.deepEqual([result.status, result.reason], ['Passed', 'Served'], result.message);
    });
  });

  describe('3. the root domain', () => {
    let results: CheckResult[];
    before(async () => {
      const domains = [SETUPS.rootStallsTcp, SETUPS.rootRefuses, SETUPS.rootStallsHttp, SETUPS.rootAnswers].map((s) => s.domain);
      results = await runChecks(target(domains[0] as string, domains.slice(1), 'mail.example.test', { includeHttp: true }), io);
    });

    it('accepts TCP and never speaks TLS → Warning RootDomainStalls naming the fixes', () => {
      const result = row(results, `rootdomain/${SETUPS.rootStallsTcp.domain}`);
      assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainStalls'], result.message);
      assert.match(result.message, /accepts TCP connections and never completes TLS.*every user waits.*answer at once \(any HTTP status\) or refuse connections on port 443.*ExcludeHttpsRootDomain/);
    });

    it('completes TLS and never answers the POST → Warning RootDomainStalls', () => {
      const result = row(results, `rootdomain/${SETUPS.rootStallsHttp.domain}`);
      assert.deepEqual([result.status, result.reason], ['Warning', 'RootDomainStalls'], result.message);
      assert.match(result.message, /completes TLS but does not answer POST \/autodiscover\/autodiscover\.xml/);
    });

    it('refuses → Passed RootDomainRefuses (fails at once, Outlook moves on)', () => {
      const result = row(results, `rootdomain/${SETUPS.rootRefuses.domain}`);
      assert.deepEqual([result.status, result.reason], ['Passed', 'RootDomainRefuses'], result.message);
    });

    it('answers at once (404) with a valid certificate → Passed', () => {
      const result = row(results, `rootdomain/${SETUPS.rootAnswers.domain}`);
      assert.deepEqual([result.status, result.reason], ['Passed', 'RootDomainCertificateValid'], result.message);
      assert.match(result.message, /HTTP 404/);
    });
  });

  describe('4. SRV to a host outside the declared ones', () => {
    let results: CheckResult[];
    before(async () => {
      results = await runChecks(target(SETUPS.srvHoster.domain, [SETUPS.srvHosterWrongName.domain, SETUPS.srvMetadata.domain], 'mail.example.test'), io);
    });

    it('a hoster\'s shared autodiscover name with a valid certificate: dns/ Warning SrvRecordOnly, tls/<target> Passed', () => {
      const dns = row(results, `dns/autodiscover.${SETUPS.srvHoster.domain}`);
      assert.deepEqual([dns.status, dns.reason, dns.details['srvTarget']], ['Warning', 'SrvRecordOnly', SETUPS.srvHoster.target], dns.message);
      assert.match(dns.message, /outside this MailDomain.*allow the redirect/);
      const tls = row(results, `tls/${SETUPS.srvHoster.target}`);
      assert.deepEqual([tls.status, tls.reason], ['Passed', 'CertificateValid'], tls.message);
    });

    it('the target\'s certificate is for another name: tls/<target> Failed NameMismatch', () => {
      assert.equal(row(results, `dns/autodiscover.${SETUPS.srvHosterWrongName.domain}`).reason, 'SrvRecordOnly');
      const tls = row(results, `tls/${SETUPS.srvHosterWrongName.target}`);
      assert.deepEqual([tls.status, tls.reason], ['Failed', 'NameMismatch'], tls.message);
    });

    it('a target on the metadata address is never dialled: tls/<target> Failed AddressNotAllowed', () => {
      const tls = row(results, `tls/${SETUPS.srvMetadata.target}`);
      assert.deepEqual([tls.status, tls.reason], ['Failed', 'AddressNotAllowed'], tls.message);
      assert.match(tls.message, /169\.254\.169\.254 is link-local/);
    });
  });

  describe('5. cause before advice', () => {
    it('a name server that never answers: tls/, http/ and redirect/ say Unknown NameServerUnreachable and point at dns/', async () => {
      const dead = ioFor([world.silentNameserver.nameserver]);
      const results = await runChecks(target('example.test', [], 'mail.example.test', { includeHttp: true, nameservers: [world.silentNameserver.nameserver] }), dead);
      assert.equal(row(results, 'dns/autodiscover.example.test').reason, 'QueryTimedOut');
      for (const name of ['tls/mail.example.test', 'tls/autodiscover.example.test', 'http/mail.example.test', 'http/autodiscover.example.test', 'redirect/autodiscover.example.test']) {
        const result = row(results, name);
        assert.deepEqual([result.status, result.reason], ['Unknown', 'NameServerUnreachable'], `${name}: ${result.message}`);
        assert.doesNotMatch(result.message, /publish an A\/AAAA/);
      }
      assert.match(row(results, 'tls/autodiscover.example.test').message, /see dns\/autodiscover\.example\.test/);
    });

    it('a name server that refuses (not its zone) or fails (SERVFAIL): Unknown DnsLookupFailed', async () => {
      const results = await runChecks(target('nowhere.invalid', [], 'mail.x.broken.test', { includeHttp: true }), io);
      const refused = row(results, 'tls/autodiscover.nowhere.invalid');
      assert.deepEqual([refused.status, refused.reason], ['Unknown', 'DnsLookupFailed'], refused.message);
      assert.match(refused.message, /\(REFUSED\)/);
      const servfail = row(results, 'http/mail.x.broken.test');
      assert.deepEqual([servfail.status, servfail.reason], ['Unknown', 'DnsLookupFailed'], servfail.message);
      assert.match(servfail.message, /\(SERVFAIL\)/);
    });

    it('a name that does not exist still says to publish a record', async () => {
      const result = judgeTlsHandshake('missing.fronts.test', await io.tls.handshake('missing.fronts.test'), io.clock.now());
      assert.deepEqual([result.status, result.reason], ['Failed', 'HostNotResolved']);
      assert.match(result.message, /\(NXDOMAIN\): publish an A\/AAAA or CNAME record/);
    });
  });
});
