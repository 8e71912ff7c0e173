// The Mailbox informer's store (PackedMailboxStore): Mailboxes in columns, one slot each, an
// object built on each read. What a read gives must equal what was stored (the controllers
// decide on it), the spec must read as already parsed, and a Mailbox the layout does not fit
// must be kept whole, never trimmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { PackedMailbox, PackedMailboxStore, packedMailboxStore } from '../../../src/controllers/mailbox/mailbox-store.ts';
import { CachedMailbox, PARSED_SPEC, VALID_AS_IS, compactMailbox } from '../../../src/controllers/mailbox/cached-mailbox.ts';
import { memoMailboxSpec } from '../../../src/controllers/cluster-view.ts';
import { Informer, cacheTransform } from '../../../src/kube/informer.ts';
import { objectKey, type KubeObject } from '../../../src/kube/index.ts';
import { fakeApi, mailbox, MAILBOXES } from '../../../bench/memory/fixtures.ts';

const cached = (o: KubeObject): KubeObject => compactMailbox(cacheTransform(structuredClone(o)));
const put = (store: PackedMailboxStore, o: KubeObject): KubeObject => {
  store.set(objectKey(o), o);
  return o;
};
const plain = (o: KubeObject | undefined) => (o === undefined ? undefined : { metadata: o.metadata, spec: o.spec, status: o.status, apiVersion: o.apiVersion, kind: o.kind });

test('a packed Mailbox reads back equal: metadata, spec, the shared status itself, apiVersion and kind; each read is a new object', () => {
  const store = new PackedMailboxStore();
  const stored = put(store, cached(mailbox(7)));
  const read = store.get('tenant-a/d0-u7')!;
  assert.equal(store.unpacked, 0, 'packed, not kept as an object');
  assert.ok(read instanceof PackedMailbox);
  assert.deepEqual(plain(read), plain(stored));
  assert.equal(read.status, stored.status, 'the status is the pooled object, not a copy');
  assert.equal(objectKey(read), 'tenant-a/d0-u7');
  assert.deepEqual(Object.keys(read), ['metadata', 'spec', 'status'], 'nothing else of its own');
  assert.deepEqual(Object.getOwnPropertySymbols({ ...read }), [], 'a spread copies neither its key nor its parse');
  assert.notEqual(store.get('tenant-a/d0-u7'), read, 'a new object per read');
  assert.deepEqual(JSON.parse(JSON.stringify(read)), JSON.parse(JSON.stringify(stored)), 'the same JSON (what a status apply or a log would see)');
});

test('a resourceVersion reads back as the same string, whatever it looks like', () => {
  const store = new PackedMailboxStore();
  for (const rv of ['6001', '9007199254740993', '0123', '12a', '1e3', '', ' 7']) {
    const o = cached(mailbox(9, { rv: 1 }));
    o.metadata.resourceVersion = rv;
    put(store, o);
    assert.equal(store.get(objectKey(o))!.metadata.resourceVersion, rv);
  }
  assert.equal(store.unpacked, 0);
});

test('a packed Mailbox reads as already parsed: the spec is its own parse and is not validated again', () => {
  const store = new PackedMailboxStore();
  put(store, cached(mailbox(3)));
  const read = store.get('tenant-a/d0-u3')!;
  assert.equal((read as unknown as Record<symbol, unknown>)[PARSED_SPEC], VALID_AS_IS);
  const parsed = memoMailboxSpec(read);
  assert.ok(parsed.ok);
  assert.equal(parsed.value, read.spec);
  (read.spec as { mapiEnabled: boolean }).mapiEnabled = false;
  assert.equal((store.get('tenant-a/d0-u3')!.spec as { mapiEnabled: boolean }).mapiEnabled, true, 'a reader that changes its copy changes nobody else\'s');
});

test('a Mailbox the layout does not fit is kept whole: an invalid address, a missing or extra field; packed again once it fits', () => {
  const store = new PackedMailboxStore();
  const base = cached(mailbox(1));
  const key = objectKey(base);
  const variants: Array<[string, unknown]> = [
    ['invalid address', { ...(base.spec as object), address: 'not an address' }],
    ['mapiEnabled missing (not defaulted)', { address: 'u1@d0.test', domainRef: 'd0' }],
    ['a field the schema does not know', { ...(base.spec as object), quota: '5Gi' }],
    ['a wrong type', { ...(base.spec as object), mapiEnabled: 'yes' }],
  ];
  for (const [why, spec] of variants) {
    const o = new CachedMailbox({ ...base.metadata }, spec, base.status);
    store.set(key, o);
    assert.equal(store.unpacked, 1, why);
    assert.equal(store.get(key), o, `${why}: the object itself`);
    assert.equal(store.size, 1);
  }
  put(store, base);
  assert.equal(store.unpacked, 0, 'fits again: packed');
  assert.deepEqual(plain(store.get(key)), plain(base));
  assert.equal(store.size, 1);
});

test('a deletion in progress is kept and cleared; a deleted Mailbox frees its slot for the next one; keys, values and entries cover both kinds', () => {
  const store = new PackedMailboxStore();
  const a = put(store, cached(mailbox(0)));
  const b = put(store, cached(mailbox(1)));
  const deleting = cached(mailbox(1));
  deleting.metadata.deletionTimestamp = '2026-12-05T11:00:00Z';
  put(store, deleting);
  assert.equal(store.get(objectKey(b))!.metadata.deletionTimestamp, '2026-12-05T11:00:00Z');
  put(store, b);
  assert.equal(store.get(objectKey(b))!.metadata.deletionTimestamp, undefined);
  assert.equal('deletionTimestamp' in store.get(objectKey(b))!.metadata, false);

  assert.equal(store.delete(objectKey(a)), true);
  assert.equal(store.delete(objectKey(a)), false);
  assert.equal(store.get(objectKey(a)), undefined);
  const c = put(store, cached(mailbox(45)));
  const odd = new CachedMailbox({ ...b.metadata, name: 'odd' }, { address: 'x' }, undefined);
  store.set('tenant-a/odd', odd);
  assert.deepEqual(plain(store.get(objectKey(c))), plain(c), 'the freed slot holds the new Mailbox');
  assert.deepEqual(plain(store.get(objectKey(b))), plain(b), 'and the others are untouched');
  assert.deepEqual([...store.keys()].sort(), ['tenant-a/d0-u1', 'tenant-a/d2-u5', 'tenant-a/odd']);
  assert.deepEqual([...store.values()].map((o) => o.metadata.name).sort(), ['d0-u1', 'd2-u5', 'odd']);
  assert.deepEqual([...store.entries()].map(([k, o]) => [k, objectKey(o)]).sort(), [['tenant-a/d0-u1', 'tenant-a/d0-u1'], ['tenant-a/d2-u5', 'tenant-a/d2-u5'], ['tenant-a/odd', 'tenant-a/odd']]);
  assert.equal(store.heldKey('tenant-a/odd'), 'tenant-a/odd');
  assert.equal(store.heldKey('tenant-a/nobody'), undefined);
  assert.equal(store.size, 3);
});

test('through the real Informer: listed, changed (old and new versions to the handlers), deleted and relisted as with a Map', async () => {
  const api = fakeApi([mailbox(0), mailbox(1), mailbox(2)]);
  const transform = (o: KubeObject) => compactMailbox(cacheTransform(o));
  const packed = new Informer({ client: api.client, resource: MAILBOXES, transform, store: packedMailboxStore, watchTimeoutSeconds: 3600 });
  const asMap = new Informer({ client: api.client, resource: MAILBOXES, transform, watchTimeoutSeconds: 3600 });
  const seen: Record<string, string[]> = { packed: [], asMap: [] };
  for (const [name, inf] of [['packed', packed], ['asMap', asMap]] as const) {
    inf.addHandlers({
      onAdd: (o) => seen[name]!.push(`add ${o.metadata.name}`),
      onUpdate: (o, n) => seen[name]!.push(`update ${o.metadata.name} ${o.metadata.resourceVersion}→${n.metadata.resourceVersion} ${(o.spec as { mapiEnabled: boolean }).mapiEnabled}→${(n.spec as { mapiEnabled: boolean }).mapiEnabled}`),
      onDelete: (o) => seen[name]!.push(`delete ${o.metadata.name}`),
    });
    inf.start();
  }
  try {
    await Promise.all([packed.waitForSync(), asMap.waitForSync()]);
    const off = mailbox(1, { rv: 70_001 });
    (off.spec as { mapiEnabled: boolean }).mapiEnabled = false;
    off.metadata.generation = 2;
    api.send([{ type: 'MODIFIED', object: off }, { type: 'DELETED', object: mailbox(2, { rv: 70_002 }) }, { type: 'ADDED', object: mailbox(3, { rv: 70_003 }) }]);
    while (packed.get('tenant-a', 'd0-u3') === undefined || asMap.get('tenant-a', 'd0-u3') === undefined) await delay(5);
    assert.deepEqual(seen.packed, seen.asMap, 'the same events, with equal objects');
    assert.ok(seen.packed!.includes('update d0-u1 6001→70001 true→false'), seen.packed!.join('\n'));
    assert.deepEqual(packed.keys().sort(), asMap.keys().sort());
    for (const key of asMap.keys()) assert.deepEqual(plain(packed.getByKey(key)), plain(asMap.getByKey(key)), key);
    assert.equal(packed.getByKey('tenant-a/d0-u1')!.metadata.generation, 2);
  } finally {
    await Promise.all([packed.stop(), asMap.stop()]);
  }
});
