import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpuSecondsOrZero, quietOver, waitQuiet } from '../../../bench/scale/harness.ts';

// [time ms, CPU seconds used so far] every 5 s.
const series = (coresPerStep: number[]): Array<[number, number]> => {
  let cpu = 0;
  return coresPerStep.map((c, i) => {
    if (i > 0) cpu += c * 5;
    return [i * 5_000, cpu] as [number, number];
  });
};

test('quiet only once a whole window below the threshold has been seen', () => {
  // Busy (1.5 cores) for a minute, then 0.1 core.
  const busyThenCalm = series([0, ...Array(12).fill(1.5), ...Array(8).fill(0.1)]);
  // 25 s of calm is not a 30 s window yet.
  assert.equal(quietOver(busyThenCalm.slice(0, 13 + 5), 30_000, 0.33), false);
  // 30 s of calm is.
  assert.equal(quietOver(busyThenCalm.slice(0, 13 + 6), 30_000, 0.33), true);
  // A window that still holds some of the busy minute is not quiet.
  assert.equal(quietOver(busyThenCalm.slice(0, 13 + 3), 30_000, 0.33), false);
});

test('a steady load above the threshold never counts as quiet; too few samples neither', () => {
  assert.equal(quietOver(series(Array(40).fill(0.5)), 30_000, 0.33), false);
  assert.equal(quietOver(series([0, 0]), 30_000, 0.33), false);
  assert.equal(quietOver([], 30_000, 0.33), false);
});

test('waitQuiet: quiet at once for processes that use no CPU, gives up on one that keeps using more than the threshold', async () => {
  const idle = await waitQuiet([2 ** 22 + 12_345], { windowMs: 200, maxCores: 0.33, maxMs: 5_000, sampleMs: 50 });
  assert.equal(idle.quiet, true);
  assert.ok(idle.waitedMs < 2_000, `${idle.waitedMs} ms`);
  // A process that uses 0.8 of a core, whatever else the machine runs: its CPU time is read
  // from the clock, not from /proc.
  const t0 = Date.now();
  const busyReader = () => ((Date.now() - t0) / 1000) * 0.8;
  const busy = await waitQuiet([1], { windowMs: 300, maxCores: 0.33, maxMs: 1_500, sampleMs: 50 }, busyReader);
  assert.equal(busy.quiet, false);
  assert.ok(busy.waitedMs >= 1_500, `${busy.waitedMs} ms`);
  assert.ok(Math.abs(busy.cores - 0.8) < 0.1, `${busy.cores} cores for a process at 0.8`);
  // One that calms down 400 ms after this wait starts is quiet once a whole window has passed
  // since. (Counted from its own start: the wait above can overrun its 1.5 s on a loaded machine.)
  const t1 = Date.now();
  const calmingReader = () => Math.min(Date.now() - t1, 400) / 1000;
  const calming = await waitQuiet([1], { windowMs: 300, maxCores: 0.33, maxMs: 5_000, sampleMs: 50 }, calmingReader);
  assert.equal(calming.quiet, true);
  assert.ok(calming.waitedMs >= 600, `${calming.waitedMs} ms`);
});

test("cpuSecondsOrZero reads a live process's CPU time from /proc, and 0 for one that is gone", async () => {
  const burner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 10_000;
    // On a loaded machine a busy loop gets little CPU, but not none: wait for the first tick.
    while (cpuSecondsOrZero(burner.pid!) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(cpuSecondsOrZero(burner.pid!) > 0, 'a busy loop used no CPU in 10 s');
  } finally {
    burner.kill('SIGKILL');
  }
  assert.equal(cpuSecondsOrZero(2 ** 22 + 12_345), 0);
});
