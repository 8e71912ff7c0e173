// The two-generation map behind the string pool and the version twins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationalMap } from '../../../src/kube/generational-map.ts';

test('an entry lives one to two generations after it was set; looking with get does not keep it longer', () => {
  let now = 0;
  const map = new GenerationalMap<string, number>({ generationMs: 60_000, now: () => now });
  map.set('a', 1);
  now = 70_000;
  assert.equal(map.get('a'), 1, 'the previous generation still answers');
  now = 140_000;
  assert.equal(map.get('a'), undefined, 'two generations on: gone');
  assert.equal(map.size, 0);
});

test('keep moves an entry of the previous generation to the current one', () => {
  let now = 0;
  const map = new GenerationalMap<string, number>({ generationMs: 60_000, now: () => now });
  map.set('kept', 1);
  map.set('dropped', 2);
  now = 70_000;
  map.set('new', 3); // a new generation starts: 'kept' and 'dropped' are the previous one
  assert.equal(map.keep('kept'), 1);
  now = 140_000;
  map.set('newer', 4);
  assert.equal(map.get('kept'), 1);
  assert.equal(map.get('dropped'), undefined);
  assert.equal(map.keep('absent'), undefined);
});

test('a full generation moves on before its time; delete forgets in both', () => {
  const map = new GenerationalMap<string, number>({ generationMs: Infinity, maxPerGeneration: 2 });
  for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) map.set(k, i);
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((k) => map.has(k)), [false, false, true, true, true]);
  map.delete('c');
  map.delete('e');
  assert.equal(map.size, 1);
});

test('keep sets a moved value under keyOf(value): a pool keeps its own copy as the key', () => {
  let now = 0;
  const map = new GenerationalMap<{ id: string }, string>({ generationMs: 10, now: () => now, keyOf: (v) => ({ id: v }) });
  const first = { id: 'x' };
  map.set(first, 'x');
  now = 20;
  map.set({ id: 'y' }, 'y');
  assert.equal(map.keep(first), 'x');
  assert.equal(map.has(first), false, 'moved under the key keyOf made, not the caller\'s');
  assert.equal(map.size, 2);
});
