// One probe per host per interval however many MailDomains share it: 100 MailDomains of one
// server (plus the server's own rows) checked at once through one ProbeCache, with a counting
// fake IO. The external host used to be probed once per MailDomain (its http/ key held the
// domain, the POX request asked about autodiscover-probe@<domain>): 3 requests × 101.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChecks } from '../../../src/checks/engine.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import type { CheckTarget, HttpRequest, TlsHandshake } from '../../../src/checks/types.ts';
import { certificate, fakeDns, fakeHttp, fakeIO, fixedClock, handshake, response, type FakeName } from './fake-io.ts';

const EXTERNAL = 'mail.hoster.example';
const ADDRESS = '203.0.113.7';
const DOMAINS = Array.from({ length: 100 }, (_, i) => `d${i}.example`);
const TTL_MS = 30_000;

function world() {
  const zone: Record<string, FakeName> = { [EXTERNAL]: { a: [ADDRESS] } };
  for (const d of DOMAINS) {
    zone[`autodiscover.${d}`] = { cname: EXTERNAL };
    zone[d] = { a: [ADDRESS] };
  }
  const handshakes = new Map<string, number>();
  const tls = {
    handshake: (host: string): Promise<TlsHandshake> => {
      handshakes.set(host, (handshakes.get(host) ?? 0) + 1);
      const one = handshake({ address: ADDRESS, chain: [certificate({ dnsNames: [host] })] });
      return Promise.resolve({ ...one, perAddress: [one] });
    },
  };
  const http = fakeHttp((req: HttpRequest) => (req.scheme === 'http'
    ? response(302, { location: `https://${req.host}${req.path}` })
    : response(401, { 'www-authenticate': 'Basic realm="mail"' })));
  const clock = fixedClock();
  const io = fakeIO({ dns: fakeDns(zone), tls, http, clock });
  const cache = new ProbeCache({ clock, ttlMs: TTL_MS });
  /** Requests per endpoint: method, URL and the address dialled. */
  const requests = () => {
    const by = new Map<string, number>();
    for (const r of http.requests) {
      const key = `${r.method} ${r.scheme}://${r.host}${r.path} @${r.address ?? 'first'}`;
      by.set(key, (by.get(key) ?? 0) + 1);
    }
    return by;
  };
  return { io, cache, clock, handshakes, http, requests };
}

const common = { nameservers: [], require: 'Any' as const, includeHttp: true, release: 'r1' };
/** What the controllers build: the server's rows (external host as "domain"), then each MailDomain's. */
const targets: CheckTarget[] = [
  { domain: EXTERNAL, aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [], ...common },
  ...DOMAINS.map((d) => ({ domain: d, aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [{ domain: d, host: `autodiscover.${d}` }], ...common })),
];

test('100 MailDomains of one server: each host one TLS handshake, each endpoint one request per cache TTL', async () => {
  const w = world();
  const round = () => Promise.all(targets.map((t) => runChecks(t, w.io, { cache: w.cache })));

  const results = await round();
  const externalRows = results.map((r) => r.find((row) => row.name === `http/${EXTERNAL}`));
  assert.ok(externalRows.every((row) => row?.status === 'Passed'), 'every target has the shared http/ row of the external host');

  // Hosts: the external one, 100 autodiscover hosts, 100 root domains — each handshaken once.
  assert.equal(w.handshakes.size, 201);
  assert.deepEqual([...w.handshakes].filter(([, n]) => n !== 1), [], 'hosts handshaken more than once');
  const perEndpoint = w.requests();
  assert.deepEqual([...perEndpoint].filter(([, n]) => n !== 1), [], 'endpoints asked more than once');
  const external = [...perEndpoint.keys()].filter((k) => k.includes(`://${EXTERNAL}/`));
  assert.deepEqual(external.sort(), [
    `POST https://${EXTERNAL}/autodiscover/autodiscover.xml @${ADDRESS}`,
    `POST https://${EXTERNAL}/mapi/emsmdb/ @${ADDRESS}`,
    `POST https://${EXTERNAL}/mapi/nspi/ @${ADDRESS}`,
  ]);
  // The external host's POX request asks about the host itself, not one of the domains.
  const pox = w.http.requests.find((r) => r.host === EXTERNAL && r.path.startsWith('/autodiscover'));
  assert.equal(pox?.headers['X-AnchorMailbox'], `autodiscover-probe@${EXTERNAL}`);
  // Per domain: the autodiscover host's POX and HTTP redirect GET, the root domain's POX.
  assert.equal(w.http.requests.length, 3 + 3 * DOMAINS.length);

  // Within the TTL nothing is probed again; after it, each endpoint once more.
  w.clock.advance(TTL_MS - 1);
  await round();
  assert.equal(w.http.requests.length, 3 + 3 * DOMAINS.length);
  assert.equal([...w.handshakes.values()].reduce((a, b) => a + b, 0), 201);
  w.clock.advance(1);
  await round();
  assert.deepEqual([...w.requests()].filter(([, n]) => n !== 2), [], 'after one TTL every endpoint was asked exactly twice');
  assert.deepEqual([...w.handshakes].filter(([, n]) => n !== 2), [], 'after one TTL every host was handshaken exactly twice');
});

test('the autodiscover hosts keep their own per-domain probe address', async () => {
  const w = world();
  await runChecks(targets[1]!, w.io, { cache: w.cache });
  const pox = w.http.requests.find((r) => r.host === `autodiscover.${DOMAINS[0]}` && r.scheme === 'https');
  assert.equal(pox?.headers['X-AnchorMailbox'], `autodiscover-probe@${DOMAINS[0]}`);
});
