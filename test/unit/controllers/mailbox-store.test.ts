// The Mailbox informer's store (PackedMailboxStore): Mailboxes in columns, one slot each, an
// object built on each read. What a read gives must equal what was stored (the controllers
// decide on it), the spec must read as already parsed, and a Mailbox the layout does not fit
// must be kept whole, never trimmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { PackedMailbox, PackedMailboxStore, mailboxDomainKey, packedMailboxStore } from '../../../src/controllers/mailbox/mailbox-store.ts';
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

test('the store indexes its Mailboxes by domain: in the order they came, moved on a domainRef change, gone on delete, both layouts', () => {
  const store = new PackedMailboxStore();
  const withSpec = (i: number, spec: Record<string, unknown>) => {
    const o = cached(mailbox(i));
    return { ...o, spec: { ...(o.spec as object), ...spec } } as KubeObject;
  };
  const d0 = mailboxDomainKey('tenant-a', 'd0');
  const d1 = mailboxDomainKey('tenant-a', 'd1');
  for (const i of [3, 1, 2]) put(store, cached(mailbox(i)));
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u3', 'tenant-a/d0-u1', 'tenant-a/d0-u2'], 'in the order they came');
  assert.equal(store.countOfDomain(d0), 3);
  put(store, cached(mailbox(1, { rv: 9000 })));
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u3', 'tenant-a/d0-u1', 'tenant-a/d0-u2'], 'a new version (a status write) keeps its place');

  put(store, withSpec(1, { domainRef: 'd1', address: 'u1@d1.test' }));
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u3', 'tenant-a/d0-u2'], 'moved out of its old domain');
  assert.deepEqual(store.keysOfDomain(d1), ['tenant-a/d0-u1'], 'and into the new one');

  // A spec the layout does not fit, kept as an object, is found by its domain too.
  put(store, withSpec(2, { address: 'not an address' }));
  assert.equal(store.unpacked, 1);
  assert.deepEqual(store.keysOfDomain(d0).sort(), ['tenant-a/d0-u2', 'tenant-a/d0-u3']);
  assert.equal(store.countOfDomain(d0), 2);
  put(store, withSpec(2, { domainRef: 'd1', address: 'not an address' }));
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u3']);
  assert.deepEqual(store.keysOfDomain(d1).sort(), ['tenant-a/d0-u1', 'tenant-a/d0-u2']);
  put(store, withSpec(2, { domainRef: 7 }));
  assert.deepEqual(store.keysOfDomain(d1), ['tenant-a/d0-u1'], 'a domainRef that is no string is indexed nowhere');
  put(store, cached(mailbox(2)));
  assert.equal(store.unpacked, 0);
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u3', 'tenant-a/d0-u2'], 'packed again, back in its domain');

  // Deletes, from the head, the middle and the tail of a list; a freed slot reused elsewhere.
  for (const i of [4, 5, 6]) put(store, cached(mailbox(i)));
  store.delete('tenant-a/d0-u3');
  store.delete('tenant-a/d0-u5');
  store.delete('tenant-a/d0-u6');
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u2', 'tenant-a/d0-u4']);
  put(store, cached(mailbox(25)));
  assert.deepEqual(store.keysOfDomain(d1), ['tenant-a/d0-u1', 'tenant-a/d1-u5'], 'a reused slot joins its own domain');
  assert.deepEqual(store.keysOfDomain(d0), ['tenant-a/d0-u2', 'tenant-a/d0-u4']);
  for (const key of [...store.keys()]) store.delete(key);
  assert.deepEqual(store.keysOfDomain(d0), []);
  assert.equal(store.countOfDomain(d1), 0);
  assert.equal(store.size, 0);
});

test('the store, at 1,500 Mailboxes under churn, answers as a Map of the same Mailboxes', () => {
  const store = new PackedMailboxStore();
  const reference = new Map<string, KubeObject>();
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let step = 0; step < 6000; step++) {
    const i = Math.floor(next() * 1500);
    const o = cached(mailbox(i, { rv: 7000 + step }));
    const key = objectKey(o);
    if (next() < 0.3) {
      assert.equal(store.delete(key), reference.delete(key), `step ${step}: delete ${key}`);
    } else {
      put(store, o);
      reference.set(key, o);
    }
  }
  assert.equal(store.size, reference.size);
  for (const [key, o] of reference) assert.deepEqual(plain(store.get(key)), plain(o), key);
  const byDomain = new Map<string, string[]>();
  for (const [key, o] of reference) {
    const d = mailboxDomainKey(o.metadata.namespace, (o.spec as { domainRef: string }).domainRef);
    byDomain.set(d, [...(byDomain.get(d) ?? []), key]);
  }
  for (const [d, keys] of byDomain) assert.deepEqual(store.keysOfDomain(d).sort(), keys.sort(), d);
  for (const [key, o] of reference) {
    const address = (o.spec as { address: string }).address;
    assert.deepEqual(store.keysDeclaring(o.metadata.namespace!, address.toLowerCase()), [key], `${key} by address`);
  }
  assert.deepEqual([...store.keys()].sort(), [...reference.keys()].sort());
});
