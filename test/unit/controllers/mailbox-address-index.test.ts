import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressIndex } from '../../../src/controllers/mailbox/controller.ts';
import { objectKey, type KubeObject } from '../../../src/kube/index.ts';

const mbx = (namespace: string, name: string, address: string): KubeObject => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { namespace, name }, spec: { address } });
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

/** An index over a cache, kept as the informer keeps both: the cache first, then the index. */
function indexedCache() {
  const cache = new Map<string, KubeObject>();
  const index = new AddressIndex((key) => cache.get(key));
  return {
    index,
    add(o: KubeObject) { cache.set(objectKey(o), o); index.add(o); },
    remove(o: KubeObject) { cache.delete(objectKey(o)); index.remove(o); },
    cache,
  };
}

test('the address index: one Mailbox per address, duplicates, case, namespaces, removal', () => {
  const { index, add, remove } = indexedCache();
  const ken = mbx('a', 'ken', 'Ken@Example.com');
  add(ken);
  assert.deepEqual(names(index.declaring('a', 'ken@example.com')), ['ken'], 'found by the lower-cased address');
  assert.deepEqual(names(index.declaring('b', 'ken@example.com')), [], 'another namespace is another index');
  const kenV2 = mbx('a', 'ken', 'ken@example.com');
  add(kenV2);
  assert.deepEqual(names(index.sharing(ken)), ['ken'], 'a new version of the same Mailbox replaces it');
  assert.equal(index.sharing(ken)[0], kenV2, 'read from the cache: its current version');

  const dup = mbx('a', 'ken-2', 'KEN@example.com');
  const third = mbx('a', 'ken-3', 'ken@example.com');
  add(dup);
  add(third);
  assert.deepEqual(names(index.sharing(ken)), ['ken', 'ken-2', 'ken-3']);
  assert.deepEqual(index.keysDeclaring('a', 'ken@example.com').sort(), ['a/ken', 'a/ken-2', 'a/ken-3']);
  remove(third);
  remove(ken);
  assert.deepEqual(names(index.sharing(dup)), ['ken-2'], 'back to a single Mailbox');
  remove(mbx('a', 'someone-else', 'ken@example.com'));
  assert.deepEqual(names(index.sharing(dup)), ['ken-2'], 'removing a Mailbox that is not indexed there changes nothing');
  remove(dup);
  assert.deepEqual(index.declaring('a', 'ken@example.com'), []);
  assert.deepEqual(index.keysDeclaring('a', 'ken@example.com'), []);

  assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'A@b.c'), mbx('a', 'x', 'a@B.C')), true);
  assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'a@b.c'), mbx('b', 'x', 'a@b.c')), false);
  assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'a@b.c'), mbx('a', 'x', 'd@b.c')), false);
});

test('the address index: canonical gives the address as a cached Mailbox spells it when that is the lower-cased form, else the address asked', () => {
  const { index, add } = indexedCache();
  const pilarSpec = { address: 'pilar@example.com' };
  add({ metadata: { namespace: 'a', name: 'pilar' }, spec: pilarSpec });
  add(mbx('a', 'ken', 'Ken@Example.com'));
  add(mbx('a', 'pilar-2', 'PILAR@example.com'));
  assert.equal(index.canonical('a', 'pilar@example.com'), pilarSpec.address);
  assert.equal(index.canonical('a', 'ken@example.com'), 'ken@example.com', 'spelled otherwise: the address asked');
  assert.equal(index.canonical('a', 'nobody@example.com'), 'nobody@example.com', 'not declared: the address asked');
  assert.equal(index.canonical('b', 'pilar@example.com'), 'pilar@example.com', 'another namespace');
});
