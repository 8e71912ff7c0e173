// The check IO's DNS answer cache: one question per name and type while its answer is fresh,
// shared by concurrent askers; failures kept for a shorter time so a fix is seen soon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachingAnswers } from '../../../src/checks/io.ts';
import { fakeDns } from './fake-io.ts';

function setup() {
  let now = 0;
  const zone = fakeDns({ 'mail.example.com': { a: ['203.0.113.7'] } });
  const dns = cachingAnswers(zone, { now: () => now }, { answerMs: 30_000, failureMs: 5_000 });
  return { zone, dns, advance: (ms: number) => { now += ms; } };
}

test('concurrent and later askers within the answer time share one question per name and type', async () => {
  const { zone, dns, advance } = setup();
  const answers = await Promise.all([dns.a('mail.example.com'), dns.a('MAIL.example.com'), dns.aaaa('mail.example.com')]);
  assert.deepEqual(answers.map((a) => a.ok), [true, true, false]);
  advance(29_999);
  await dns.a('mail.example.com');
  assert.deepEqual(zone.queries, ['A mail.example.com', 'AAAA mail.example.com']);
  advance(1);
  await dns.a('mail.example.com');
  assert.deepEqual(zone.queries.filter((q) => q === 'A mail.example.com').length, 2, 'asked again once the answer is 30 s old');
});

test('a failure (NXDOMAIN, NODATA, time-out) is kept 5 s only: a record just published shows soon', async () => {
  const { zone, dns, advance } = setup();
  assert.equal((await dns.cname('autodiscover.example.com')).ok, false);
  advance(4_999);
  await dns.cname('autodiscover.example.com');
  assert.equal(zone.queries.length, 1);
  advance(1);
  await dns.cname('autodiscover.example.com');
  assert.equal(zone.queries.length, 2);
});

test('answers of names nobody asks again are dropped once expired, not kept until the cap', async () => {
  let now = 0;
  const zone = fakeDns({ 'mail.example.com': { a: ['203.0.113.7'] } });
  const dns = cachingAnswers(zone, { now: () => now }, { answerMs: 30_000, failureMs: 5_000 });
  // A MailDomain created and deleted: its names asked once, never again.
  for (let i = 0; i < 50; i++) await dns.cname(`autodiscover.gone-${i}.example`);
  await dns.a('mail.example.com');
  assert.equal(dns.cachedAnswers(), 51);
  now += 30_000;
  await dns.a('mail.example.com');
  assert.equal(dns.cachedAnswers(), 1, 'only the name still asked is kept');
});
