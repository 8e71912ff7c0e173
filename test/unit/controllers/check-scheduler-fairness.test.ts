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
