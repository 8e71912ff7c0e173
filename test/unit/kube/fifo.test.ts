// Fifo: the work queue's lanes. Order is first in, first out across its compactions, and the
// consumed front does not pile up. What a shift costs: npm run bench:fifo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../../src/kube/fifo.ts';

test('Fifo: first in, first out, interleaved pushes and shifts across compactions', () => {
  const q = new Fifo<number>();
  assert.equal(q.shift(), undefined);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 200; i++) assert.equal(q.shift(), expected++);
  }
  assert.equal(q.length, next - expected);
  while (q.length > 0) assert.equal(q.shift(), expected++);
  assert.equal(expected, next);
  assert.equal(q.shift(), undefined);
  q.push(7);
  q.clear();
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
});

test('Fifo: the consumed front is dropped, so a long-lived queue holds about what is queued', () => {
  const q = new Fifo<string>();
  for (let i = 0; i < 5_000; i++) q.push(`k${i}`);
  for (let i = 0; i < 200_000; i++) {
    q.shift();
    q.push(`x${i}`);
  }
  assert.equal(q.length, 5_000);
  assert.ok(q.capacity <= 2 * q.length + 1024, `${q.capacity} slots for ${q.length} keys`);
});
