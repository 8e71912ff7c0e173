// A cached Mailbox's spec is parsed once per object version and the result kept on the
// object (no WeakMap entry, no parsed copy): a spec the schema passes unchanged is its own
// parsed value, frozen; one the schema changes (a default) or refuses keeps its result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoMailboxSpec } from '../../../src/controllers/cluster-view.ts';
import type { KubeObject } from '../../../src/kube/index.ts';

const mailbox = (spec: Record<string, unknown>): KubeObject => ({ metadata: { namespace: 'tenant-a', name: 'm' }, spec });

test('memoMailboxSpec: a spec valid as it is is its own parsed value, frozen, and kept out of copies and JSON', () => {
  const o = mailbox({ domainRef: 'd', address: 'ken@example.com', mapiEnabled: false });
  const first = memoMailboxSpec(o);
  assert.ok(first.ok);
  assert.equal(first.value, o.spec, 'no copy of the spec');
  assert.ok(Object.isFrozen(o.spec), 'shared with every reader: read-only');
  const again = memoMailboxSpec(o);
  assert.ok(again.ok && again.value === o.spec);
  assert.deepEqual(Object.keys(o), ['metadata', 'spec']);
  assert.equal(JSON.stringify(o), '{"metadata":{"namespace":"tenant-a","name":"m"},"spec":{"domainRef":"d","address":"ken@example.com","mapiEnabled":false}}');
});

test('memoMailboxSpec: a spec the schema completes gets the parsed value; the cached spec is left as it is', () => {
  const o = mailbox({ domainRef: 'd', address: 'ken@example.com' });
  const r = memoMailboxSpec(o);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { domainRef: 'd', address: 'ken@example.com', mapiEnabled: true });
  assert.notEqual(r.value, o.spec);
  assert.ok(!Object.isFrozen(o.spec));
  assert.equal(memoMailboxSpec(o), r, 'the same result, parsed once');
});

test('memoMailboxSpec: an invalid spec names the field, once per object version', () => {
  const o = mailbox({ domainRef: 'd', address: 'not an address', mapiEnabled: true });
  const r = memoMailboxSpec(o);
  assert.ok(!r.ok);
  assert.match(r.message, /spec\.address/);
  assert.equal(memoMailboxSpec(o), r);
  // A new version (the informer replaces the object on a change) is parsed afresh.
  const fixed = mailbox({ domainRef: 'd', address: 'ken@example.com', mapiEnabled: true });
  assert.ok(memoMailboxSpec(fixed).ok);
});

test('memoMailboxSpec: a frozen object (not the cache\'s) is parsed every time and never changed', () => {
  const o = Object.freeze(mailbox({ domainRef: 'd', address: 'ken@example.com', mapiEnabled: true }));
  const r = memoMailboxSpec(o);
  assert.ok(r.ok);
  assert.ok(!Object.isFrozen(o.spec));
  assert.equal(Object.getOwnPropertySymbols(o).length, 0);
});
