import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from '../../../src/controllers/checks/min-heap.ts';

test('pops in order whatever the push order, and peek shows the next', () => {
  const heap = new MinHeap<number>((a, b) => a < b);
  const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 1009);
  for (const v of values) heap.push(v);
  assert.equal(heap.size, 500);
  const sorted = [...values].sort((a, b) => a - b);
  const out: number[] = [];
  while (heap.size > 0) {
    assert.equal(heap.peek(), sorted[out.length]);
    out.push(heap.pop()!);
  }
  assert.deepEqual(out, sorted);
  assert.equal(heap.pop(), undefined);
  assert.equal(heap.peek(), undefined);
});

test('retain keeps only the accepted items, still in heap order', () => {
  const heap = new MinHeap<number>((a, b) => a < b);
  for (let v = 100; v > 0; v--) heap.push(v);
  heap.retain((v) => v % 3 === 0);
  const out: number[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
  assert.deepEqual(out, Array.from({ length: 33 }, (_, i) => 3 * (i + 1)));
});
