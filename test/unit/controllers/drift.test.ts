import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsApply, withAppliedHash, containsDesired, APPLIED_HASH_ANNOTATION } from '../../../src/controllers/drift.ts';

const desired = withAppliedHash({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
  metadata: { name: 'x', namespace: 'mail', annotations: { 'nginx.ingress.kubernetes.io/proxy-buffering': 'off' } as Record<string, string> },
  spec: { tls: [] as unknown[], rules: [{ host: 'mail.example.com', http: { paths: [{ path: '/mapi' }] } }] },
});

const live = () => structuredClone({ ...desired, metadata: { ...desired.metadata, uid: 'u', resourceVersion: '7', annotations: { ...desired.metadata.annotations } }, spec: { rules: desired.spec.rules }, status: {} });

test('nothing to apply when the live object holds every value we set (server-added fields and dropped empty lists ignored)', () => {
  assert.equal(needsApply(desired, live()), false);
});

test('apply when the object is missing, when our desired state changed, or when someone changed a field we set', () => {
  assert.equal(needsApply(desired, undefined), true);
  const changed = withAppliedHash({ ...desired, spec: { ...desired.spec, rules: [{ host: 'mail.example.org', http: { paths: [{ path: '/mapi' }] } }] } });
  assert.notEqual(changed.metadata.annotations[APPLIED_HASH_ANNOTATION], desired.metadata.annotations[APPLIED_HASH_ANNOTATION]);
  assert.equal(needsApply(changed, live()), true);
  const edited = live();
  edited.metadata.annotations['nginx.ingress.kubernetes.io/proxy-buffering'] = 'on';
  assert.equal(needsApply(desired, edited), true);
  const extraRule = live();
  extraRule.spec.rules = [...extraRule.spec.rules, { host: 'evil.example', http: { paths: [{ path: '/' }] } }];
  assert.equal(needsApply(desired, extraRule), true, 'lists must match in length');
});

test('an annotation someone else added is not drift', () => {
  const annotated = live();
  (annotated.metadata.annotations as Record<string, string>)['team.example/owner'] = 'mail';
  assert.equal(needsApply(desired, annotated), false);
});

test('containsDesired compares scalars exactly', () => {
  assert.equal(containsDesired({ a: 1 }, { a: 1, b: 2 }), true);
  assert.equal(containsDesired({ a: 1 }, { a: '1' }), false);
  assert.equal(containsDesired({ a: [1, 2] }, { a: [1, 2] }), true);
  assert.equal(containsDesired({ a: [1, 2] }, { a: [2, 1] }), false);
  assert.equal(containsDesired({ a: {} }, {}), true);
});

test('an object hashed again is the same hashed object; an equal new object gets an equal hash', () => {
  const desired = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'ns', annotations: {} as Record<string, string> }, data: { a: 'b'.repeat(1000) } };
  const once = withAppliedHash(desired);
  assert.equal(withAppliedHash(desired), once);
  const again = withAppliedHash(structuredClone(desired));
  assert.notEqual(again, once);
  assert.equal(again.metadata.annotations[APPLIED_HASH_ANNOTATION], once.metadata.annotations[APPLIED_HASH_ANNOTATION]);
  const changed = withAppliedHash({ ...desired, data: { a: 'c' } });
  assert.notEqual(changed.metadata.annotations[APPLIED_HASH_ANNOTATION], once.metadata.annotations[APPLIED_HASH_ANNOTATION]);
});
