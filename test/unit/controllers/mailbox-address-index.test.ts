import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressIndex } from '../../../src/controllers/mailbox/controller.ts';
import { PackedMailboxStore } from '../../../src/controllers/mailbox/mailbox-store.ts';
import { objectKey, type KubeObject } from '../../../src/kube/index.ts';

// Both layouts of the store: a Mailbox the apiserver admitted is packed into slots; one whose
// spec does not fit the layout (here: no domainRef) is kept as the object it came as. The
// index must answer the same for both.
const LAYOUTS = {
  packed: (namespace: string, name: string, address: string): KubeObject => ({
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
    metadata: { namespace, name, resourceVersion: '1', generation: 1 },
    spec: { address, domainRef: 'example', mapiEnabled: true },
  }),
  kept: (namespace: string, name: string, address: string): KubeObject => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { namespace, name }, spec: { address } }),
};
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

function indexedStore() {
  const store = new PackedMailboxStore();
  return {
    index: new AddressIndex(store),
    store,
    add(o: KubeObject) { store.set(objectKey(o), o); },
    remove(o: KubeObject) { store.delete(objectKey(o)); },
  };
}

for (const [layout, mbx] of Object.entries(LAYOUTS)) {
  test(`the address index (${layout}): one Mailbox per address, duplicates, case, namespaces, removal`, () => {
    const { index, add, remove, store } = indexedStore();
    const ken = mbx('a', 'ken', 'Ken@Example.com');
    add(ken);
    assert.equal(store.unpacked, layout === 'kept' ? 1 : 0, 'the layout under test');
    assert.deepEqual(names(index.declaring('a', 'ken@example.com')), ['ken'], 'found by the lower-cased address');
    assert.deepEqual(names(index.declaring('b', 'ken@example.com')), [], 'another namespace is another index');
    const kenV2 = mbx('a', 'ken', 'ken@example.com');
    add(kenV2);
    assert.deepEqual(names(index.sharing(ken)), ['ken'], 'a new version of the same Mailbox replaces it');
    assert.equal(index.sharing(ken)[0]!.spec && (index.sharing(ken)[0]!.spec as { address: string }).address, 'ken@example.com', 'read from the cache: its current version');

    const dup = mbx('a', 'ken-2', 'KEN@example.com');
    const third = mbx('a', 'ken-3', 'ken@example.com');
    add(dup);
    add(third);
    assert.deepEqual(names(index.sharing(ken)), ['ken', 'ken-2', 'ken-3']);
    assert.deepEqual(index.keysDeclaring('a', 'ken@example.com').sort(), ['a/ken', 'a/ken-2', 'a/ken-3']);
    add(mbx('a', 'ken-3', 'other@example.com'));
    assert.deepEqual(names(index.sharing(ken)), ['ken', 'ken-2'], 'a Mailbox that changed its address leaves the old one');
    assert.deepEqual(index.keysDeclaring('a', 'other@example.com'), ['a/ken-3'], 'and is found under the new one');
    remove(third);
    remove(ken);
    assert.deepEqual(names(index.sharing(dup)), ['ken-2'], 'back to a single Mailbox');
    remove(mbx('a', 'someone-else', 'ken@example.com'));
    assert.deepEqual(names(index.sharing(dup)), ['ken-2'], 'removing a Mailbox that is not cached changes nothing');
    remove(dup);
    assert.deepEqual(index.declaring('a', 'ken@example.com'), []);
    assert.deepEqual(index.keysDeclaring('a', 'ken@example.com'), []);
    assert.deepEqual(index.keysDeclaring('a', 'other@example.com'), []);
    assert.equal(store.size, 0);

    assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'A@b.c'), mbx('a', 'x', 'a@B.C')), true);
    assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'a@b.c'), mbx('b', 'x', 'a@b.c')), false);
    assert.equal(AddressIndex.sameKey(mbx('a', 'x', 'a@b.c'), mbx('a', 'x', 'd@b.c')), false);
  });

  test(`the address index (${layout}): canonical gives the string a cached Mailbox holds when it spells the address so, else the address asked`, () => {
    const { index, add } = indexedStore();
    const pilar = mbx('a', 'pilar', 'pilar@example.com');
    add(pilar);
    add(mbx('a', 'ken', 'Ken@Example.com'));
    add(mbx('a', 'pilar-2', 'PILAR@example.com'));
    // A string built at run time, equal to the held one but not the same string.
    const asked = ['pilar', 'example.com'].join('@');
    assert.equal(index.canonical('a', asked), 'pilar@example.com');
    assert.equal(index.canonical('a', 'ken@example.com'), 'ken@example.com', 'spelled otherwise: the address asked');
    assert.equal(index.canonical('a', 'nobody@example.com'), 'nobody@example.com', 'not declared: the address asked');
    assert.equal(index.canonical('b', 'pilar@example.com'), 'pilar@example.com', 'another namespace');
  });
}

test('the address index: a Mailbox moving between layouts stays found once', () => {
  const { index, add, store } = indexedStore();
  add(LAYOUTS.kept('a', 'ken', 'ken@example.com'));
  add(LAYOUTS.packed('a', 'ken', 'ken@example.com'));
  assert.equal(store.unpacked, 0);
  assert.deepEqual(index.keysDeclaring('a', 'ken@example.com'), ['a/ken']);
  add(LAYOUTS.kept('a', 'ken', 'ken@example.com'));
  assert.equal(store.unpacked, 1);
  assert.deepEqual(index.keysDeclaring('a', 'ken@example.com'), ['a/ken']);
});
