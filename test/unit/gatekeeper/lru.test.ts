import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lru } from '../../../src/gatekeeper/lru.ts';

test('the least recently used pair is forgotten first, and the size never passes the bound', () => {
  const lru = new Lru<string, string>(2);
  lru.set('a', '1');
  lru.set('b', '2');
  assert.equal(lru.get('a'), '1');
  lru.set('c', '3');
  assert.equal(lru.size, 2);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), '1');
  assert.equal(lru.get('c'), '3');
  assert.throws(() => new Lru(0), /LRU size 0: must be a whole number of at least 1/);
});
