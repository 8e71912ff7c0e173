// The map of key sets behind the Indexer and the Mailbox store's index of whole objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeySets } from '../../../src/kube/key-sets.ts';

test('keys come back by value in the order they came, once each, as a copy', () => {
  const sets = new KeySets();
  sets.add('ns/a', 'ns/m2');
  sets.add('ns/a', 'ns/m1');
  sets.add('ns/a', 'ns/m2');
  sets.add('ns/b', 'ns/m3');
  assert.deepEqual(sets.keys('ns/a'), ['ns/m2', 'ns/m1']);
  assert.equal(sets.count('ns/a'), 2);
  assert.deepEqual(sets.keys('ns/b'), ['ns/m3']);
  sets.keys('ns/a').push('ns/intruder');
  assert.deepEqual(sets.keys('ns/a'), ['ns/m2', 'ns/m1']);
  assert.deepEqual(sets.keys('ns/none'), []);
  assert.equal(sets.count('ns/none'), 0);
});

test('removing a key leaves the others; removing the last one forgets the value; removing what is absent is no error', () => {
  const sets = new KeySets();
  sets.add('v', 'k1');
  sets.add('v', 'k2');
  sets.remove('v', 'k1');
  assert.deepEqual(sets.keys('v'), ['k2']);
  sets.remove('v', 'k2');
  sets.remove('v', 'k2');
  sets.remove('other', 'k1');
  assert.equal(sets.count('v'), 0);
  sets.add('v', 'k1');
  assert.deepEqual(sets.keys('v'), ['k1']);
});
