// The informer's default transform: cached objects without metadata.managedFields (the
// largest part of most objects, read by nothing from the cache), everything else kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripManagedFields } from '../../../src/kube/informer.ts';

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
