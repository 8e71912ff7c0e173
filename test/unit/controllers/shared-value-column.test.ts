// The Mailbox store's columns of shared values: each slot reads back what was set, a value is
// held once however many slots hold it, and it goes with the last slot holding it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedValueColumn } from '../../../src/controllers/mailbox/shared-value-column.ts';

test('each slot reads back its value; equal values are held once', () => {
  const column = new SharedValueColumn<string>();
  const names = ['tenant-a', 'tenant-b'];
  for (let slot = 0; slot < 1_000; slot++) column.set(slot, [names[slot % 2], 'x'].join('-'));
  for (let slot = 0; slot < 1_000; slot++) assert.equal(column.get(slot), `${names[slot % 2]}-x`);
  assert.equal(column.distinct, 2);
  assert.equal(column.get(5_000), undefined, 'a slot never set has no value');
});

test('a value goes with the last slot holding it; its number is reused', () => {
  const column = new SharedValueColumn<object>();
  const a = { status: 'a' };
  const b = { status: 'b' };
  column.set(0, a);
  column.set(1, a);
  column.set(2, b);
  column.set(0, undefined);
  assert.equal(column.distinct, 2, 'a is still held by slot 1');
  column.set(1, b);
  assert.equal(column.distinct, 1, 'a is gone');
  assert.equal(column.get(1), b);
  const c = { status: 'c' };
  column.set(3, c);
  assert.equal(column.get(3), c);
  assert.equal(column.get(2), b);
  column.set(2, b);
  column.set(1, undefined);
  column.set(2, undefined);
  column.set(3, undefined);
  assert.equal(column.distinct, 0, 'nothing left once no slot holds a value');
});

test('setting a slot to the value it holds changes nothing', () => {
  const column = new SharedValueColumn<string>();
  column.set(4, 'same');
  column.set(4, 'same');
  column.set(4, undefined);
  assert.equal(column.distinct, 0, 'counted once, released once');
});
