// tls/ against real TLS servers (test CA made by openssl), reached through the real BIND server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import { judgeTlsHandshake } from '../../../src/checks/tls-check.ts';
import type { CheckIO } from '../../../src/checks/types.ts';
import { startWorld, TLS_HOSTS, type World } from './world.ts';

describe('tls/ against real TLS servers', () => {
  let world: World;
  let io: CheckIO;
  before(async () => {
    world = await startWorld();
    io = createRealCheckIO({ probePolicy: { loopback: true, privateNetworks: false },
      nameservers: [world.dns.nameserver], caBundlePem: world.pki.rootPem,
      httpsPortFor: () => world.httpsPort, limits: { connectTimeoutMs: 2_000, totalTimeoutMs: 3_000 },
    });
  });
  after(() => world.stop());

  const cases: { name: string; host: string; status: string; reason: string; message: RegExp; chainStatus?: string }[] = [
    { name: 'valid chain and name', host: TLS_HOSTS.valid.host, status: 'Passed', reason: 'CertificateValid', message: /trusted certificate/, chainStatus: 'Trusted' },
    { name: 'expired', host: TLS_HOSTS.expired.host, status: 'Failed', reason: 'Expired', message: /expired on/, chainStatus: 'Trusted' },
    { name: 'not yet valid', host: TLS_HOSTS.future.host, status: 'Failed', reason: 'NotYetValid', message: /not valid before/ },
    { name: 'name not in SAN', host: TLS_HOSTS.wrongName.host, status: 'Failed', reason: 'NameMismatch', message: /SSL Certificate Name Mismatch: .*valid for other\.tls\.test/ },
    { name: 'wildcard covering one label', host: TLS_HOSTS.wildcard.host, status: 'Passed', reason: 'CertificateValid', message: /trusted/ },
    { name: 'wildcard does not cover two labels', host: TLS_HOSTS.wildcardTooDeep.host, status: 'Failed', reason: 'NameMismatch', message: /\*\.wild\.tls\.test, not for a\.b\.wild\.tls\.test/ },
    { name: 'self-signed', host: TLS_HOSTS.selfSigned.host, status: 'Failed', reason: 'SelfSigned', message: /SSL Certificate Trust Failure: .*self-signed/, chainStatus: 'SelfSigned' },
    { name: 'leaf served without its intermediate', host: TLS_HOSTS.noIntermediate.host, status: 'Failed', reason: 'MissingIntermediate', message: /Missing Intermediate Certificates in Chain/, chainStatus: 'MissingIntermediate' },
    { name: 'chain to a root nobody trusts', host: TLS_HOSTS.untrustedRoot.host, status: 'Failed', reason: 'UntrustedRoot', message: /SSL Certificate Trust Failure: .*Untrusted Root CA/, chainStatus: 'UntrustedRoot' },
    { name: 'expiring within 7 days', host: TLS_HOSTS.expiringSoon.host, status: 'Warning', reason: 'CertificateExpiringSoon', message: /expires in [23] day/ },
    { name: 'silent peer (accepts TCP, never answers)', host: TLS_HOSTS.silent.host, status: 'Failed', reason: 'ConnectionTimedOut', message: /accepted but no TLS handshake completed within 3000 ms/ },
    { name: 'slow peer within the time-out', host: TLS_HOSTS.slow.host, status: 'Passed', reason: 'CertificateValid', message: /trusted/ },
    { name: 'nothing listening', host: TLS_HOSTS.refused.host, status: 'Failed', reason: 'ConnectionRefused', message: /connection refused/ },
    { name: 'name not in DNS', host: 'missing.tls.test', status: 'Failed', reason: 'HostNotResolved', message: /could not be resolved in DNS \(NXDOMAIN\)/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.reason}`, async () => {
      const handshake = await io.tls.handshake(c.host);
      const result = judgeTlsHandshake(c.host, handshake, io.clock.now());
      assert.equal(result.status, c.status, result.message);
      assert.equal(result.reason, c.reason);
      assert.match(result.message, c.message);
      if (c.chainStatus) assert.equal(result.details['chainStatus'], c.chainStatus);
    });
  }

  it('without the test CA in the bundle the valid chain is a trust failure', async () => {
    const bare = createRealCheckIO({ probePolicy: { loopback: true, privateNetworks: false }, nameservers: [world.dns.nameserver], httpsPortFor: () => world.httpsPort });
    const result = judgeTlsHandshake(TLS_HOSTS.valid.host, await bare.tls.handshake(TLS_HOSTS.valid.host), Date.now());
    assert.equal(result.reason, 'UntrustedRoot');
  });

  // The chain a status reports: leaf, then each issuer in order of issuance, completed from the
  // trust store (the test root is only in the CA bundle, never sent).
  const assertIssuanceOrder = (chain: readonly { subject: string; issuer: string; selfSigned: boolean; dnsNames: string[] }[], host: string) => {
    assert.equal(chain.length, 3, JSON.stringify(chain));
    assert.deepEqual(chain[0]!.dnsNames, [host]);
    assert.equal(chain[1]!.subject, chain[0]!.issuer);
    assert.equal(chain[2]!.subject, chain[1]!.issuer);
    assert.equal(chain[1]!.selfSigned, false);
    assert.equal(chain[2]!.selfSigned, true);
  };

  it('reports the presented chain completed with the root from the trust store', async () => {
    const handshake = await io.tls.handshake(TLS_HOSTS.valid.host);
    assert.ok(handshake.ok);
    assertIssuanceOrder(handshake.chain, TLS_HOSTS.valid.host);
  });

  it('a chain sent out of order is reported in order of issuance, and trusted', async () => {
    const handshake = await io.tls.handshake(TLS_HOSTS.outOfOrder.host);
    assert.ok(handshake.ok);
    assertIssuanceOrder(handshake.chain, TLS_HOSTS.outOfOrder.host);
    const result = judgeTlsHandshake(TLS_HOSTS.outOfOrder.host, handshake, io.clock.now());
    assert.equal(result.reason, 'CertificateValid', result.message);
  });

  it('sends SNI: the server sees the host name', async () => {
    const handshake = await io.tls.handshake('autodiscover.example.test');
    assert.ok(handshake.ok);
    assert.ok(handshake.chain[0]?.dnsNames.includes('autodiscover.example.test'));
    assert.equal(handshake.address, '127.0.0.21');
  });
});
