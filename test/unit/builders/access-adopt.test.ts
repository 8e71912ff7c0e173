// The cache's copy of an access ConfigMap shares the builder's strings: the apiserver sends back
// what the operator applied, and at 100,000 Mailboxes the cache and the builder each held every
// shard. Strings compare by value in JavaScript, so sharing shows in the heap: the received
// copy's strings must be collectable once adopted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledHeap } from '../../support/gc.ts';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { adoptBuiltAccessData, desiredAccessConfigMaps, forgetAccessFiles } from '../../../src/builders/access.ts';
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

test('a list rebuilt after one Mailbox changed holds the unchanged shards once: the last build\'s strings', () => {
  const server = mapiServer({}, 'rebuilt-server');
  const input = accessInput(60_000);
  const first = desiredAccessConfigMaps(server, input);
  const shards = first.length;
  assert.ok(shards >= 8, `${shards} ConfigMaps`);
  const listBytes = first.reduce((n, cm) => n + Object.values(cm.data!).reduce((m, v) => m + v.length, 0), 0);

  // One Mailbox switched off: a new input (the controller builds one per change).
  const changed = { ...input, mailboxes: input.mailboxes.map((m, i) => (i === 1 ? { ...m, mapiEnabled: false } : m)) };
  const before = settledHeap();
  const second = desiredAccessConfigMaps(server, changed);
  const grew = settledHeap() - before;
  // Every shard anew would be the whole list again; the one changed shard is ~1/shards of it.
  assert.ok(grew < listBytes / 4, `the rebuild kept ${grew} bytes more, for a list of ${listBytes} bytes in ${shards} ConfigMaps`);

  // The content is what a fresh build of the changed input gives: one shard differs, the rest equal.
  const fresh = desiredAccessConfigMaps(server, structuredClone(changed)).map((cm) => Object.values(cm.data!));
  const differs = second.filter((cm, i) => JSON.stringify(Object.values(cm.data!)) !== JSON.stringify(Object.values(first[i]!.data!)));
  assert.equal(differs.length, 1, 'one shard changed');
  assert.deepEqual(second.map((cm) => Object.values(cm.data!)), fresh);
  assert.equal(first.length, second.length);
});

test('a deleted server\'s last build is let go', async () => {
  const server = mapiServer({}, 'deleted-server');
  let input: ReturnType<typeof accessInput> | undefined = accessInput(60_000);
  const listBytes = desiredAccessConfigMaps(server, input).reduce((n, cm) => n + Object.values(cm.data!).reduce((m, v) => m + v.length, 0), 0);
  input = undefined; // the controller's memo lets go of the input when the server goes
  // A WeakRef's target stays alive until the job that made it ends.
  await new Promise((resolve) => setImmediate(resolve));
  const before = settledHeap();
  forgetAccessFiles(server.metadata.namespace!, server.metadata.name!);
  const freed = before - settledHeap();
  assert.ok(freed > listBytes * 0.9, `freed ${freed} of the list's ${listBytes} bytes`);
});
