import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peakRssMiB } from '../../../bench/scale/harness.ts';

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
