// The RSS readings the scale benchmark takes from /proc: the peak, the RSS now, and their spread over a window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peakRssMiB, rssNowMiB, spread } from '../../../bench/scale/harness.ts';

test('the peak RSS is the kernel high-water mark: at least the RSS now, and it sees memory just touched', () => {
  const rssNow = process.memoryUsage.rss() / 1024 / 1024;
  const peak = peakRssMiB(process.pid);
  assert.ok(peak >= rssNow - 1, `peak ${peak} MiB below the RSS now, ${rssNow} MiB`);
  const block = Buffer.alloc(64 * 1024 * 1024, 1);
  const during = peakRssMiB(process.pid);
  assert.ok(during >= rssNow + 60, `peak ${during} MiB after touching ${block.length / 1024 / 1024} MiB on top of ${rssNow} MiB`);
});

test('a process that is gone has no peak (0), not an error', () => {
  assert.equal(peakRssMiB(2 ** 22 + 12_345), 0);
});

test('the RSS now is the kernel VmRSS: close to what node reads, and 0 for a process that is gone', () => {
  const node = process.memoryUsage.rss() / 1024 / 1024;
  const now = rssNowMiB(process.pid);
  assert.ok(Math.abs(now - node) < 16, `VmRSS ${now} MiB against process.memoryUsage.rss() ${node} MiB`);
  assert.ok(now <= peakRssMiB(process.pid) + 1, 'never above the high-water mark');
  assert.equal(rssNowMiB(2 ** 22 + 12_345), 0);
});

test('spread: lowest, median (mean of the two middle readings when even) and highest; nothing for no readings', () => {
  assert.deepEqual(spread([313, 244, 297, 295]), { n: 4, min: 244, median: 296, max: 313 });
  assert.deepEqual(spread([300, 250, 280]), { n: 3, min: 250, median: 280, max: 300 });
  assert.equal(spread([]), undefined);
});
