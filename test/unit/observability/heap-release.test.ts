// After a burst, the operator gives the heap pages V8 freed (and keeps pooled, resident) back
// to the OS with one memory-reducing collection: when the committed heap has shrunk well below
// its high-water mark, at most every few minutes; has stood a little below it for two minutes
// (a burst is over), at most every ten; or has crept well above the heap in use, at most every
// half hour; only when the process has a gc to call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { DEFAULT_HEAP_RELEASE, heapReleaseMetrics, RecentLow, shouldReleaseHeap, startHeapRelease } from '../../../src/observability/heap-release.ts';

const MiB = 1024 * 1024;

const at = (highWaterBytes: number, lowUsedBytes: number, lastReleaseAt: number | undefined, startedAt = 0, belowSince?: number) => ({ highWaterBytes, lowUsedBytes, lastReleaseAt, startedAt, belowSince });

test('shouldReleaseHeap: a shrink of at least minShrinkBytes below the high-water mark, no sooner than minGapMs after the last', () => {
  const settings = { ...DEFAULT_HEAP_RELEASE, minShrinkBytes: 32 * MiB, minGapMs: 300_000 };
  // heap in use 150 MiB: no slack to speak of, so only the shrink counts
  assert.equal(shouldReleaseHeap(at(200 * MiB, 150 * MiB, undefined), 169 * MiB, 0, settings), undefined, '31 MiB below');
  assert.equal(shouldReleaseHeap(at(200 * MiB, 150 * MiB, undefined), 168 * MiB, 0, settings), 'shrunk', '32 MiB below, never released');
  assert.equal(shouldReleaseHeap(at(200 * MiB, 90 * MiB, 1_000), 100 * MiB, 300_999, settings), undefined, 'too soon after the last');
  assert.equal(shouldReleaseHeap(at(200 * MiB, 90 * MiB, 1_000), 100 * MiB, 301_000, settings), 'shrunk');
  assert.deepEqual(DEFAULT_HEAP_RELEASE, { minShrinkBytes: 32 * MiB, minGapMs: 300_000, maxSlackRatio: 0.5, minSlackBytes: 8 * MiB, slackGapMs: 1_800_000, settledShrinkBytes: 8 * MiB, settledAfterMs: 120_000, settledGapMs: 600_000 });
});

test('shouldReleaseHeap: a settled burst — 8 MiB or more below the high-water mark for two minutes, every ten minutes at most', () => {
  const settings = DEFAULT_HEAP_RELEASE;
  const two = 120_000;
  // 207 MiB at the burst's peak, 189 after it, heap in use 150: neither a 32 MiB shrink nor a creep
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, undefined, 0, 1_000), 189 * MiB, 1_000 + two - 1, settings), undefined, 'below for less than two minutes');
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, undefined, 0, 1_000), 189 * MiB, 1_000 + two, settings), 'settled');
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, undefined, 0, undefined), 189 * MiB, 1_000 + two, settings), undefined, 'not standing below (a sample came back up)');
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, undefined, 0, 1_000), 200 * MiB, 1_000 + two, settings), undefined, 'only 7 MiB below now');
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, 0, 0, 1_000), 189 * MiB, 599_999, settings), undefined, 'within ten minutes of the last release');
  assert.equal(shouldReleaseHeap(at(207 * MiB, 150 * MiB, 0, 0, 1_000), 189 * MiB, 600_000, settings), 'settled');
});

test('shouldReleaseHeap: a creep — committed more than half again the heap in use at its lowest, and 8 MiB — every half hour at most, counted from the start', () => {
  const settings = DEFAULT_HEAP_RELEASE;
  const half = 30 * 60_000;
  // 150 MiB live: 225 MiB committed is V8's usual headroom, 226 is past it
  assert.equal(shouldReleaseHeap(at(226 * MiB, 150 * MiB, undefined), 225 * MiB, half, settings), undefined, 'exactly 1.5x: not yet');
  assert.equal(shouldReleaseHeap(at(226 * MiB, 150 * MiB, undefined), 226 * MiB, half, settings), 'crept');
  assert.equal(shouldReleaseHeap(at(226 * MiB, 150 * MiB, undefined), 226 * MiB, half - 1, settings), undefined, 'within half an hour of the start');
  assert.equal(shouldReleaseHeap(at(226 * MiB, 150 * MiB, 10_000), 226 * MiB, 10_000 + half - 1, settings), undefined, 'within half an hour of the last release');
  assert.equal(shouldReleaseHeap(at(226 * MiB, 150 * MiB, 10_000), 226 * MiB, 10_000 + half, settings), 'crept');
  // a small heap: 10 MiB live, 17 MiB committed is 70 % over it but under 8 MiB
  assert.equal(shouldReleaseHeap(at(17 * MiB, 10 * MiB, undefined), 17 * MiB, half, settings), undefined, 'under minSlackBytes');
  assert.equal(shouldReleaseHeap(at(18 * MiB, 10 * MiB, undefined), 18 * MiB, half, settings), 'crept');
});

test('RecentLow: the lowest value over the last one to two windows', () => {
  const low = new RecentLow(100, 0);
  assert.equal(low.add(50, 0), 50);
  assert.equal(low.add(80, 50), 50);
  assert.equal(low.add(70, 120), 50, 'the previous window still counts');
  assert.equal(low.add(90, 225), 70, 'a window on: the first is forgotten');
  assert.equal(low.add(95, 500), 95, 'after a gap of two windows nothing older counts');
  low.reset(510);
  assert.equal(low.add(120, 520), 120);
});

test('startHeapRelease: collects once the heap shrank, then measures from the new level; nothing without a gc', async () => {
  assert.equal(startHeapRelease({ collect: undefined, heapBytes: () => ({ committed: 0, used: 0 }) }) === undefined, typeof globalThis.gc !== 'function', 'started only with a gc to call');
  let committed = 100 * MiB;
  let used = 90 * MiB;
  let clock = 0;
  const collected: number[] = [];
  const released: { reason: string; committedBefore: number; committedAfter: number }[] = [];
  const sampled = () => new Promise((r) => setTimeout(r, 30));
  const release = startHeapRelease({
    collect: async () => { collected.push(committed); committed = 60 * MiB; used = 50 * MiB; },
    heapBytes: () => ({ committed, used }),
    now: () => clock,
    sampleMs: 5,
    onRelease: (r) => released.push({ reason: r.reason, committedBefore: r.committedBefore, committedAfter: r.committedAfter }),
  });
  try {
    assert.ok(release);
    committed = 180 * MiB; // the burst
    used = 170 * MiB;
    await sampled();
    committed = 150 * MiB; // 30 MiB below: not yet
    used = 120 * MiB;
    await sampled();
    assert.deepEqual(collected, []);
    committed = 140 * MiB;
    await sampled();
    assert.deepEqual(collected, [140 * MiB]);
    assert.deepEqual(released, [{ reason: 'shrunk', committedBefore: 140 * MiB, committedAfter: 60 * MiB }]);
    // Another burst and shrink within the gap: wait; after it: once more.
    committed = 120 * MiB;
    used = 100 * MiB;
    await sampled();
    committed = 80 * MiB;
    used = 70 * MiB;
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

/** A heap the test sets by hand, its clock, and the releases a watch over them ran. */
function watchFakeHeap(start: { committed: number; used: number }, afterRelease: { committed: number; used: number }) {
  const heap = { ...start, clock: 0 };
  const released: { reason: string; committedBefore: number }[] = [];
  const release = startHeapRelease({
    collect: async () => { heap.committed = afterRelease.committed; heap.used = afterRelease.used; },
    heapBytes: () => ({ committed: heap.committed, used: heap.used }),
    now: () => heap.clock,
    sampleMs: 5,
    onRelease: (r) => released.push({ reason: r.reason, committedBefore: r.committedBefore }),
  });
  /** Moves the clock (and the committed heap, when given) and lets the watch sample it. */
  const step = async (clock: number, committed?: number) => {
    heap.clock = clock;
    if (committed !== undefined) heap.committed = committed;
    await sampled();
  };
  return { heap, released, release, step };
}
const sampled = () => new Promise((r) => setTimeout(r, 30));

test('startHeapRelease: a steady heap whose committed size creeps is released every half hour at most, measured against the heap in use at its lowest', async () => {
  const { heap, released, release } = watchFakeHeap({ committed: 40 * MiB, used: 30 * MiB }, { committed: 30 * MiB, used: 26 * MiB });
  try {
    assert.ok(release);
    // the heap in use swings between 26 and 34 MiB (collections); committed creeps to 41 MiB
    heap.committed = 41 * MiB;
    heap.clock = 29 * 60_000;
    heap.used = 26 * MiB;
    await sampled();
    assert.deepEqual(released, [], 'not within half an hour of the start');
    heap.clock = 30 * 60_000;
    heap.used = 34 * MiB;
    await sampled();
    assert.deepEqual(released, [{ reason: 'crept', committedBefore: 41 * MiB }], '41 MiB committed for 26 in use at the lowest');
    // after it 30 committed for 26 in use; it creeps again, and a release waits a half hour
    heap.committed = 40 * MiB;
    heap.clock = 59 * 60_000;
    heap.used = 26 * MiB;
    await sampled();
    assert.equal(released.length, 1, 'within half an hour of the last');
    heap.clock = 61 * 60_000;
    heap.used = 33 * MiB;
    await sampled();
    assert.deepEqual(released.at(-1), { reason: 'crept', committedBefore: 40 * MiB });
    // the heap in use grew with the committed heap (live data, not slack): nothing to release
    heap.committed = 48 * MiB;
    heap.clock = 100 * 60_000;
    heap.used = 40 * MiB;
    await sampled();
    heap.clock = 101 * 60_000;
    heap.used = 44 * MiB;
    await sampled();
    assert.equal(released.length, 2);
  } finally {
    release?.stop();
  }
});

test('startHeapRelease: a burst that ends 8 MiB or more down is released once the heap has stood there two minutes; a heap that keeps coming back up is not', async () => {
  const { released, release, step } = watchFakeHeap({ committed: 100 * MiB, used: 90 * MiB }, { committed: 95 * MiB, used: 90 * MiB });
  try {
    assert.ok(release);
    await step(0, 120 * MiB); // the burst's peak
    // it dips 10 MiB and comes back within the two minutes (a collection between allocations)
    await step(60_000, 110 * MiB);
    await step(100_000, 118 * MiB);
    await step(150_000, 110 * MiB);
    await step(269_999);
    assert.deepEqual(released, [], 'below since 150 s, not yet two minutes: the dip at 60 s does not count, the heap came back at 100 s');
    await step(270_000);
    assert.deepEqual(released, [{ reason: 'settled', committedBefore: 110 * MiB }]);
    // after it the high-water mark is the released heap (95 MiB): the same burst again, ten
    // minutes on at the earliest
    await step(300_000, 120 * MiB);
    await step(310_000, 110 * MiB);
    await step(869_999);
    assert.equal(released.length, 1, 'within ten minutes of the last release');
    await step(870_000);
    assert.deepEqual(released.at(-1), { reason: 'settled', committedBefore: 110 * MiB });
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

test('heapReleaseMetrics: each release counted by reason, with the time it took', async () => {
  const registry = new Registry();
  const count = heapReleaseMetrics(registry);
  const info = { committedBefore: 200 * MiB, committedAfter: 120 * MiB, rssBefore: 300 * MiB, rssAfter: 220 * MiB };
  count({ ...info, reason: 'shrunk', tookMs: 250 });
  count({ ...info, reason: 'shrunk', tookMs: 150 });
  count({ ...info, reason: 'crept', tookMs: 40 });
  const value = async (name: string, reason: string) => (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.reason === reason)?.value;
  assert.equal(await value('mapi_operator_heap_releases_total', 'shrunk'), 2);
  assert.equal(await value('mapi_operator_heap_releases_total', 'crept'), 1);
  assert.ok(Math.abs((await value('mapi_operator_heap_release_seconds_total', 'shrunk'))! - 0.4) < 1e-9, 'seconds, not milliseconds');
  assert.ok(Math.abs((await value('mapi_operator_heap_release_seconds_total', 'crept'))! - 0.04) < 1e-9);
  assert.match(await registry.metrics(), /# TYPE mapi_operator_heap_release_seconds_total counter/);
});
