// After a burst, the operator gives the heap pages V8 freed (and keeps pooled, resident) back
// to the OS with one memory-reducing collection: when the committed heap has shrunk well below
// its high-water mark, at most every few minutes, and only when the process has a gc to call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HEAP_RELEASE, shouldReleaseHeap, startHeapRelease } from '../../../src/observability/heap-release.ts';

const MiB = 1024 * 1024;

test('shouldReleaseHeap: a shrink of at least minShrinkBytes below the high-water mark, no sooner than minGapMs after the last', () => {
  const settings = { minShrinkBytes: 32 * MiB, minGapMs: 300_000 };
  assert.equal(shouldReleaseHeap({ highWaterBytes: 200 * MiB, lastReleaseAt: undefined }, 169 * MiB, 0, settings), false, '31 MiB below');
  assert.equal(shouldReleaseHeap({ highWaterBytes: 200 * MiB, lastReleaseAt: undefined }, 168 * MiB, 0, settings), true, '32 MiB below, never released');
  assert.equal(shouldReleaseHeap({ highWaterBytes: 200 * MiB, lastReleaseAt: 1_000 }, 100 * MiB, 300_999, settings), false, 'too soon after the last');
  assert.equal(shouldReleaseHeap({ highWaterBytes: 200 * MiB, lastReleaseAt: 1_000 }, 100 * MiB, 301_000, settings), true);
  assert.deepEqual(DEFAULT_HEAP_RELEASE, { minShrinkBytes: 32 * MiB, minGapMs: 300_000 });
});

test('startHeapRelease: collects once the heap shrank, then measures from the new level; nothing without a gc', async () => {
  assert.equal(startHeapRelease({ collect: undefined, committedBytes: () => 0 }) === undefined, typeof globalThis.gc !== 'function', 'started only with a gc to call');
  let committed = 100 * MiB;
  let clock = 0;
  const collected: number[] = [];
  const released: { committedBefore: number; committedAfter: number }[] = [];
  const sampled = () => new Promise((r) => setTimeout(r, 30));
  const release = startHeapRelease({
    collect: async () => { collected.push(committed); committed = 60 * MiB; },
    committedBytes: () => committed,
    now: () => clock,
    sampleMs: 5,
    onRelease: (r) => released.push({ committedBefore: r.committedBefore, committedAfter: r.committedAfter }),
  });
  try {
    assert.ok(release);
    committed = 180 * MiB; // the burst
    await sampled();
    committed = 150 * MiB; // 30 MiB below: not yet
    await sampled();
    assert.deepEqual(collected, []);
    committed = 140 * MiB;
    await sampled();
    assert.deepEqual(collected, [140 * MiB]);
    assert.deepEqual(released, [{ committedBefore: 140 * MiB, committedAfter: 60 * MiB }]);
    // Another burst and shrink within the gap: wait; after it: once more.
    committed = 120 * MiB;
    await sampled();
    committed = 80 * MiB;
    clock = 299_999;
    await sampled();
    assert.equal(collected.length, 1);
    clock = 300_000;
    await sampled();
    assert.equal(collected.length, 2);
  } finally {
    release?.stop();
  }
});

test('on a real V8: the RSS a burst left behind goes back to the OS', () => {
  // A child with --expose-gc and the release running as in the operator: ~250 MiB of objects
  // built, most dropped and collected.
  const module = fileURLToPath(new URL('../../../src/observability/heap-release.ts', import.meta.url));
  const script = `
    const { startHeapRelease } = await import(${JSON.stringify(module)});
    let resolveRelease;
    const released = new Promise((resolve) => { resolveRelease = resolve; });
    const release = startHeapRelease({ sampleMs: 50, onRelease: (r) => resolveRelease(r) });
    let keep = [];
    for (let i = 0; i < 1_500_000; i++) keep.push({ a: 'x' + i, b: [i, i + 1], c: { d: i } });
    await new Promise((r) => setTimeout(r, 200)); // the high-water mark is seen
    keep = keep.slice(0, 100_000);
    // An ordinary full collection, as V8 runs when the old generation fills: the heap shrinks,
    // and the pages it freed stay pooled and resident.
    globalThis.gc();
    const timeout = setTimeout(() => resolveRelease(null), 20_000);
    const result = await released;
    clearTimeout(timeout);
    release.stop();
    process.stdout.write(JSON.stringify({ released: result, kept: keep.length }));
  `;
  const run = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=8', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { released: { committedBefore: number; committedAfter: number; rssBefore: number; rssAfter: number } | null };
  assert.ok(out.released, 'a release ran');
  const freed = (out.released.rssBefore - out.released.rssAfter) / MiB;
  assert.ok(freed >= 64, `RSS ${(out.released.rssBefore / MiB).toFixed(0)} -> ${(out.released.rssAfter / MiB).toFixed(0)} MiB: only ${freed.toFixed(0)} MiB returned`);
});
