// One small Internet on loopback for the check integration tests: a BIND name server with a
// zone per scenario, a test CA, and TLS servers, each on its own 127.0.0.x address and all on
// one shared port (what `--https-port` points at).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDnsServer, startSilentNameserver, type TestDnsServer } from '../../../src/dev/dns-server.ts';
import { pickSharedPort, startHttpsFixture, startSilentPeer, type Fixture } from '../../../src/dev/https-fixtures.ts';
import { startMapiTestServer, type MapiTestServer } from '../../../src/dev/mapi-test-server.ts';
import { createTestPki, daysFromNow, leafOnly, type TestCertificate, type TestPki } from '../../../src/dev/pki.ts';

export const MAIL = '127.0.0.21';
export const PROBE = { username: 'probe', password: 'Pr0be-Secret-4711', address: 'ken@example.test' };

/** TLS scenarios: host → address of the server that plays it. */
export const TLS_HOSTS = {
  valid: { host: 'valid.tls.test', address: '127.0.0.31' },
  expired: { host: 'expired.tls.test', address: '127.0.0.32' },
  future: { host: 'future.tls.test', address: '127.0.0.33' },
  wrongName: { host: 'wrongname.tls.test', address: '127.0.0.34' },
  wildcard: { host: 'a.wild.tls.test', address: '127.0.0.35' },
  wildcardTooDeep: { host: 'a.b.wild.tls.test', address: '127.0.0.35' },
  selfSigned: { host: 'selfsigned.tls.test', address: '127.0.0.36' },
  noIntermediate: { host: 'nointermediate.tls.test', address: '127.0.0.37' },
  untrustedRoot: { host: 'untrusted.tls.test', address: '127.0.0.38' },
  expiringSoon: { host: 'soon.tls.test', address: '127.0.0.39' },
  silent: { host: 'silent.tls.test', address: '127.0.0.40' },
  slow: { host: 'slow.tls.test', address: '127.0.0.41' },
  refused: { host: 'refused.tls.test', address: '127.0.0.42' },
  // Leaf, root, intermediate: a server that sends its chain out of order (OpenSSL accepts it).
  outOfOrder: { host: 'outoforder.tls.test', address: '127.0.0.43' },
} as const;

/**
 * The set-ups of "never say passed where an Outlook user would see a warning or a stall":
 * hosts with several fronts, answers cut or never ending, root domains that stall or refuse,
 * SRV records to a hoster's host. Each front has its own loopback address on the shared port.
 */
export const SETUPS = {
  /** two A records: .51 a valid certificate, .52 an expired one. */
  twoFrontsExpired: { host: 'two.fronts.test', addresses: ['127.0.0.51', '127.0.0.52'] },
  /** two A records: .53 a valid certificate, .54 one for another name. */
  twoFrontsWrongName: { host: 'wrongname.fronts.test', addresses: ['127.0.0.53', '127.0.0.54'] },
  /** two A records: the MAPI test server and a web server that is not the mail server. */
  twoFrontsHttp: { host: 'mail.fronts.test', addresses: [MAIL, '127.0.0.55'] },
  /** 200 with an <Autodiscover opening and more than the 64 KiB cap. */
  capped: { host: 'capped.body.test', address: '127.0.0.61' },
  /** 200 with an <Autodiscover opening, then nothing, never ending. */
  endless: { host: 'endless.body.test', address: '127.0.0.62' },
  /** 200 with an <Autodiscover opening, then the connection closes. */
  cutOff: { host: 'cutoff.body.test', address: '127.0.0.63' },
  /** Root domains: accepts TCP and never speaks TLS / refuses / completes TLS and never answers HTTP / answers 404. */
  rootStallsTcp: { domain: 'stalls.test', address: TLS_HOSTS.silent.address },
  rootRefuses: { domain: 'refuses.test', address: TLS_HOSTS.refused.address },
  rootStallsHttp: { domain: 'hangs.test', address: '127.0.0.64' },
  rootAnswers: { domain: 'answers.test', address: '127.0.0.66' },
  /** SRV to a hoster's host outside the declared ones: valid certificate / wrong name / metadata address. */
  srvHoster: { domain: 'hosted.test', target: 'autodiscover.hoster.test', address: '127.0.0.65' },
  srvHosterWrongName: { domain: 'hosted-badcert.test', target: 'badcert.hoster.test', address: TLS_HOSTS.wrongName.address },
  srvMetadata: { domain: 'hosted-meta.test', target: 'meta.hoster.test', address: '169.254.169.254' },
} as const;

export interface World {
  dns: TestDnsServer;
  silentNameserver: { nameserver: string; stop(): Promise<void> };
  pki: TestPki;
  httpsPort: number;
  httpPort: number;
  mapi: MapiTestServer;
  dir: string;
  caFile: string;
  passwordFile: string;
  stop(): Promise<void>;
}

function dnsZones(): Record<string, string[]> {
  const tls = Object.values(TLS_HOSTS).map(({ host, address }) => `${host.replace(/\.tls\.test$/, '')} A ${address}`);
  const longChain = Array.from({ length: 10 }, (_, i) => `c${i} CNAME c${i + 1}`).concat('c10 A 127.0.0.21');
  return {
    // The mail domain the CLI tests use: example.test published by CNAME, example.org by
    // SRV only, example.net not at all; example.com points at a silent peer.
    'example.test': ['mail A 127.0.0.21', 'autodiscover CNAME mail'],
    'example.org': ['_autodiscover._tcp SRV 0 0 443 mail.example.test.'],
    'example.net': ['www A 127.0.0.21'],
    'example.com': ['mail A 127.0.0.40', 'autodiscover CNAME mail'],
    'tls.test': tls,
    'fronts.test': [
      ...SETUPS.twoFrontsExpired.addresses.map((a) => `two A ${a}`),
      ...SETUPS.twoFrontsWrongName.addresses.map((a) => `wrongname A ${a}`),
      ...SETUPS.twoFrontsHttp.addresses.map((a) => `mail A ${a}`),
    ],
    'body.test': [SETUPS.capped, SETUPS.endless, SETUPS.cutOff].map(({ host, address }) => `${host.split('.')[0]} A ${address}`),
    ...Object.fromEntries([SETUPS.rootStallsTcp, SETUPS.rootRefuses, SETUPS.rootStallsHttp, SETUPS.rootAnswers].map(({ domain, address }) => [domain, [`@ A ${address}`]])),
    ...Object.fromEntries([SETUPS.srvHoster, SETUPS.srvHosterWrongName, SETUPS.srvMetadata].map(({ domain, target }) => [domain, [`_autodiscover._tcp SRV 0 0 443 ${target}.`]])),
    'hoster.test': [SETUPS.srvHoster, SETUPS.srvHosterWrongName, SETUPS.srvMetadata].map(({ target, address }) => `${target.split('.')[0]} A ${address}`),
    'dns.test': [
      'mail A 127.0.0.21',
      'autodiscover.cname CNAME mail',
      'autodiscover.a A 127.0.0.21',
      'autodiscover.wrong A 127.0.0.99',
      'autodiscover.txt TXT "no address here"',
      'autodiscover.dangling CNAME gone',
      'autodiscover.loop CNAME loop2',
      'loop2 CNAME autodiscover.loop',
      'autodiscover.long CNAME c0',
      ...longChain,
      '_autodiscover._tcp.srv443 SRV 10 0 443 mail.dns.test.',
      '_autodiscover._tcp.srv443 SRV 20 0 443 other.dns.test.',
      '_autodiscover._tcp.srvport SRV 0 0 8443 mail.dns.test.',
    ],
  };
}

function outOfOrder(pki: TestPki, leaf: TestCertificate): TestCertificate {
  return { ...leaf, chainPem: leaf.certPem + pki.rootPem + pki.intermediatePem };
}

export async function startWorld(): Promise<World> {
  const pki = createTestPki();
  const otherPki = createTestPki('Untrusted');
  const dir = mkdtempSync(path.join(tmpdir(), 'mapi-check-'));
  const caFile = path.join(dir, 'ca.pem');
  const passwordFile = path.join(dir, 'probe-password');
  writeFileSync(caFile, pki.rootPem);
  writeFileSync(passwordFile, `${PROBE.password}\n`, { mode: 0o600 });

  const dns = await startDnsServer({ zones: dnsZones(), brokenZones: ['broken.test'] });
  const silentNameserver = await startSilentNameserver();
  const mailCertificate = pki.issue({ dnsNames: ['mail.example.test', 'autodiscover.example.test', 'autodiscover.example.org', 'autodiscover.example.net'] });
  const t = TLS_HOSTS;
  const other = otherPki.issue({ dnsNames: [t.untrustedRoot.host] });
  const setup = SETUPS;
  const partialAutodiscover = '<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response>';
  const setupFronts = [
    { address: setup.twoFrontsExpired.addresses[0], certificate: pki.issue({ dnsNames: [setup.twoFrontsExpired.host] }) },
    { address: setup.twoFrontsExpired.addresses[1], certificate: pki.issue({ dnsNames: [setup.twoFrontsExpired.host], notBefore: daysFromNow(-400), notAfter: daysFromNow(-2) }) },
    { address: setup.twoFrontsWrongName.addresses[0], certificate: pki.issue({ dnsNames: [setup.twoFrontsWrongName.host] }) },
    { address: setup.twoFrontsWrongName.addresses[1], certificate: pki.issue({ dnsNames: ['other.fronts.test'] }) },
    // A web server in front of nothing: 200 "ok" to everything, no X-ResponseCode.
    { address: setup.twoFrontsHttp.addresses[1], certificate: pki.issue({ dnsNames: [setup.twoFrontsHttp.host] }) },
    {
      address: setup.capped.address, certificate: pki.issue({ dnsNames: [setup.capped.host] }),
      handler: ((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/xml' }); res.end(partialAutodiscover + ' '.repeat(200 * 1024)); }) as http.RequestListener,
    },
    {
      address: setup.endless.address, certificate: pki.issue({ dnsNames: [setup.endless.host] }),
      handler: ((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/xml' }); res.write(partialAutodiscover); }) as http.RequestListener,
    },
    {
      address: setup.cutOff.address, certificate: pki.issue({ dnsNames: [setup.cutOff.host] }),
      handler: ((_req, res) => { res.writeHead(200, { 'Content-Type': 'text/xml' }); res.write(partialAutodiscover, () => res.destroy()); }) as http.RequestListener,
    },
    // TLS with a valid certificate, then the request is never answered.
    { address: setup.rootStallsHttp.address, certificate: pki.issue({ dnsNames: [setup.rootStallsHttp.domain] }), handler: (() => undefined) as http.RequestListener },
    {
      address: setup.rootAnswers.address, certificate: pki.issue({ dnsNames: [setup.rootAnswers.domain] }),
      handler: ((_req, res) => { res.writeHead(404); res.end('not here'); }) as http.RequestListener,
    },
    { address: setup.srvHoster.address, certificate: pki.issue({ dnsNames: [setup.srvHoster.target] }) },
  ];
  const addresses = [MAIL, ...new Set([...Object.values(TLS_HOSTS).map((h) => h.address), ...setupFronts.map((f) => f.address)])];

  // The shared port is free when picked but another process may take it before we listen:
  // start over on a fresh port then.
  const listenAll = async () => {
    const httpsPort = await pickSharedPort(addresses);
    const httpPort = await pickSharedPort([MAIL]);
    const started = await Promise.allSettled([
      startMapiTestServer({ address: MAIL, port: httpsPort, httpPort, certificate: mailCertificate, externalHost: 'mail.example.test', credentials: PROBE }),
      startHttpsFixture({ address: t.valid.address, port: httpsPort, certificate: pki.issue({ dnsNames: [t.valid.host] }) }),
      startHttpsFixture({ address: t.expired.address, port: httpsPort, certificate: pki.issue({ dnsNames: [t.expired.host], notBefore: daysFromNow(-400), notAfter: daysFromNow(-2) }) }),
      startHttpsFixture({ address: t.future.address, port: httpsPort, certificate: pki.issue({ dnsNames: [t.future.host], notBefore: daysFromNow(5), notAfter: daysFromNow(400) }) }),
      startHttpsFixture({ address: t.wrongName.address, port: httpsPort, certificate: pki.issue({ dnsNames: ['other.tls.test'] }) }),
      startHttpsFixture({ address: t.wildcard.address, port: httpsPort, certificate: pki.issue({ dnsNames: ['*.wild.tls.test'] }) }),
      startHttpsFixture({ address: t.selfSigned.address, port: httpsPort, certificate: pki.selfSigned({ dnsNames: [t.selfSigned.host] }) }),
      startHttpsFixture({ address: t.noIntermediate.address, port: httpsPort, certificate: leafOnly(pki.issue({ dnsNames: [t.noIntermediate.host] })) }),
      startHttpsFixture({ address: t.untrustedRoot.address, port: httpsPort, certificate: { keyPem: other.keyPem, chainPem: other.chainPem + otherPki.rootPem } }),
      startHttpsFixture({ address: t.outOfOrder.address, port: httpsPort, certificate: outOfOrder(pki, pki.issue({ dnsNames: [t.outOfOrder.host] })) }),
      startHttpsFixture({ address: t.expiringSoon.address, port: httpsPort, certificate: pki.issue({ dnsNames: [t.expiringSoon.host], notAfter: daysFromNow(3) }) }),
      startSilentPeer(t.silent.address, httpsPort),
      startHttpsFixture({ address: t.slow.address, port: httpsPort, certificate: pki.issue({ dnsNames: [t.slow.host] }), handshakeDelayMs: 1_000 }),
      ...setupFronts.map((front) => startHttpsFixture({ ...front, port: httpsPort })),
    ]);
    const failed = started.find((r) => r.status === 'rejected');
    const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(running.map((f) => f.close()));
      throw failed.reason;
    }
    const [mapi, ...servers] = running as [MapiTestServer, ...Fixture[]];
    return { httpsPort, httpPort, mapi, servers };
  };
  let listening: Awaited<ReturnType<typeof listenAll>> | undefined;
  for (let attempt = 1; !listening; attempt++) {
    try {
      listening = await listenAll();
    } catch (err) {
      if (attempt >= 3 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  const { httpsPort, httpPort, mapi, servers } = listening;
  otherPki.cleanup();

  return {
    dns, silentNameserver, pki, httpsPort, httpPort, mapi, dir, caFile, passwordFile,
    stop: async () => {
      await Promise.all([...servers.map((s) => s.close()), mapi.close(), dns.stop(), silentNameserver.stop()]);
      pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CheckFileSpec {
  servers: { name: string; externalHost: string; domains: 'All' | 'Any' }[];
  domains: { name: string; domain: string; aliases?: string[]; hosts?: string[]; require?: 'Any' | 'All' }[];
}

/** A multi-document v1alpha2 file for `check -f`: MapiServers first (asking this world's name
 *  server), then MailDomains naming the first of them. Returns its path. */
export function writeCheckFile(world: World, name: string, spec: CheckFileSpec): string {
  const serverRef = spec.servers[0]?.name ?? 'bluemind';
  const docs = [
    ...spec.servers.map((s) => [
      'apiVersion: mapi-operator.io/v1alpha2', 'kind: MapiServer', `metadata: { name: ${s.name}, namespace: mail }`, 'spec:',
      `  externalHost: ${s.externalHost}`, '  image: registry.example/bm-mapi:5.3.0', '  tls: { issuerRef: { name: letsencrypt } }',
      `  gate: { domains: ${s.domains} }`, `  checks: { nameservers: ["${world.dns.nameserver}"] }`,
    ].join('\n')),
    ...spec.domains.map((d) => [
      'apiVersion: mapi-operator.io/v1alpha2', 'kind: MailDomain', `metadata: { name: ${d.name}, namespace: mail }`, 'spec:',
      `  serverRef: ${serverRef}`, `  domain: ${d.domain}`, `  aliases: [${(d.aliases ?? []).join(', ')}]`,
      `  autodiscover: { hosts: [${(d.hosts ?? []).join(', ')}], require: ${d.require ?? 'Any'} }`,
    ].join('\n')),
  ];
  const file = path.join(world.dir, name);
  writeFileSync(file, `${docs.join('\n---\n')}\n`);
  return file;
}
