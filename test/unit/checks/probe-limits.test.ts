import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedIO, ConcurrencyLimiter, ProbeNotAllowedError } from '../../../src/checks/probe-limits.ts';
import { fakeHttp, fakeIO, fakeTls, handshake, response } from './fake-io.ts';

describe('boundedIO', () => {
  it('refuses TLS and HTTP probes to hosts the target does not declare', async () => {
    const tls = fakeTls({ 'mail.example.com': handshake() });
    const http = fakeHttp(() => response(401));
    const io = boundedIO(fakeIO({ tls, http }), ['Mail.Example.com.'], new ConcurrencyLimiter(4, 2));
    assert.equal((await io.tls.handshake('mail.example.com')).ok, true);
    await assert.rejects(async () => io.tls.handshake('evil.example.net'), ProbeNotAllowedError);
    await assert.rejects(async () => io.http.request({ scheme: 'https', host: 'evil.example.net', method: 'GET', path: '/', headers: {}, verifyTls: true }), /not a host this MailDomain declares/);
    assert.deepEqual(tls.hosts, ['mail.example.com']);
    assert.equal(http.requests.length, 0);
  });
});

describe('ConcurrencyLimiter', () => {
  async function peak(limiter: ConcurrencyLimiter, keys: string[]): Promise<{ overall: number; perKey: Map<string, number> }> {
    let active = 0;
    let overall = 0;
    const activeByKey = new Map<string, number>();
    const perKey = new Map<string, number>();
    await Promise.all(keys.map((key) => limiter.run(key, async () => {
      active++;
      activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
      overall = Math.max(overall, active);
      perKey.set(key, Math.max(perKey.get(key) ?? 0, activeByKey.get(key) ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
      activeByKey.set(key, (activeByKey.get(key) ?? 1) - 1);
    })));
    return { overall, perKey };
  }

  it('keeps at most perKey probes per host', async () => {
    const { perKey } = await peak(new ConcurrencyLimiter(10, 2), Array(6).fill('a'));
    assert.equal(perKey.get('a'), 2);
  });

  it('keeps at most the global limit overall', async () => {
    const { overall } = await peak(new ConcurrencyLimiter(3, 2), ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd']);
    assert.equal(overall, 3);
  });

  it('keeps nothing for a host once its probes are done (hosts of deleted MailDomains never come back)', async () => {
    const limiter = new ConcurrencyLimiter(4, 2);
    const hosts = Array.from({ length: 200 }, (_, i) => `autodiscover.d${i}.example`);
    await peak(limiter, [...hosts, ...hosts, ...hosts]);
    assert.equal(limiter.busyKeys, 0);
    // Still limited per host after its semaphore went and came back.
    const { perKey } = await peak(limiter, Array(6).fill('a'));
    assert.equal(perKey.get('a'), 2);
    assert.equal(limiter.busyKeys, 0);
  });

  it('a host stays limited while a probe of it waits, and is let go after a failure too', async () => {
    const limiter = new ConcurrencyLimiter(4, 1);
    let release: () => void = () => undefined;
    const first = limiter.run('a', () => new Promise<void>((resolve) => { release = resolve; }));
    const second = limiter.run('a', async () => { throw new Error('refused'); });
    assert.equal(limiter.busyKeys, 1);
    release();
    await first;
    await assert.rejects(second, /refused/);
    assert.equal(limiter.busyKeys, 0);
  });
});
