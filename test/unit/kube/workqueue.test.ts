import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type WorkQueueMetrics } from '../../../src/kube/workqueue.ts';
import { ManualClock } from '../../../src/kube/clock.ts';
import { ItemExponentialBackoff, JitteredBackoff, exponentialDelay } from '../../../src/kube/backoff.ts';

// Lets promise callbacks run without any real waiting.
const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function newQueue(clock = new ManualClock(1_000_000)) {
  return { clock, queue: new WorkQueue({ name: 'test', clock }) };
}

describe('WorkQueue', () => {
  it('collapses repeated adds of a queued key into one', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.len(), 2);
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.len(), 0);
  });

  it('never hands out a key that is being processed; a re-add while processing queues it once after done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const key = await queue.get();
    assert.equal(key, 'ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    assert.equal(queue.len(), 0, 'a key in flight must not be queued again');
    let second: string | undefined;
    void queue.get().then((k) => { second = k; });
    await flush();
    assert.equal(second, undefined, 'the waiting worker must not get the key in flight');
    queue.done('ns/a');
    await flush();
    assert.equal(second, 'ns/a', 'the dirty key is handed out once after done');
    queue.done('ns/a');
    assert.equal(queue.len(), 0);
  });

  it('does not re-queue a key after done when nobody re-added it', async () => {
    const { queue } = newQueue();
    queue.add('k');
    await queue.get();
    queue.done('k');
    assert.equal(queue.len(), 0);
  });

  it('backs off a failing key 5 ms, 10 ms, 20 ms ... capped at 5 min, and forget resets it', () => {
    const limiter = new ItemExponentialBackoff();
    const delays = Array.from({ length: 20 }, () => limiter.when('k'));
    assert.deepEqual(delays.slice(0, 6), [5, 10, 20, 40, 80, 160]);
    // 5 ms * 2^15 = 163.84 s is the last step under the cap, 2^16 would be 327.68 s.
    assert.equal(delays[15], 163_840);
    assert.equal(delays[16], 300_000);
    assert.equal(delays[19], 300_000);
    assert.equal(limiter.numRequeues('k'), 20);
    assert.equal(limiter.when('other'), 5, 'keys back off independently');
    limiter.forget('k');
    assert.equal(limiter.numRequeues('k'), 0);
    assert.equal(limiter.when('k'), 5);
    assert.equal(exponentialDelay(5000, { baseMs: 5, maxMs: 300_000 }), 300_000, 'no overflow to Infinity');
  });

  it('addRateLimited re-adds the key only when its backoff has elapsed', async () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited('k'); // 5 ms
    assert.equal(queue.len(), 0);
    clock.advance(4);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'k');
    queue.done('k');
    queue.addRateLimited('k'); // 10 ms
    clock.advance(9);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(queue.numRequeues('k'), 2);
    queue.forget('k');
    assert.equal(queue.numRequeues('k'), 0);
  });

  it('addAfter keeps the earliest due time per key and then adds once', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('k', 1000);
    queue.addAfter('k', 5000); // later: ignored
    queue.addAfter('k', 300); // earlier: wins
    assert.equal(queue.pendingDelayed(), 1);
    clock.advance(299);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    clock.advance(10_000);
    assert.equal(queue.len(), 1, 'the replaced delays must not fire');
    assert.equal(clock.pendingTimers(), 0);
    queue.addAfter('now', 0);
    assert.equal(queue.len(), 2, 'a zero delay adds at once');
  });

  it('runs at most `concurrency` keys at once, and each key at most once at a time', async () => {
    const { queue } = newQueue();
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    const releases: Array<() => void> = [];
    const handled: string[] = [];
    const runner = queue.runWorkers(3, async (key) => {
      running++;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
      assert.equal(perKey.get(key), 1, `key ${key} processed twice at once`);
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      handled.push(key);
      perKey.set(key, (perKey.get(key) ?? 0) - 1);
      running--;
    });
    for (let i = 0; i < 10; i++) queue.add(`k${i}`);
    queue.add('k0'); // re-add of a key in flight
    await flush();
    assert.equal(running, 3);
    while (handled.length < 11) {
      releases.shift()?.();
      await flush();
    }
    assert.equal(maxRunning, 3);
    assert.equal(handled.filter((k) => k === 'k0').length, 2, 'k0 re-added while in flight runs once more');
    await queue.shutDown();
    await runner;
  });

  it('shutDown stops handing out work, drops queued and delayed keys, and waits for work in flight', async () => {
    const { queue, clock } = newQueue();
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 100);
    const key = await queue.get();
    assert.equal(key, 'a');
    let drained = false;
    const shutdown = queue.shutDown().then(() => { drained = true; });
    assert.equal(await queue.get(), undefined, 'no new work after shutDown');
    await flush();
    assert.equal(drained, false, 'shutDown must wait for the key in flight');
    queue.done('a');
    await shutdown;
    assert.equal(drained, true);
    assert.equal(clock.pendingTimers(), 0, 'delayed adds are cancelled');
    queue.add('d');
    assert.equal(queue.len(), 0, 'adds after shutDown are ignored');
  });

  it('reports depth, adds, retries and durations to its metrics', async () => {
    const clock = new ManualClock(0);
    const seen = { depth: [] as number[], adds: 0, retries: 0, queue: [] as number[], work: [] as number[] };
    const metrics: WorkQueueMetrics = {
      depth: (n) => seen.depth.push(n),
      added: () => seen.adds++,
      retried: () => seen.retries++,
      queueDuration: (s) => seen.queue.push(s),
      workDuration: (s) => seen.work.push(s),
    };
    const queue = new WorkQueue({ name: 'm', clock, metrics });
    queue.add('k');
    queue.add('k');
    clock.advance(2000);
    await queue.get();
    clock.advance(500);
    queue.done('k');
    queue.addRateLimited('k');
    assert.equal(seen.adds, 1, 'a collapsed add is not counted');
    assert.equal(seen.retries, 1);
    assert.deepEqual(seen.queue, [2]);
    assert.deepEqual(seen.work, [0.5]);
    assert.deepEqual(seen.depth, [1, 0]);
  });
});

describe('JitteredBackoff', () => {
  it('draws from [d/2, d] with d doubling to the cap, and resets', () => {
    const low = new JitteredBackoff({ baseMs: 1000, maxMs: 30_000 }, () => 0);
    assert.deepEqual([low.next(), low.next(), low.next()], [500, 1000, 2000]);
    const high = new JitteredBackoff({ baseMs: 1000, maxMs: 30_000 }, () => 1);
    const values = Array.from({ length: 8 }, () => high.next());
    assert.deepEqual(values, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    high.reset();
    assert.equal(high.next(), 1000);
  });
});
