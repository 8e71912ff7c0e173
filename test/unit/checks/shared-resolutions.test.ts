// A kept host's resolution (the server's external host, which ends every autodiscover host's
// CNAME chain) is resolved once per keep time however many chains reach it, and a walk that
// continues with it finds exactly what walking on would have found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CNAME_HOPS, resolveAddresses } from '../../../src/checks/address-resolution.ts';
import { cachingAnswers, sharingResolutions } from '../../../src/checks/io.ts';
import type { DnsFailure } from '../../../src/checks/types.ts';
import { ProbeCache } from '../../../src/checks/probe-cache.ts';
import { fakeDns } from './fake-io.ts';

const EXT = 'mail.example.com';
const INTERVAL_MS = 300_000;
const ANSWER_CACHE = { answerMs: 30_000, failureMs: 5_000 };
/** What the engine passes: the probe cache's end of the interval a result settled in (intervals from 0). */
const UNTIL_INTERVAL_END = new ProbeCache({ clock: { now: () => 0 }, ttlMs: INTERVAL_MS }).endOfInterval;

type Zone = Parameters<typeof fakeDns>[0];

const chainOf = (names: string[], last: Zone[string]): Zone =>
  Object.fromEntries(names.map((name, i) => [name, i < names.length - 1 ? { cname: names[i + 1] } : last]));

/** Worlds where the walk reaches EXT, each resolved from autodiscover.example.com and from EXT. */
const WORLDS: Record<string, Zone> = {
  'CNAME to an external host with an address': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { a: ['203.0.113.7'], aaaa: ['2001:db8::7'] } },
  'external host itself a CNAME to a load balancer': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { cname: 'lb.example.net' }, 'lb.example.net': { a: ['198.51.100.1'] } },
  'external host missing (NXDOMAIN)': { 'autodiscover.example.com': { cname: EXT } },
  'external host without address records (NODATA)': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { srv: [] } },
  'external host a dangling CNAME': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { cname: 'gone.example.net' } },
  'external host failing (SERVFAIL)': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { fail: 'SERVFAIL' as DnsFailure } },
  'a loop back through the autodiscover host': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { cname: 'autodiscover.example.com' } },
  'a loop behind the external host': { 'autodiscover.example.com': { cname: EXT }, [EXT]: { cname: 'x.example.net' }, 'x.example.net': { cname: EXT } },
  'a chain too long only with the autodiscover host in front': {
    ...chainOf(['autodiscover.example.com', EXT, ...Array.from({ length: MAX_CNAME_HOPS }, (_, i) => `hop${i}.example.net`)], { a: ['203.0.113.9'] }),
  },
  'a chain too long with a loop after the limit': {
    ...chainOf(['autodiscover.example.com', 'a0.example.com', EXT, ...Array.from({ length: MAX_CNAME_HOPS }, (_, i) => `hop${i}.example.net`)], { cname: 'a0.example.com' }),
  },
};

for (const [world, zone] of Object.entries(WORLDS)) {
  test(`continuing with the kept resolution finds what walking on finds: ${world}`, async () => {
    for (const host of ['autodiscover.example.com', EXT]) {
      const walked = await resolveAddresses(host, fakeDns(zone));
      const dns = sharingResolutions(fakeDns(zone), { now: () => 0 }, 5_000);
      dns.shared.keep(EXT, UNTIL_INTERVAL_END);
      assert.deepEqual(await resolveAddresses(host, dns), walked, host);
    }
  });
}

/** 100 autodiscover hosts CNAMEd to EXT, resolved one every 3 s across one interval and a bit, as a server's runs are spread. */
async function spreadOverAnInterval(keep: boolean, zoneOverride: Zone = {}) {
  let now = 0;
  const hosts = Array.from({ length: 100 }, (_, i) => `autodiscover.d${i}.example`);
  const zone = fakeDns({ ...Object.fromEntries(hosts.map((h) => [h, { cname: EXT }])), [EXT]: { a: ['203.0.113.7'] }, ...zoneOverride });
  const clock = { now: () => now };
  const dns = sharingResolutions(cachingAnswers(zone, clock, ANSWER_CACHE), clock, ANSWER_CACHE.failureMs);
  const resolutions = [];
  for (const host of hosts) {
    if (keep) dns.shared.keep(EXT, UNTIL_INTERVAL_END);
    resolutions.push(await resolveAddresses(host, dns));
    now += INTERVAL_MS / hosts.length;
  }
  const asked = (type: string) => zone.queries.filter((q) => q === `${type} ${EXT}`).length;
  return { zone, dns, resolutions, asked, advance: (ms: number) => { now += ms; } };
}

test('100 chains ending at the kept external host over an interval: its records asked once each, not once per answer life', async () => {
  const unkept = await spreadOverAnInterval(false);
  // What the answer cache alone costs (the baseline this test guards against): A every 30 s,
  // the NODATA of CNAME and AAAA every 5 s.
  assert.ok(unkept.asked('CNAME') >= 50 && unkept.asked('AAAA') >= 50 && unkept.asked('A') >= 10, JSON.stringify(['CNAME', 'A', 'AAAA'].map(unkept.asked)));

  const kept = await spreadOverAnInterval(true);
  assert.deepEqual(['CNAME', 'A', 'AAAA'].map(kept.asked), [1, 1, 1]);
  assert.deepEqual(kept.resolutions, unkept.resolutions, 'the same answers');
  for (let i = 0; i < 100; i++) assert.equal(kept.zone.queries.filter((q) => q === `CNAME autodiscover.d${i}.example`).length, 1, `each own name once: d${i}`);

  // The next interval asks again, once.
  kept.advance(1);
  kept.dns.shared.keep(EXT, UNTIL_INTERVAL_END);
  await resolveAddresses('autodiscover.d0.example', kept.dns);
  await resolveAddresses('autodiscover.d1.example', kept.dns);
  assert.deepEqual(['CNAME', 'A', 'AAAA'].map(kept.asked), [2, 2, 2]);
});

test('a kept resolution expires with the probe results of its interval, not an interval after it settled', async () => {
  let now = INTERVAL_MS / 2;
  const zone = fakeDns({ 'autodiscover.d0.example': { cname: EXT }, 'autodiscover.d1.example': { cname: EXT }, [EXT]: { a: ['203.0.113.7'] } });
  const dns = sharingResolutions(zone, { now: () => now }, ANSWER_CACHE.failureMs);
  const asked = () => zone.queries.filter((q) => q === `A ${EXT}`).length;
  dns.shared.keep(EXT, UNTIL_INTERVAL_END);
  await resolveAddresses('autodiscover.d0.example', dns);
  now = INTERVAL_MS - 1;
  await resolveAddresses('autodiscover.d1.example', dns);
  assert.equal(asked(), 1, 'kept to the end of the interval it settled in');
  // Settled half-way through the interval: a TTL from then would keep it to 1.5 intervals,
  // and the next interval's first runs would dial with the last interval's addresses.
  now = INTERVAL_MS + 1;
  await resolveAddresses('autodiscover.d0.example', dns);
  assert.equal(asked(), 2, 'asked again in the next interval, as its probe results are');
});

test('a kept host that does not resolve is asked again after the failure time, so its fix shows as soon as before', async () => {
  const broken = await spreadOverAnInterval(true, { [EXT]: { srv: [] } });
  assert.ok(broken.resolutions.every((r) => !r.ok && r.failure === 'DANGLING_CNAME'));
  // 100 runs 3 s apart: a failure lives 5 s, so every second run asks again.
  assert.ok(broken.asked('A') >= 45, `A ${EXT} asked ${broken.asked('A')} times`);
});

test('kept hosts are bounded: the one kept longest ago goes first', async () => {
  const zone = fakeDns({ [EXT]: { a: ['203.0.113.7'] } });
  const dns = sharingResolutions(zone, { now: () => 0 }, 5_000);
  dns.shared.keep(EXT, UNTIL_INTERVAL_END);
  for (let i = 0; i < 256; i++) dns.shared.keep(`mail${i}.example.net`, UNTIL_INTERVAL_END);
  assert.equal(dns.shared.of(EXT), undefined, 'evicted');
  assert.notEqual(dns.shared.of('mail255.example.net'), undefined);
  assert.equal(dns.shared.of('www.example.com'), undefined, 'a host never kept is walked as usual');
});
