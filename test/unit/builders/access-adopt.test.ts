// The cache's copy of an access ConfigMap shares the builder's strings: the apiserver sends back
// what the operator applied, and at 100,000 Mailboxes the cache and the builder each held every
// shard. Strings compare by value in JavaScript, so sharing shows in the heap: the received
// copy's strings must be collectable once adopted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledHeap } from '../../support/gc.ts';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { adoptBuiltAccessData, desiredAccessConfigMaps } from '../../../src/builders/access.ts';
import { mapiServer, accessInput } from './fixtures.ts';


/** What the informer takes in: the applied object, parsed afresh from the apiserver's JSON. */
const received = (cm: V1ConfigMap): V1ConfigMap & { metadata: { namespace: string; name: string } } =>
  JSON.parse(JSON.stringify({ ...cm, metadata: { ...cm.metadata, uid: 'u-1', resourceVersion: '7' } }));

test('a received access list adopts the built strings: its own copy of the JSON is freed', () => {
  const server = mapiServer();
  const built = desiredAccessConfigMaps(server, accessInput(60_000));
  const builtBytes = built.reduce((n, cm) => n + Object.values(cm.data!).reduce((m, v) => m + v.length, 0), 0);
  assert.ok(builtBytes > 1_500_000, `a list of ${builtBytes} bytes`);

  const live = built.map(received);
  const before = settledHeap();
  for (const cm of live) assert.equal(adoptBuiltAccessData(cm), cm, 'the same object, changed in place');
  const freed = before - settledHeap();
  assert.ok(freed > builtBytes * 0.9, `freed ${freed} of the received copy's ${builtBytes} bytes`);
  assert.deepEqual(live, built.map(received), 'the same content');
});

test('what differs from the built list, or was never built here, is kept as received', () => {
  const server = mapiServer({}, 'other-server');
  const [built] = desiredAccessConfigMaps(server, accessInput(3));
  const edited = received(built!);
  const key = Object.keys(edited.data!).find((k) => k.startsWith('mailboxes-'))!;
  edited.data![key] = '{"hand@edited.example":true}';
  adoptBuiltAccessData(edited);
  assert.equal(edited.data![key], '{"hand@edited.example":true}');

  const stranger = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'mail', name: 'not-an-access-list' }, data: { 'x.json': '{}' } };
  assert.deepEqual(adoptBuiltAccessData(structuredClone(stranger)), stranger);
});
