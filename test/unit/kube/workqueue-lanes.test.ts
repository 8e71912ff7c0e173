// The work queue's two lanes: a periodic resync (low) waits behind the keys events added
// (high) and is promoted when an event adds the same key (the Controller's resync uses it); under a steady stream of events it
// still gets one key in LOW_LANE_TURN, so drift is corrected late but never starved.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { LOW_LANE_TURN, WorkQueue } from '../../../src/kube/workqueue.ts';
import { Controller } from '../../../src/kube/controller.ts';
import type { Informer } from '../../../src/kube/index.ts';
import { ManualClock } from '../../../src/kube/clock.ts';

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

const newQueue = () => new WorkQueue({ name: 'test', clock: new ManualClock(1_000_000) });

async function drain(queue: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (queue.len() > 0) {
    // A queue that says it has keys but hands none out is a bug: fail, do not hang.
    const key = await Promise.race([queue.get(), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
    assert.ok(key !== undefined, `len() is ${queue.len()} but no key is handed out (after ${out.join(' ')})`);
    out.push(key);
    queue.done(key);
  }
  return out;
}

describe('WorkQueue lanes', () => {
  it('an event added after a resync goes first; the resync keys keep their order', async () => {
    const queue = newQueue();
    for (const k of ['r1', 'r2', 'r3']) queue.add(k, 'low');
    queue.add('event');
    assert.equal(queue.len(), 4);
    assert.deepEqual(await drain(queue), ['event', 'r1', 'r2', 'r3']);
  });

  it('an event for a key the resync queued promotes it: handed out once, before the other resync keys', async () => {
    const queue = newQueue();
    for (let i = 0; i < 100; i++) queue.add(`d${i}`, 'low');
    queue.add('d99');
    queue.add('d99');
    assert.equal(queue.len(), 100, 'a promotion is not a second key');
    const order = await drain(queue);
    assert.equal(order[0], 'd99');
    assert.equal(order.length, 100, `every key once: ${order.length}`);
    assert.equal(new Set(order).size, 100);
    assert.equal(queue.len(), 0);
  });

  it('a resync add never demotes a key an event queued', async () => {
    const queue = newQueue();
    queue.add('r1', 'low');
    queue.add('e1');
    queue.add('e1', 'low');
    assert.deepEqual(await drain(queue), ['e1', 'r1']);
  });

  it('a key re-added while processing keeps the lane of that add', async () => {
    const queue = newQueue();
    queue.add('a');
    const a = (await queue.get())!;
    queue.add('a', 'low');
    queue.add('r1', 'low');
    queue.add('e1');
    queue.done(a);
    assert.deepEqual(await drain(queue), ['e1', 'r1', 'a']);
  });

  it('a key promoted, handed out and queued again by a resync is handed out once more, not twice', async () => {
    const queue = newQueue();
    queue.add('k', 'low');
    queue.add('k');
    const k = (await queue.get())!;
    queue.done(k);
    queue.add('k', 'low');
    assert.equal(queue.len(), 1);
    assert.deepEqual(await drain(queue), ['k']);
    assert.equal(queue.len(), 0);
  });

  it(`under a steady stream of events the low lane gets one key in ${LOW_LANE_TURN}`, async () => {
    const queue = newQueue();
    for (let i = 0; i < 10; i++) queue.add(`r${i}`, 'low');
    const order: string[] = [];
    for (let i = 0; i < 5 * LOW_LANE_TURN; i++) {
      queue.add(`e${i}`);
      queue.add(`e${i}b`);
      const key = (await queue.get())!;
      order.push(key);
      queue.done(key);
    }
    const resyncs = order.filter((k) => k.startsWith('r')).length;
    assert.equal(resyncs, 5, `order: ${order.join(' ')}`);
  });
});

describe('Controller resync', () => {
  it('puts every primary key in the low lane: an event that arrives after it is reconciled first', async () => {
    const clock = new ManualClock(1_000_000);
    const primary = {
      resource: { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'maildomains', namespaced: true, kind: 'MailDomain' },
      addHandlers: () => () => {},
      keys: () => ['ns/r1', 'ns/r2', 'ns/r3'],
    } as unknown as Informer;
    const order: string[] = [];
    let release: () => void = () => {};
    const controller = new Controller({
      name: 'maildomain', primary, logger: pino({ level: 'silent' }), concurrency: 1, resyncMs: 60_000, clock,
      reconcile: async (key: string) => {
        order.push(key);
        if (key === 'ns/r1') await new Promise<void>((resolve) => { release = resolve; });
      },
    });
    const running = controller.start();
    clock.advance(60_000);
    await flush();
    assert.deepEqual(order, ['ns/r1'], 'the resync started on the idle worker');
    controller.enqueue('ns/event');
    release();
    while (order.length < 4) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.deepEqual(order, ['ns/r1', 'ns/event', 'ns/r2', 'ns/r3']);
    await controller.stop();
    await running;
  });
});
