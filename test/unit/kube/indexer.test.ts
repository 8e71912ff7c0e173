// The secondary index over an informer's cache: keys by value, the values a cached object is
// indexed under, updates and deletes (found again from the version replaced or deleted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Indexer } from '../../../src/kube/indexer.ts';
import type { EventHandlers, Informer } from '../../../src/kube/informer.ts';
import { objectKey, rememberKey, type KubeObject } from '../../../src/kube/client.ts';

/** An informer's store and handlers: each event changes the store first, as the informer does. */
function fakeInformer(): { informer: Informer<KubeObject>; handlers: EventHandlers<KubeObject> } {
  const box: { handlers?: EventHandlers<KubeObject> } = {};
  const store = new Map<string, KubeObject>();
  const informer = { addHandlers: (h: EventHandlers<KubeObject>) => { box.handlers = h; return () => {}; }, getByKey: (k: string) => store.get(k) } as unknown as Informer<KubeObject>;
  const handlers: EventHandlers<KubeObject> = {
    onAdd: (o) => { store.set(objectKey(o), o); box.handlers!.onAdd!(o); },
    onUpdate: (old, o) => { store.set(objectKey(o), o); box.handlers!.onUpdate!(old, o); },
    onDelete: (o) => { store.delete(objectKey(o)); box.handlers!.onDelete!(o); },
  };
  return { informer, handlers };
}

const obj = (name: string, refs: string[]): KubeObject => ({ metadata: { namespace: 'ns', name }, spec: { refs } });

test('Indexer: one value, several values, a change of values, a delete', () => {
  const f = fakeInformer();
  const index = new Indexer(f.informer, (o) => (o.spec as { refs: string[] }).refs.map((r) => `ns/${r}`));
  f.handlers.onAdd!(obj('a', ['d1']));
  f.handlers.onAdd!(obj('b', ['d1', 'd2']));
  f.handlers.onAdd!(obj('c', []));
  assert.deepEqual(index.keys('ns/d1').sort(), ['ns/a', 'ns/b']);
  assert.deepEqual(index.keys('ns/d2'), ['ns/b']);
  assert.deepEqual(index.valuesOf('ns/a'), ['ns/d1']);
  assert.deepEqual(index.valuesOf('ns/b'), ['ns/d1', 'ns/d2']);
  assert.deepEqual(index.valuesOf('ns/c'), []);
  f.handlers.onUpdate!(obj('a', ['d1']), obj('a', ['d2']));
  assert.deepEqual(index.keys('ns/d1'), ['ns/b']);
  assert.deepEqual(index.keys('ns/d2').sort(), ['ns/a', 'ns/b']);
  f.handlers.onDelete!(obj('b', ['d1', 'd2']));
  assert.deepEqual(index.keys('ns/d1'), []);
  assert.deepEqual(index.keys('ns/d2'), ['ns/a']);
  assert.deepEqual(index.valuesOf('ns/b'), []);
});

test('Indexer: an index function that throws indexes the object nowhere', () => {
  const f = fakeInformer();
  const index = new Indexer(f.informer, () => { throw new Error('malformed'); });
  f.handlers.onAdd!(obj('a', ['d1']));
  assert.deepEqual(index.valuesOf('ns/a'), []);
});

test('Indexer: keys an object by the key the informer keeps on it (objectKey), not a string of its own', () => {
  // The informer gives every cached object its key string once (rememberKey); an index that
  // built its own held a second copy per object. A remembered key unlike namespace/name shows
  // which one the index holds.
  const f = fakeInformer();
  const index = new Indexer(f.informer, (o) => (o.spec as { refs: string[] }).refs.map((r) => `ns/${r}`));
  const a = rememberKey(obj('a', ['d1']), 'ns/the-informers-key');
  f.handlers.onAdd!(a);
  assert.deepEqual(index.keys('ns/d1'), ['ns/the-informers-key']);
  assert.deepEqual(index.valuesOf('ns/the-informers-key'), ['ns/d1']);
  f.handlers.onDelete!(a);
  assert.deepEqual(index.keys('ns/d1'), []);
});

test('Indexer: an update finds what the replaced version was indexed under, with nothing kept per object', () => {
  const f = fakeInformer();
  let calls = 0;
  const index = new Indexer(f.informer, (o) => { calls++; return (o.spec as { refs: string[] }).refs.map((r) => `ns/${r}`); });
  const v1 = obj('a', ['d1']);
  f.handlers.onAdd!(v1);
  const v2 = obj('a', ['d1']);
  f.handlers.onUpdate!(v1, v2);
  assert.deepEqual(index.keys('ns/d1'), ['ns/a'], 'the same values: nothing moves');
  f.handlers.onUpdate!(v2, obj('a', ['d3']));
  assert.deepEqual(index.keys('ns/d1'), []);
  assert.deepEqual(index.keys('ns/d3'), ['ns/a']);
  assert.equal(calls, 5, 'once for an add, twice for each update (the old and the new version)');
});
