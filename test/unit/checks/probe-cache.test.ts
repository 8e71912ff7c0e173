import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProbeCache, probeCacheKey } from '../../../src/checks/probe-cache.ts';
import type { CheckResult } from '../../../src/checks/types.ts';
import { fixedClock } from './fake-io.ts';

const passed = (name: string): CheckResult => ({ name, status: 'Passed', reason: 'R', message: '', details: {} });
const failed = (name: string): CheckResult => ({ name, status: 'Failed', reason: 'R', message: '', details: {} });

function counter(result: (n: number) => CheckResult) {
  let calls = 0;
  return { probe: async () => result(++calls), calls: () => calls };
}

describe('ProbeCache', () => {
  it('probes once per TTL for the same check and inputs', async () => {
    const clock = fixedClock();
    const cache = new ProbeCache({ clock, ttlMs: 300_000 });
    const c = counter(() => passed('tls/mail.example.com'));
    await cache.get('tls/mail.example.com', { host: 'mail.example.com' }, c.probe);
    clock.advance(299_000);
    await cache.get('tls/mail.example.com', { host: 'mail.example.com' }, c.probe);
    assert.equal(c.calls(), 1);
    clock.advance(2_000);
    await cache.get('tls/mail.example.com', { host: 'mail.example.com' }, c.probe);
    assert.equal(c.calls(), 2);
  });

  it('keeps results that did not pass for the shorter failure TTL', async () => {
    const clock = fixedClock();
    const cache = new ProbeCache({ clock, ttlMs: 300_000, failureTtlMs: 20_000 });
    const c = counter(() => failed('dns/x'));
    await cache.get('dns/x', {}, c.probe);
    clock.advance(19_000);
    await cache.get('dns/x', {}, c.probe);
    assert.equal(c.calls(), 1);
    clock.advance(2_000);
    await cache.get('dns/x', {}, c.probe);
    assert.equal(c.calls(), 2);
  });

  it('shares one running probe between concurrent callers', async () => {
    const cache = new ProbeCache({ clock: fixedClock(), ttlMs: 60_000 });
    let release: () => void = () => undefined;
    let calls = 0;
    const probe = () => { calls++; return new Promise<CheckResult>((resolve) => { release = () => resolve(passed('tls/a')); }); };
    const first = cache.get('tls/a', { host: 'a' }, probe);
    const second = cache.get('tls/a', { host: 'a' }, probe);
    release();
    assert.deepEqual(await first, await second);
    assert.equal(calls, 1);
  });

  it('keys on the inputs, whatever their key order', async () => {
    assert.equal(probeCacheKey('tls/a', { a: 1, b: [1, 2] }), probeCacheKey('tls/a', { b: [1, 2], a: 1 }));
    assert.notEqual(probeCacheKey('tls/a', { nameservers: ['127.0.0.1'] }), probeCacheKey('tls/a', { nameservers: ['127.0.0.2'] }));
    assert.notEqual(probeCacheKey('tls/a', {}), probeCacheKey('tls/b', {}));
  });

  it('does not keep a probe that threw', async () => {
    const cache = new ProbeCache({ clock: fixedClock(), ttlMs: 60_000 });
    await assert.rejects(cache.get('x', {}, () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(cache.size, 0);
  });

  it('never returns an expired result, and drops expired ones once per failure TTL', async () => {
    const clock = fixedClock();
    const cache = new ProbeCache({ clock, ttlMs: 30_000, failureTtlMs: 5_000 });
    const c = counter(() => passed('tls/a'));
    await cache.get('tls/a', {}, c.probe);
    for (let i = 0; i < 50; i++) await cache.get(`tls/gone-${i}`, {}, async () => failed(`tls/gone-${i}`));
    assert.equal(cache.size, 51);
    clock.advance(4_000);
    // Within the sweep window nothing is swept...
    await cache.get('tls/a', {}, c.probe);
    assert.equal(cache.size, 51);
    clock.advance(2_000);
    // ...past it the 50 failures (5 s) go; the Passed result (30 s) stays and is reused.
    await cache.get('tls/a', {}, c.probe);
    assert.equal(cache.size, 1);
    assert.equal(c.calls(), 1);
    clock.advance(23_000);
    await cache.get('tls/a', {}, c.probe); // 29 s: still fresh; a sweep runs
    assert.equal(c.calls(), 1);
    clock.advance(2_000);
    // 31 s: expired at 30 s, and no sweep since 29 s: the lookup itself must not reuse it.
    await cache.get('tls/a', {}, c.probe);
    assert.equal(c.calls(), 2);
  });

  it('expires the results of one run together, at the end of the interval they settled in', async () => {
    const clock = fixedClock();
    const start = clock.now();
    const cache = new ProbeCache({ clock, ttlMs: 300_000 });
    const tls = counter(() => passed('tls/mail.example.com'));
    const http = counter(() => passed('http/mail.example.com'));
    const round = () => Promise.all([
      cache.get('tls/mail.example.com', {}, tls.probe),
      // The http/ probe settles 100 ms after the handshake (its requests follow it).
      cache.get('http/mail.example.com', {}, async () => { clock.advance(100); return http.probe(); }),
    ]);
    clock.advance(10_000);
    await round();
    assert.deepEqual([tls.calls(), http.calls()], [1, 1]);
    // Any lookup finds both fresh or both expired: none re-probes one of them alone (each would
    // cost the host a connection of its own).
    const at = (ms: number) => clock.advance(start + ms - clock.now());
    at(299_999);
    await round();
    assert.deepEqual([tls.calls(), http.calls()], [1, 1], 'both fresh within the interval');
    at(300_000);
    await round();
    assert.deepEqual([tls.calls(), http.calls()], [2, 2], 'both probed again by the first round of the next interval');
    at(600_000);
    await round();
    assert.deepEqual([tls.calls(), http.calls()], [3, 3], 'and again by the next');
  });
});
