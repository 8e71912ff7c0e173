// The compact record the Mailbox informer keeps (compactMailbox): the fields the controllers
// read and nothing else, apiVersion and kind from the prototype, the key and the parse in
// slots reserved inside the record, and a status write that keeps the spec keeps its parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedMailbox, PARSED_SPEC, compactMailbox } from '../../../src/controllers/mailbox/cached-mailbox.ts';
import { memoMailboxSpec } from '../../../src/controllers/cluster-view.ts';
import { objectKey, rememberKey, type KubeObject } from '../../../src/kube/index.ts';
import { cacheTransform, keepUnchangedParts } from '../../../src/kube/informer.ts';

/** A Mailbox as a watch event brings it, with what the apiserver and kubectl add. */
const fromApiserver = (rv: string, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'mapi-operator.io/v1alpha2',
  kind: 'Mailbox',
  metadata: {
    name: 'ken', namespace: 'tenant-a', uid: '96c8f7dc-2ff0-44d0-ae8f-1c1860a1c320', resourceVersion: rv, generation: 1,
    creationTimestamp: '2026-12-05T10:20:50Z',
    labels: { team: 'sales' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}', note: 'x' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'u' }],
    finalizers: ['example.com/keep'],
  },
  spec: { domainRef: 'example', address: 'ken@example.com', mapiEnabled: true },
  ...(status ? { status } : {}),
});

test('compactMailbox: keeps the metadata the controllers read, drops the uid, labels, annotations, owners, finalizers and managedFields', () => {
  const o = compactMailbox(fromApiserver('7'));
  assert.ok(o instanceof CachedMailbox);
  assert.deepEqual(o.metadata, {
    name: 'ken', namespace: 'tenant-a', resourceVersion: '7', generation: 1,
    creationTimestamp: '2026-12-05T10:20:50Z',
  });
  assert.deepEqual(o.spec, { domainRef: 'example', address: 'ken@example.com', mapiEnabled: true });
  assert.equal(o.status, undefined);
  const deleting = fromApiserver('8');
  deleting.metadata.deletionTimestamp = '2026-12-05T11:00:00Z';
  assert.equal(compactMailbox(deleting).metadata.deletionTimestamp, '2026-12-05T11:00:00Z', 'a deletion in progress is read (the controllers skip it)');
});

test('compactMailbox: apiVersion and kind are readable but not copied, and the reserved slots stay out of copies and JSON', () => {
  const o = rememberKey(compactMailbox(cacheTransform(fromApiserver('7', { mapiEnabled: true }))));
  assert.equal(o.apiVersion, 'mapi-operator.io/v1alpha2');
  assert.equal(o.kind, 'Mailbox');
  assert.deepEqual(Object.keys(o), ['metadata', 'spec', 'status']);
  assert.equal(JSON.stringify(o), '{"metadata":{"name":"ken","namespace":"tenant-a","resourceVersion":"7","generation":1,"creationTimestamp":"2026-12-05T10:20:50Z"},"spec":{"domainRef":"example","address":"ken@example.com","mapiEnabled":true},"status":{"mapiEnabled":true}}');
  const copy = { ...o };
  assert.equal(copy.apiVersion, undefined, 'whoever writes the object names them (the Mailbox controller does)');
  assert.equal(objectKey(o), 'tenant-a/ken');
});

test('compactMailbox: the key is the one string rememberKey is given, in the slot the record reserved', () => {
  const o = compactMailbox(fromApiserver('7'));
  const informersKey = ['tenant-a', 'ken'].join('/');
  rememberKey(o, informersKey);
  assert.equal(objectKey(o), informersKey);
  rememberKey(o, 'tenant-a/other');
  assert.equal(objectKey(o), informersKey, 'remembered once, for good');
  assert.deepEqual(Object.getOwnPropertySymbols(o).map((s) => s.description).sort(), ['objectKey', 'parsedMailboxSpec'], 'no slot added later: both were there from the start');
});

test('compactMailbox: the parse is kept in its slot and carried to the next version while the spec stays', () => {
  const v1 = compactMailbox(fromApiserver('7'));
  const parsed = memoMailboxSpec(v1);
  assert.ok(parsed.ok);
  assert.equal(parsed.value, v1.spec, 'valid as it is: the spec itself, frozen');
  assert.notEqual((v1 as unknown as Record<symbol, unknown>)[PARSED_SPEC], undefined);
  // A status write: a new version with an equal spec takes the old spec object and its parse.
  const v2 = keepUnchangedParts(v1, compactMailbox(fromApiserver('8', { mapiEnabled: true })));
  assert.equal(v2.spec, v1.spec);
  assert.equal((v2 as unknown as Record<symbol, unknown>)[PARSED_SPEC], (v1 as unknown as Record<symbol, unknown>)[PARSED_SPEC]);
  const again = memoMailboxSpec(v2);
  assert.ok(again.ok && again.value === v1.spec);
  // A spec change: a new spec, parsed afresh.
  const changed = fromApiserver('9');
  (changed.spec as Record<string, unknown>).mapiEnabled = false;
  const v3 = keepUnchangedParts(v2, compactMailbox(changed));
  assert.equal((v3 as unknown as Record<symbol, unknown>)[PARSED_SPEC], undefined);
  const r3 = memoMailboxSpec(v3);
  assert.ok(r3.ok && r3.value.mapiEnabled === false);
});

test('compactMailbox shares equal condition lists between Mailboxes; cacheTransform (every other kind) leaves each object its own', () => {
  const conditions = () => [{ type: 'Ready', status: 'True', reason: 'MapiEnabled', message: 'MAPI is on', lastTransitionTime: '2026-12-05T10:21:00Z' }];
  const a = compactMailbox(cacheTransform(fromApiserver('7', { mapiEnabled: true, conditions: conditions() })));
  const b = compactMailbox(cacheTransform(fromApiserver('8', { mapiEnabled: true, conditions: conditions() })));
  assert.equal(a.status, b.status, 'one frozen status for Mailboxes that say the same');
  assert.ok(Object.isFrozen((a.status as { conditions: object[] }).conditions[0]));
  const domain = (name: string) => cacheTransform({ metadata: { name, namespace: 'tenant-a' }, spec: {}, status: { conditions: conditions() } });
  const d1 = domain('d1');
  const d2 = domain('d2');
  assert.notEqual(d1.status, d2.status, 'a MailDomain keeps its own conditions: they name it, nothing to share');
  assert.ok(!Object.isFrozen((d1.status as { conditions: object[] }).conditions[0]));
});
