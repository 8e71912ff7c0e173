// One probe per host per interval, on real parts: BIND, the MAPI test server behind a real TLS
// front, and ONE real check IO (createRealCheckIO) shared by the runs of 20 MailDomains of one
// server and the server's own rows, as the operator keeps it. Counting relays sit in front of
// BIND (DNS questions by name and type) and of the front (TLS ClientHellos by SNI). Within one
// interval each name is asked once per query type, and each host gets the connections one
// target alone would cost it, however many targets share it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsRelay, startTlsRelay, type DnsRelay, type TlsRelay } from '../../../bench/scale/relays.ts';
import { runChecks } from '../../../src/checks/engine.ts';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import type { CheckResult, CheckTarget } from '../../../src/checks/types.ts';
import { startDnsServer, type TestDnsServer } from '../../../src/dev/dns-server.ts';
import { startMapiTestServer, type MapiTestServer } from '../../../src/dev/mapi-test-server.ts';
import { createTestPki, type TestPki } from '../../../src/dev/pki.ts';

const ZONE = 'shared.test';
const EXTERNAL = `mail.${ZONE}`;
const DOMAINS = Array.from({ length: 20 }, (_, i) => `d${i}.${ZONE}`);
const INTERVAL_MS = 30_000;
/** DNS query types by number (RFC 1035, RFC 3596, RFC 2782), as the relay counts them. */
const QTYPE: Record<string, string> = { 1: 'A', 5: 'CNAME', 28: 'AAAA', 33: 'SRV' };

let pki: TestPki;
let bind: TestDnsServer;
let dnsRelay: DnsRelay;
let front: MapiTestServer;
let tlsRelay: TlsRelay;

before(async () => {
  pki = createTestPki('shared probes');
  bind = await startDnsServer({ zones: { [ZONE]: ['mail A 127.0.0.1', ...DOMAINS.map((d) => `autodiscover.${d.slice(0, -ZONE.length - 1)} CNAME mail`)] } });
  dnsRelay = await startDnsRelay(bind.nameserver);
  front = await startMapiTestServer({
    certificate: pki.issue({ dnsNames: [EXTERNAL, ...DOMAINS.map((d) => `autodiscover.${d}`)] }),
    externalHost: EXTERNAL, credentials: { username: 'probe', password: 'unused' }, httpPort: 0,
  });
  tlsRelay = await startTlsRelay(front.port);
});

after(async () => {
  await tlsRelay?.stop();
  await front?.close();
  await dnsRelay?.stop();
  await bind?.stop();
  pki?.cleanup();
});

const common = () => ({ nameservers: [dnsRelay.nameserver], caBundlePem: pki.rootPem, require: 'Any' as const, includeHttp: true, release: 'r1' });
const serverTarget = (): CheckTarget => ({ domain: EXTERNAL, aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [], ...common() });
const domainTarget = (d: string): CheckTarget => ({ domain: d, aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [{ domain: d, host: `autodiscover.${d}` }], ...common() });

/** What one interval of the operator costs the world for these targets, through a fresh IO and cache. */
async function oneInterval(targets: CheckTarget[]): Promise<{ results: CheckResult[][]; questions: Map<string, number>; hellos: Map<string, number> }> {
  dnsRelay.reset();
  tlsRelay.reset();
  const io = createRealCheckIO({
    nameservers: [dnsRelay.nameserver], caBundlePem: pki.rootPem,
    // The front stands in on loopback: admitted the way a platform team admits its own network.
    probePolicy: { loopback: false, privateNetworks: false, allowNetworks: ['127.0.0.1/32'] },
    httpsPortFor: () => tlsRelay.port, httpPortFor: () => front.httpPort as number,
  });
  const cache = new ProbeCache({ clock: io.clock, ttlMs: INTERVAL_MS });
  const results = await Promise.all(targets.map((t) => runChecks(t, io, { cache })));
  const questions = new Map([...dnsRelay.byName()].map(([key, n]) => {
    const [name, type] = key.split(' ') as [string, string];
    return [`${name} ${QTYPE[type] ?? type}`, n];
  }));
  return { results, questions, hellos: tlsRelay.byName() };
}

test('20 MailDomains and their server through one real IO: one DNS question per name and type, one probe set per host', async () => {
  // Baseline in the same run: the server's rows and ONE MailDomain.
  const alone = await oneInterval([serverTarget(), domainTarget(DOMAINS[0]!)]);
  const shared = await oneInterval([serverTarget(), ...DOMAINS.map(domainTarget)]);

  for (const rows of shared.results) {
    const external = rows.find((r) => r.name === `http/${EXTERNAL}`);
    assert.equal(external?.status, 'Passed', `${external?.reason}: ${external?.message}`);
    const tls = rows.find((r) => r.name === `tls/${EXTERNAL}`);
    assert.equal(tls?.status, 'Passed', `${tls?.reason}: ${tls?.message}`);
  }
  const autodiscoverRows = shared.results.slice(1).map((rows, i) => rows.find((r) => r.name === `http/autodiscover.${DOMAINS[i]}`));
  assert.ok(autodiscoverRows.every((r) => r?.status === 'Passed'), JSON.stringify(autodiscoverRows.find((r) => r?.status !== 'Passed')));

  const asked = (m: Map<string, number>) => [...m].filter(([, n]) => n !== 1);
  assert.deepEqual(asked(shared.questions), [], 'DNS questions asked more than once in the interval');
  for (const type of ['CNAME', 'A', 'AAAA']) assert.equal(shared.questions.get(`${EXTERNAL} ${type}`), 1, `${EXTERNAL} ${type}`);
  for (const d of DOMAINS) assert.equal(shared.questions.get(`autodiscover.${d} CNAME`), 1, d);

  // TLS connections per SNI: the external host costs what it costs with one MailDomain, ONE
  // connection: the tls/ handshake's, kept for the POX POST and the two MAPI PINGs of http/;
  // each autodiscover host one too (its handshake, then its POX POST on it).
  const externalHellos = shared.hellos.get(EXTERNAL);
  assert.equal(externalHellos, alone.hellos.get(EXTERNAL));
  assert.equal(externalHellos, 1);
  for (const d of DOMAINS) assert.equal(shared.hellos.get(`autodiscover.${d}`), 1, d);
  assert.deepEqual([...shared.hellos.keys()].filter((sni) => sni !== EXTERNAL && !sni.startsWith('autodiscover.')), [], 'no other SNI (root domains have no address)');

  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  // Reported figures: questions and hellos for 21 targets against 2 (server + one domain).
  console.log(`# shared-probes: ${shared.results.length} targets: ${total(shared.questions)} DNS questions (${shared.questions.size} distinct name+type), ` +
    `${total(shared.hellos)} TLS connections (${EXTERNAL}: ${externalHellos}); baseline 2 targets: ${total(alone.questions)} questions, ${total(alone.hellos)} TLS connections (${EXTERNAL}: ${alone.hellos.get(EXTERNAL)})`);
});

test('the runs spread over the interval, as the scheduler spreads them: the external host asked once per type, not once per answer life', async () => {
  // The operator's runs of a server's MailDomains are spread over the interval, not
  // simultaneous: the answer cache (30 s, 5 s for a NODATA) alone let the external host be asked
  // again all through it (59 questions an interval for one name at 5,000 MailDomains).
  dnsRelay.reset();
  tlsRelay.reset();
  let now = Date.now();
  const clock = { now: () => now };
  const io = createRealCheckIO({
    nameservers: [dnsRelay.nameserver], caBundlePem: pki.rootPem, clock,
    probePolicy: { loopback: false, privateNetworks: false, allowNetworks: ['127.0.0.1/32'] },
    httpsPortFor: () => tlsRelay.port, httpPortFor: () => front.httpPort as number,
  });
  const interval = 300_000;
  const cache = new ProbeCache({ clock, ttlMs: interval });
  const server = await runChecks(serverTarget(), io, { cache });
  assert.equal(server.find((r) => r.name === `tls/${EXTERNAL}`)?.status, 'Passed');
  for (const d of DOMAINS) {
    now += Math.floor(interval / (DOMAINS.length + 1));
    const rows = await runChecks(domainTarget(d), io, { cache });
    const dns = rows.find((r) => r.name === `dns/autodiscover.${d}`);
    assert.equal(dns?.status, 'Passed', `${dns?.reason}: ${dns?.message}`);
  }
  const asked = (type: string) => dnsRelay.byName().get(`${EXTERNAL} ${Object.keys(QTYPE).find((k) => QTYPE[k] === type)}`);
  assert.deepEqual(['CNAME', 'A', 'AAAA'].map(asked), [1, 1, 1], `${EXTERNAL} CNAME, A, AAAA over one interval`);
  for (const d of DOMAINS) assert.equal(dnsRelay.byName().get(`autodiscover.${d} 5`), 1, d);
  // And one TLS connection to each host over the interval, the shared one included.
  assert.equal(tlsRelay.byName().get(EXTERNAL), 1, `connections to ${EXTERNAL}`);
  for (const d of DOMAINS) assert.equal(tlsRelay.byName().get(`autodiscover.${d}`), 1, d);

  // The next interval asks again.
  now += interval;
  await runChecks(domainTarget(DOMAINS[0]!), io, { cache });
  assert.deepEqual(['CNAME', 'A', 'AAAA'].map(asked), [2, 2, 2]);
});
