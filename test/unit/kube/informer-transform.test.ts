// The informer's default transform: cached objects without metadata.managedFields (the
// largest part of most objects, read by nothing from the cache), everything else kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledHeap } from '../../support/gc.ts';
import { cacheTransform, ConditionPool, LAST_APPLIED_ANNOTATION, poolStrings, shareConditions, StatusPool, StringPool, stripManagedFields } from '../../../src/kube/informer.ts';

test('stripManagedFields drops metadata.managedFields and keeps every other field', () => {
  const obj = {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'a', namespace: 'n', resourceVersion: '7', labels: { x: 'y' }, managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:data': {} } }] },
    data: { k: 'v' },
  };
  const stripped = stripManagedFields(obj);
  assert.deepEqual(stripped, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n', resourceVersion: '7', labels: { x: 'y' } }, data: { k: 'v' } });
  assert.ok('managedFields' in obj.metadata, 'the input is not modified');
});

test('stripManagedFields returns an object without managedFields as it is', () => {
  const obj = { metadata: { name: 'a' } };
  assert.equal(stripManagedFields(obj), obj);
});

// The cache transform every informer uses by default (cacheTransform): managedFields and
// kubectl's last-applied copy go, everything else stays — what the controllers read (spec,
// status and its conditions, identity, generation, deletion, labels, other annotations, owner
// references) must come out equal, or a decision would be taken on a trimmed object.
const controllerRead = {
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: {
    name: 'mail', namespace: 'tenant-a', uid: 'u-1', resourceVersion: '42', generation: 3, creationTimestamp: '2026-12-02T05:10:21Z',
    deletionTimestamp: '2026-12-02T06:00:00Z', finalizers: ['mapi-operator.io/cleanup'],
    labels: { 'app.kubernetes.io/managed-by': 'mapi-operator' },
    annotations: { 'mapi-operator.io/applied-hash': 'abc', 'mapi-operator.io/rollout-state': 'Progressing' },
    ownerReferences: [{ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', name: 's0', uid: 'u-0', controller: true }],
  },
  spec: { replicas: 2, template: { metadata: { labels: { app: 'mapi' } }, spec: { containers: [{ name: 'mapi', image: 'x', args: ['--a', '--b'] }] } } },
  status: { replicas: 2, readyReplicas: 1, observedGeneration: 3, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', lastTransitionTime: '2026-12-02T05:11:00Z' }] },
};

test('cacheTransform keeps every field the controllers read, equal', () => {
  const listed = structuredClone(controllerRead) as typeof controllerRead & { metadata: { managedFields?: Array<{ manager: string }> } };
  listed.metadata.managedFields = [{ manager: 'mapi-operator' }];
  (listed.metadata.annotations as Record<string, string>)[LAST_APPLIED_ANNOTATION] = JSON.stringify(controllerRead);
  assert.deepEqual(cacheTransform(listed), controllerRead);
});

test('cacheTransform drops an annotations map left empty by the last-applied copy, and keeps objects without either field as they are', () => {
  const applied = { metadata: { name: 'a', annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } }, spec: { x: 1 } };
  assert.deepEqual(cacheTransform(applied), { metadata: { name: 'a' }, spec: { x: 1 } });
  const plain = { metadata: { name: 'a' }, spec: { x: 1 } };
  assert.equal(cacheTransform(plain), plain);
});

test('poolStrings: repeated values become one copy, the values stay equal, unique ones are not pooled', () => {
  const pool = new StringPool();
  // Built at run time: literals would already be one string.
  const make = (i: number) => ({ metadata: { namespace: ['tenant', 'a'].join('-'), name: `m${i}`, uid: `u${i}` }, status: { conditions: [{ type: ['Re', 'ady'].join(''), message: ['up to', 'date'].join(' ') }] } });
  const a = poolStrings(make(1), pool);
  const b = poolStrings(make(2), pool);
  assert.deepEqual(a, { metadata: { namespace: 'tenant-a', name: 'm1', uid: 'u1' }, status: { conditions: [{ type: 'Ready', message: 'up to date' }] } });
  // namespace, type and message: 3 pooled values; names and uids never enter the pool.
  assert.equal(pool.size, 3);
  assert.equal(a.status.conditions[0]!.message, b.status.conditions[0]!.message);
});

test('poolStrings: an owner reference\'s name and uid are pooled, the object\'s own are not', () => {
  const pool = new StringPool();
  const child = (kind: string) => ({
    metadata: { name: `d1-${kind}`, uid: `uid-of-${kind}`, ownerReferences: [{ kind: 'MailDomain', name: ['d', '1'].join(''), uid: ['4f0c', '9e21'].join('-') }] },
  });
  const children = ['certificate', 'ingress', 'service'].map((k) => poolStrings(child(k), pool));
  // 'MailDomain', 'd1' and the owner's uid: one pooled copy each for the three children.
  assert.equal(pool.size, 3);
  assert.ok(pool.has('4f0c-9e21') && pool.has('d1'));
  assert.ok(!pool.has('uid-of-ingress') && !pool.has('d1-ingress'));
  assert.deepEqual(children[1], child('ingress'));
});

// Strings built at run time, so that equal values are distinct strings until pooled.
const fresh = (s: string) => [...s].join('');

test('StringPool is bounded: never more than its bound, however many distinct strings come', () => {
  const pool = new StringPool(10);
  for (let i = 0; i < 1_000; i++) {
    pool.intern(`s${i}`);
    assert.ok(pool.size <= 10, `${pool.size} strings after ${i + 1}`);
  }
});

test('StringPool keeps a string that keeps coming, across generations, and lets go of one that stopped', () => {
  let now = 0;
  const pool = new StringPool(1_000, { generationMs: 60_000, now: () => now });
  pool.intern(fresh('tenant-a'));
  pool.intern(fresh('valid until 2027-03-06T00:52:36Z'));
  for (let minute = 1; minute <= 10; minute++) {
    now = minute * 60_000;
    // Every minute, an event with the namespace and a message of its own.
    pool.intern(fresh('tenant-a'));
    pool.intern(fresh(`checked at minute ${minute}`));
  }
  assert.ok(pool.has('tenant-a'));
  assert.ok(!pool.has('valid until 2027-03-06T00:52:36Z'), 'seen once, ten generations ago');
  assert.ok(!pool.has('checked at minute 1'));
  assert.ok(pool.has('checked at minute 10'));
  // About two generations' strings, not eleven minutes' worth.
  assert.ok(pool.size <= 4, `${pool.size} strings`);
});

test('StringPool: a full generation moves on before its time, and a string seen again survives it', () => {
  const pool = new StringPool(4, { generationMs: Infinity });
  for (const s of ['hot', 'a', 'b']) pool.intern(fresh(s)); // 'b' starts a generation: 2 of 4 is half
  pool.intern(fresh('hot')); // found in the previous generation: moved to the current one
  for (const s of ['c', 'd']) pool.intern(fresh(s)); // another generation
  assert.ok(!pool.has('a'), "'a' was not seen again");
  assert.ok(pool.has('hot'));
  assert.equal(pool.size, 4, "'b' and 'hot' in the previous generation, 'c' and 'd' in the current");
});

test('StringPool hands out its own copy, also of a string found in the previous generation', () => {
  const n = 2_000;
  const pool = new StringPool(2 * n, { generationMs: Infinity });
  const text = (i: number) => `${String(i).padStart(6, '0')} ${'x'.repeat(150)}`;
  for (let i = 0; i < n; i++) pool.intern(fresh(text(i)));
  pool.intern('next'); // a full generation: the n strings are now the previous one
  const before = settledHeap();
  const held = Array.from({ length: n }, (_, i) => pool.intern(fresh(text(i))));
  const grew = settledHeap() - before;
  // n copies of ~160 characters would be ~350 KB; the pool's own and the array ~16 KB.
  assert.ok(grew < 100 * 1024, `${grew} bytes for ${n} strings the pool holds`);
  assert.equal(held.length, n);
});

test('shareConditions: equal condition lists become one frozen list of frozen conditions; other lists stay apart', () => {
  const pool = new ConditionPool();
  const ready = (status: string) => ({ type: 'Ready', status, reason: 'R', lastTransitionTime: '2026-12-02T05:12:29Z' });
  const a = shareConditions({ status: { conditions: [ready('True'), { type: 'Stalled', status: 'False' }] } }, pool);
  const b = shareConditions({ status: { conditions: [ready('True'), { type: 'Stalled', status: 'False' }] } }, pool);
  const c = shareConditions({ status: { conditions: [ready('False'), { type: 'Stalled', status: 'False' }] } }, pool);
  assert.equal(a.status.conditions, b.status.conditions, 'one list for equal lists');
  assert.notEqual(a.status.conditions, c.status.conditions);
  assert.equal(a.status.conditions[1], c.status.conditions[1], 'an equal condition in another list is the same object');
  assert.deepEqual(c.status.conditions, [ready('False'), { type: 'Stalled', status: 'False' }]);
  assert.ok(Object.isFrozen(a.status.conditions) && Object.isFrozen(a.status.conditions[0]));
  // Shared, so a change in place would reach every object holding it: it throws instead.
  assert.throws(() => { (a.status.conditions[0] as { status: string }).status = 'False'; }, TypeError);
  assert.equal(b.status.conditions[0]!.status, 'True');
});

test('shareConditions leaves objects without a condition list, and lists of non-objects, as they are', () => {
  const pool = new ConditionPool();
  const none = { status: { phase: 'Ready' } };
  assert.deepEqual(shareConditions(none, pool), { status: { phase: 'Ready' } });
  const odd = { status: { conditions: ['x'] } };
  assert.equal(shareConditions(odd, pool).status.conditions[0], 'x');
  assert.ok(!Object.isFrozen(odd.status.conditions));
  assert.equal(pool.size, 0);
});

test('ConditionPool is bounded: when full it starts again', () => {
  const pool = new ConditionPool(2);
  for (const s of ['a', 'b', 'c']) pool.share([{ type: s }]);
  assert.equal(pool.size, 2); // one condition and its list
});

test('shareConditions: equal small statuses (a Mailbox\'s) become one frozen status; a status with anything larger stays its own', () => {
  const conditions = new ConditionPool();
  const statuses = new StatusPool();
  const ready = () => [{ type: 'Ready', status: 'True', reason: 'Published' }];
  const mailbox = (generation: number, mapiEnabled: boolean) => shareConditions({ status: { observedGeneration: generation, mapiEnabled, conditions: ready() } }, conditions, statuses);
  const a = mailbox(1, true);
  const b = mailbox(1, true);
  assert.equal(a.status, b.status, 'one status for equal statuses');
  assert.ok(Object.isFrozen(a.status));
  assert.throws(() => { (a.status as { mapiEnabled: boolean }).mapiEnabled = false; }, TypeError);
  assert.notEqual(mailbox(2, true).status, a.status, 'another observedGeneration');
  assert.notEqual(mailbox(1, false).status, a.status, 'another value');
  assert.deepEqual(mailbox(1, false).status, { observedGeneration: 1, mapiEnabled: false, conditions: ready() });
  // Same fields, another condition list: apart.
  const other = shareConditions({ status: { observedGeneration: 1, mapiEnabled: true, conditions: [{ type: 'Ready', status: 'False', reason: 'Waiting' }] } }, conditions, statuses);
  assert.notEqual(other.status, a.status);
  // A nested field (a server's rollout) or a long string: the object's own, not frozen.
  const server = shareConditions({ status: { observedGeneration: 1, rollout: { state: 'Succeeded' }, conditions: ready() } }, conditions, statuses);
  assert.ok(!Object.isFrozen(server.status));
  const long = shareConditions({ status: { message: 'x'.repeat(500) } }, conditions, statuses);
  assert.ok(!Object.isFrozen(long.status));
  assert.equal(statuses.size, 4);
});

test('StatusPool is bounded: when full it starts again', () => {
  const pool = new StatusPool(2);
  for (const n of [1, 2, 3]) pool.share({ observedGeneration: n });
  assert.equal(pool.size, 1);
});
