import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { CheckScheduler } from '../../../src/controllers/checks/check-scheduler.ts';
import type { CheckResult } from '../../../src/checks/types.ts';

const passed: CheckResult[] = [{ name: 'dns/autodiscover.example.com', status: 'Passed', reason: 'Ok', message: 'ok', details: {} }];
const failed: CheckResult[] = [{ name: 'dns/autodiscover.example.com', status: 'Failed', reason: 'NameNotFound', message: 'NXDOMAIN', details: {} }];

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Moves the mocked clock forward in 1 s steps, letting each run finish before the next tick. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1_000) {
    mock.timers.tick(1_000);
    await flush();
  }
}

function setup(answers: () => CheckResult[], random = () => 0.5) {
  const runs: { at: number; request: string }[] = [];
  const changes: string[] = [];
  const reported: number[] = [];
  const scheduler = new CheckScheduler<string>({
    run: async (_key, request) => { runs.push({ at: Date.now(), request }); return answers(); },
    onChange: (key) => changes.push(key),
    onRun: () => reported.push(Date.now()),
    random,
  });
  return { scheduler, runs, changes, reported };
}

test('runs at once, then every interval; an unchanged healthy result wakes nobody', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const { scheduler, runs, changes } = setup(() => passed);
  scheduler.ensure('mail/example', 'target-1', 60_000);
  await flush();
  assert.equal(runs.length, 1);
  assert.deepEqual(changes, ['mail/example']);
  assert.deepEqual(scheduler.snapshot('mail/example')?.results, passed);
  await advance(59_000);
  assert.equal(runs.length, 1, 'not before the interval');
  await advance(1_000);
  assert.equal(runs.length, 2, 'jitter 0.5 → exactly the interval');
  assert.deepEqual(changes, ['mail/example'], 'same results: no reconcile');
  await scheduler.stop();
});

test('failures retry sooner with exponential backoff, capped by the interval', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const { scheduler, runs } = setup(() => failed);
  scheduler.ensure('k', 't', 20_000);
  await flush();
  await advance(60_000);
  const gaps = runs.slice(1).map((r, i) => r.at - runs[i]!.at);
  assert.deepEqual(gaps.slice(0, 4), [5_000, 10_000, 20_000, 20_000], `gaps ${gaps}`);
  await scheduler.stop();
});

test('a changed target is checked at once; a forgotten key never again', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const { scheduler, runs } = setup(() => passed);
  scheduler.ensure('k', 'old', 300_000);
  await flush();
  scheduler.ensure('k', 'old', 300_000);
  await flush();
  assert.equal(runs.length, 1, 'same target: nothing new');
  scheduler.ensure('k', 'new', 300_000);
  mock.timers.tick(10);
  await flush();
  assert.deepEqual(runs.map((r) => r.request), ['old', 'new']);
  scheduler.forget('k');
  mock.timers.tick(600_000);
  await flush();
  assert.equal(runs.length, 2);
  await scheduler.stop();
});

test('jitter spreads the next run within ±10% of the interval', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const { scheduler } = setup(() => passed, () => 0);
  scheduler.ensure('k', 't', 100_000);
  await flush();
  assert.equal(scheduler.nextRunInMs('k'), 90_000);
  await scheduler.stop();
});

test('a snapshot names what its run checked: a target changed since keeps the old snapshot until its own run ends', async (t) => {
  // The rollout reads which release the http/ probes judged from here; the target of the
  // entry may already name the next one.
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let release: (() => void) | undefined;
  const scheduler = new CheckScheduler<string>({
    run: async (_key, request) => {
      if (request === 'release-b') await new Promise<void>((resolve) => { release = resolve; });
      return passed;
    },
    onChange: () => {},
    random: () => 0.5,
  });
  scheduler.ensure('k', 'release-a', 60_000);
  await flush();
  assert.equal(scheduler.snapshot('k')?.request, 'release-a');
  scheduler.ensure('k', 'release-b', 60_000);
  await advance(1_000);
  assert.equal(scheduler.snapshot('k')?.request, 'release-a', 'the run of release-b has not ended');
  release?.();
  await flush();
  assert.equal(scheduler.snapshot('k')?.request, 'release-b');
  await scheduler.stop();
});

test('supersededSince: from a target change until the first run of the new target ends, which wakes the controller even with the same rows', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let release: (() => void) | undefined;
  const runs: string[] = [];
  const changes: string[] = [];
  const scheduler = new CheckScheduler<string>({
    run: async (_key, request) => {
      runs.push(request);
      if (request === 'issued') await new Promise<void>((r) => { release = r; });
      return passed;
    },
    onChange: (key) => changes.push(key),
    random: () => 0.5,
  });
  scheduler.ensure('k', 'not-issued', 60_000);
  assert.equal(scheduler.supersededSince('k'), undefined, 'no results yet: nothing superseded');
  await flush();
  assert.equal(scheduler.supersededSince('k'), undefined, 'results of the current target');
  assert.equal(changes.length, 1);
  await advance(5_000);
  scheduler.ensure('k', 'issued', 60_000);
  assert.equal(scheduler.supersededSince('k'), 5_000, 'since the target changed');
  await flush();
  assert.deepEqual(runs, ['not-issued', 'issued'], 'the new target runs at once');
  await advance(2_000);
  scheduler.ensure('k', 'issued', 60_000);
  assert.equal(scheduler.supersededSince('k'), 5_000, 'the same target again does not move it');
  release!();
  await flush();
  assert.equal(scheduler.supersededSince('k'), undefined, 'the run of the new target ended');
  assert.equal(changes.length, 2, 'same rows, new target: the controller looks again');
  await scheduler.stop();
});

test('a passing check that fails once is retried before anyone hears of it: a failure its retry does not confirm changes nothing', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let answer = passed;
  const { scheduler, runs, changes, reported } = setup(() => answer);
  scheduler.ensure('k', 't', 60_000);
  await flush();
  assert.deepEqual(changes, ['k']);
  answer = failed; // one lost answer
  await advance(60_000);
  assert.equal(runs.length, 2);
  assert.deepEqual(changes, ['k'], 'the failure is held');
  assert.deepEqual(scheduler.snapshot('k')?.results, passed, 'the snapshot still says what was confirmed');
  assert.equal(reported.length, 1, 'a held run is not reported to onRun either (metrics, the rows the status adopts)');
  answer = passed;
  for (let i = 0; i < 24; i++) { // 6 s in steps of 250 ms
    mock.timers.tick(250);
    await flush();
  }
  assert.equal(runs.length, 3);
  assert.equal(runs[2]!.at - runs[1]!.at, 5_250, 'the retry comes after the probe cache let go of the failure (5 s, plus jitter, never minus)');
  assert.deepEqual(changes, ['k'], 'passing again: nothing to report');
  assert.deepEqual(scheduler.snapshot('k')?.results, passed);
  await advance(60_000);
  assert.equal(runs.length, 4, 'back on its interval');
  await scheduler.stop();
});

test('a failure its retry confirms is reported then, and backs off from there; a check failing from the start is reported at once', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let answer = passed;
  const { scheduler, runs, changes } = setup(() => answer);
  scheduler.ensure('k', 't', 60_000);
  await flush();
  answer = failed;
  await advance(60_000);
  assert.deepEqual(changes, ['k']);
  await advance(6_000);
  assert.equal(runs.length, 3);
  assert.deepEqual(changes, ['k', 'k'], 'confirmed: the controller hears of it');
  assert.deepEqual(scheduler.snapshot('k')?.results, failed);
  await advance(9_000);
  assert.equal(runs.length, 3, 'not held again: the next retry backs off (10 s)');
  await advance(1_000);
  assert.equal(runs.length, 4);
  assert.deepEqual(changes, ['k', 'k', 'k'], 'still failing: reported as before');

  const fresh = setup(() => failed);
  fresh.scheduler.ensure('new', 't', 60_000);
  await flush();
  assert.deepEqual(fresh.changes, ['new'], 'never passed: nothing to confirm');
  assert.deepEqual(fresh.scheduler.snapshot('new')?.results, failed);
  await fresh.scheduler.stop();
  await scheduler.stop();
});

test('a changed target is not held: its first run is reported whatever it says', async (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  let answer = passed;
  const { scheduler, changes } = setup(() => answer);
  scheduler.ensure('k', 't1', 60_000);
  await flush();
  answer = failed;
  scheduler.ensure('k', 't2', 60_000);
  await flush();
  await advance(1_000);
  assert.deepEqual(changes, ['k', 'k']);
  assert.deepEqual(scheduler.snapshot('k')?.results, failed);
  await scheduler.stop();
});
