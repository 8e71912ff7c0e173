// The check scheduler under saturation: when runs take longer than the interval, the most
// overdue entry runs next, so an entry added late is not starved by earlier ones that are
// due again every interval.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler } from '../../../src/controllers/checks/check-scheduler.ts';
import type { CheckResult } from '../../../src/checks/types.ts';

const passed: CheckResult[] = [{ name: 'dns/autodiscover.example.com', status: 'Passed', reason: 'Ok', message: 'ok', details: {} }];

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

test('saturated: an entry added after others runs before they run a second time', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const ran: string[] = [];
  // Each run takes 10 s; one at a time; interval 5 s: the scheduler is always behind.
  const scheduler = new CheckScheduler<string>({
    run: (key, _request, signal) => new Promise((resolve) => {
      const timer = setTimeout(() => { ran.push(key); resolve(passed); }, 10_000);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(passed); }, { once: true });
    }),
    onChange: () => {},
    concurrency: 1,
    random: () => 0.5,
  });
  scheduler.ensure('a', 'a', 5_000);
  scheduler.ensure('b', 'b', 5_000);
  await flush();
  mock.timers.tick(1_000);
  scheduler.ensure('late', 'late', 5_000);
  for (let i = 0; i < 40; i++) {
    mock.timers.tick(1_000);
    await flush();
  }
  assert.deepEqual(ran.slice(0, 3), ['a', 'b', 'late'], `order of runs: ${ran.join(', ')}`);
  await scheduler.stop();
});

const failed: CheckResult[] = [{ name: 'tls/autodiscover.example.com', status: 'Failed', reason: 'HandshakeFailed', message: 'reset', details: {} }];

test('saturated: a target never checked and a retry after a failure run before routine re-checks that are more overdue', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const ran: string[] = [];
  // Each run takes 10 s, one at a time, interval 20 s: the routine re-checks of r1..r3 alone
  // keep the scheduler behind. 'flaky' fails its first run only.
  const scheduler = new CheckScheduler<string>({
    run: (key, _request, signal) => new Promise((resolve) => {
      const timer = setTimeout(() => {
        const first = !ran.includes(key);
        ran.push(key);
        resolve(key === 'flaky' && first ? failed : passed);
      }, 10_000);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(passed); }, { once: true });
    }),
    onChange: () => {},
    concurrency: 1,
    retryBaseMs: 5_000,
    random: () => 0.5,
  });
  const tickFor = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      mock.timers.tick(1_000);
      await flush();
    }
  };
  for (const key of ['r1', 'r2', 'r3', 'flaky']) scheduler.ensure(key, key, 20_000);
  // r1, r2, r3 and flaky each ran once by 40 s: r1 due again at 30 s, r2 at 40 s, r3 at 50 s;
  // flaky failed at 40 s and retries 5 s later. r1's re-check runs from 40 to 50 s.
  await tickFor(45);
  assert.deepEqual(ran, ['r1', 'r2', 'r3', 'flaky']);
  // At 45 s a MailDomain appears (or one's certificate is issued: its target changes).
  scheduler.ensure('fresh', 'fresh', 20_000);
  await tickFor(40);
  // At 50 s r2 is overdue since 40 s, fresh and flaky since 45 s: yet those two go first.
  assert.deepEqual(ran.slice(4, 8), ['r1', 'fresh', 'flaky', 'r2'], `order of runs: ${ran.join(', ')}`);
  await scheduler.stop();
});

test('saturated: waiting for a free slot costs nothing until a run ends (no polling)', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let clockReads = 0;
  const scheduler = new CheckScheduler<string>({
    run: (_key, _request, signal) => new Promise((resolve) => {
      const timer = setTimeout(() => resolve(passed), 10_000);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(passed); }, { once: true });
    }),
    onChange: () => {},
    now: () => { clockReads++; return Date.now(); },
    concurrency: 1,
    random: () => 0.5,
  });
  for (const key of ['a', 'b', 'c']) scheduler.ensure(key, key, 60_000);
  await flush();
  const before = clockReads;
  // 'a' runs for 10 s while 'b' and 'c' are due: nothing to do until it ends. The scheduler's
  // earlier 10 ms timer re-scanned every entry meanwhile (99 clock reads here).
  for (let i = 0; i < 99; i++) {
    mock.timers.tick(100);
    await flush();
  }
  assert.ok(clockReads - before <= 2, `the clock was read ${clockReads - before} times while every slot was busy`);
  await scheduler.stop();
});

test('a target changed many times while it waits runs once, with the latest target', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const ran: string[] = [];
  const scheduler = new CheckScheduler<string>({
    run: (_key, request, signal) => new Promise((resolve) => {
      const timer = setTimeout(() => { ran.push(request); resolve(passed); }, 1_000);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(passed); }, { once: true });
    }),
    onChange: () => {},
    concurrency: 1,
    random: () => 0.5,
  });
  scheduler.ensure('busy', 'busy', 60_000);
  await flush();
  for (let i = 0; i < 300; i++) scheduler.ensure('waiting', `target-${i}`, 60_000);
  for (let i = 0; i < 5; i++) {
    mock.timers.tick(1_000);
    await flush();
  }
  assert.deepEqual(ran, ['busy', 'target-299']);
  await scheduler.stop();
});
