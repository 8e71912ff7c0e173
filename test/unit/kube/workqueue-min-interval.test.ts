// minIntervalMs: a key many events concern at once (a MapiServer and its thousands of Mailboxes)
// is reconciled once per burst, not once per event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/kube/workqueue.ts';
import { ManualClock } from '../../../src/kube/clock.ts';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function newQueue(minIntervalMs?: number, maxWorkShare?: number) {
  const clock = new ManualClock(1_000_000);
  return { clock, queue: new WorkQueue({ name: 'test', clock, ...(minIntervalMs ? { minIntervalMs } : {}), ...(maxWorkShare ? { maxWorkShare } : {}) }) };
}

describe('WorkQueue minIntervalMs', () => {
  it('a key added again soon after it was handed out waits for the rest of the interval; other keys do not', async () => {
    const { clock, queue } = newQueue(1_000);
    queue.add('ns/server');
    assert.equal(await queue.get(), 'ns/server');
    queue.done('ns/server');
    clock.advance(100);
    queue.add('ns/server');
    queue.add('ns/other');
    assert.equal(queue.len(), 1, 'only the other key is ready');
    assert.equal(await queue.get(), 'ns/other');
    queue.done('ns/other');
    clock.advance(899);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'ns/server');
  });

  it('a burst of adds while the key is processed and after: handed out once, when the interval has passed', async () => {
    const { clock, queue } = newQueue(1_000);
    queue.add('ns/server');
    const handed: string[] = [];
    handed.push((await queue.get())!);
    for (let i = 0; i < 50; i++) queue.add('ns/server'); // events while it runs
    clock.advance(200);
    queue.done('ns/server');
    for (let i = 0; i < 50; i++) queue.add('ns/server'); // and right after
    assert.equal(queue.len(), 0);
    void queue.get().then((k) => { if (k) handed.push(k); });
    clock.advance(799);
    await flush();
    assert.equal(handed.length, 1);
    clock.advance(1);
    await flush();
    assert.deepEqual(handed, ['ns/server', 'ns/server']);
    assert.equal(queue.len(), 0, 'a hundred adds, one more reconcile');
  });

  it('without it a key is handed out as soon as it is added again', async () => {
    const { queue } = newQueue();
    queue.add('ns/server');
    await queue.get();
    queue.done('ns/server');
    queue.add('ns/server');
    assert.equal(queue.len(), 1);
  });

  it('with maxWorkShare, a key whose work was long waits that many times its duration from its start; a short one the interval', async () => {
    const { clock, queue } = newQueue(1_000, 0.25);
    queue.add('ns/server');
    await queue.get();
    clock.advance(2_000); // a long reconcile: 2 s
    queue.done('ns/server');
    queue.add('ns/server');
    clock.advance(5_999); // 7,999 ms since it started
    assert.equal(queue.len(), 0, 'a quarter of the time at most: 8 s from the start');
    clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'ns/server');
    clock.advance(100); // a short one: the interval again
    queue.done('ns/server');
    queue.add('ns/server');
    clock.advance(899);
    assert.equal(queue.len(), 0);
    clock.advance(1);
    assert.equal(queue.len(), 1);
  });

  it('without maxWorkShare a long reconcile stretches nothing: added after it, the key goes at once', async () => {
    const { clock, queue } = newQueue(1_000);
    queue.add('ns/server');
    await queue.get();
    clock.advance(2_000);
    queue.done('ns/server');
    queue.add('ns/server');
    assert.equal(queue.len(), 1);
  });
});
