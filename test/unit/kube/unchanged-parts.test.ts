// A new version of a cached object keeps the old version's copy of every part that did not
// change (keepUnchangedParts): a status write sends the whole object again, and without this the
// cache got a new spec each time while indexes and memos held the strings of the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { Informer, keepUnchangedParts } from '../../../src/kube/informer.ts';
import { memoMailboxSpec } from '../../../src/controllers/cluster-view.ts';

const mailbox = (rv: string, spec: Record<string, unknown>, o: { ready?: boolean; labels?: Record<string, string> } = {}): KubeObject => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
  metadata: { namespace: 'tenant-a', name: 'ken', resourceVersion: rv, uid: 'uid-ken', generation: 1, ...(o.labels ? { labels: o.labels } : {}) },
  spec,
  ...(o.ready !== undefined ? { status: { observedGeneration: 1, mapiEnabled: o.ready } } : {}),
});

test('keepUnchangedParts: an equal spec, labels, annotations, owner references and finalizers are the old version\'s objects', () => {
  const owner = [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }];
  const old: KubeObject = { metadata: { name: 'a', resourceVersion: '1', labels: { app: 'a' }, annotations: { n: 'v' }, ownerReferences: owner, finalizers: ['f'] }, spec: { address: 'ken@example.com', domainRef: 'd' } } as KubeObject;
  const next: KubeObject = JSON.parse(JSON.stringify({ ...old, metadata: { ...old.metadata, resourceVersion: '2' }, status: { ok: true } })) as KubeObject;
  const kept = keepUnchangedParts(old, next);
  assert.equal(kept, next, 'the new version, changed in place');
  assert.equal(kept.spec, old.spec);
  assert.equal(kept.metadata.labels, old.metadata.labels);
  assert.equal((kept.metadata as { annotations?: unknown }).annotations, (old.metadata as { annotations?: unknown }).annotations);
  assert.equal(kept.metadata.ownerReferences, old.metadata.ownerReferences);
  assert.equal((kept.metadata as { finalizers?: unknown }).finalizers, (old.metadata as { finalizers?: unknown }).finalizers);
  assert.equal(kept.metadata.resourceVersion, '2', 'what changed is the new version\'s');
  assert.notEqual(kept.metadata, old.metadata);
});

test('keepUnchangedParts: a changed part is the new version\'s, down to a nested field', () => {
  const old: KubeObject = { metadata: { name: 'a', labels: { app: 'a' } }, spec: { tls: { issuerRef: { name: 'ca' } }, aliases: ['b.test'] } } as KubeObject;
  const next: KubeObject = { metadata: { name: 'a', labels: { app: 'b' } }, spec: { tls: { issuerRef: { name: 'ca2' } }, aliases: ['b.test'] } } as KubeObject;
  const specBefore = next.spec;
  keepUnchangedParts(old, next);
  assert.equal(next.spec, specBefore);
  assert.deepEqual(next.spec, { tls: { issuerRef: { name: 'ca2' } }, aliases: ['b.test'] });
  assert.deepEqual(next.metadata.labels, { app: 'b' });
  // A part that appears or goes is the new version's too.
  const gone = keepUnchangedParts(old, { metadata: { name: 'a' }, spec: old.spec } as KubeObject);
  assert.equal(gone.metadata.labels, undefined);
  const reordered = keepUnchangedParts(old, { metadata: { name: 'a', labels: { app: 'a' } }, spec: { tls: { issuerRef: { name: 'ca' } }, aliases: ['b.test', 'c.test'] } } as KubeObject);
  assert.deepEqual((reordered.spec as { aliases: string[] }).aliases, ['b.test', 'c.test']);
  assert.equal(reordered.metadata.labels, old.metadata.labels);
});

/** A list of `items` and one watch stream the test writes events into. */
function fakeApi(items: KubeObject[]) {
  let watch: PassThrough | undefined;
  let listed = 0;
  let watches = 0;
  const client = {
    async request<T>(): Promise<T> {
      listed++;
      return JSON.parse(JSON.stringify({ metadata: { resourceVersion: '10' }, items })) as T;
    },
    async stream(opts: { signal: AbortSignal }): Promise<PassThrough> {
      const res = new PassThrough() as PassThrough & { complete: boolean };
      res.complete = false;
      watch = res;
      watches++;
      opts.signal.addEventListener('abort', () => res.destroy(), { once: true });
      return res;
    },
  } as unknown as KubeClient;
  return {
    client,
    send: (e: object) => watch!.write(`${JSON.stringify(e)}\n`),
    watches: () => watches,
    /** Ends the watch with 410 Gone so the informer lists again. */
    gone: () => watch!.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } })}\n`),
    lists: () => listed,
  };
}

test('Informer: a status write leaves the cached spec and its parse as they were; a spec change brings a new spec, parsed again', async () => {
  // No mapiEnabled: the schema completes it, so the parse is an object of its own (identity
  // says whether it was parsed again).
  const spec = { address: 'Ken@Example.com', domainRef: 'd' };
  const api = fakeApi([mailbox('5', spec)]);
  const informer = new Informer({ client: api.client, resource: { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'mailboxes', kind: 'Mailbox', namespaced: true }, namespaces: ['tenant-a'], watchTimeoutSeconds: 3600, backoff: { baseMs: 1, maxMs: 5 } });
  const updates: Array<[KubeObject, KubeObject]> = [];
  informer.addHandlers({ onUpdate: (o, n) => updates.push([o, n]) });
  informer.start();
  try {
    await informer.waitForSync();
    const listed = informer.get('tenant-a', 'ken')!;
    const parsed = memoMailboxSpec(listed);
    assert.ok(parsed.ok && parsed.value.mapiEnabled === true);
    while (api.watches() < 1) await delay(5);
    api.send({ type: 'MODIFIED', object: mailbox('6', spec, { ready: true }) });
    while (updates.length < 1) await delay(5);
    const written = informer.get('tenant-a', 'ken')!;
    assert.notEqual(written, listed, 'a new version');
    assert.equal(written.metadata.resourceVersion, '6');
    assert.deepEqual(written.status, { observedGeneration: 1, mapiEnabled: true });
    assert.equal(written.spec, listed.spec, 'the status write did not bring a second copy of the spec');
    assert.equal(memoMailboxSpec(written), parsed, 'not parsed again: the same result');
    assert.deepEqual(Object.keys(written), ['apiVersion', 'kind', 'metadata', 'spec', 'status'], 'the parse stays out of keys and JSON');

    // A relist (after 410 Gone) of an unchanged object keeps the spec too.
    api.gone();
    while (api.lists() < 2) await delay(5);
    while (informer.get('tenant-a', 'ken')!.metadata.resourceVersion !== '5') await delay(5);
    assert.equal(informer.get('tenant-a', 'ken')!.spec, listed.spec);
    assert.equal(memoMailboxSpec(informer.get('tenant-a', 'ken')!), parsed);

    while (api.watches() < 2) await delay(5);
    api.send({ type: 'MODIFIED', object: mailbox('7', { ...spec, mapiEnabled: false }, { ready: false }) });
    while (informer.get('tenant-a', 'ken')!.metadata.resourceVersion !== '7') await delay(5);
    const changed = informer.get('tenant-a', 'ken')!;
    assert.notEqual(changed.spec, listed.spec);
    const reparsed = memoMailboxSpec(changed);
    assert.ok(reparsed.ok && reparsed.value.mapiEnabled === false, 'the new spec, parsed');
  } finally {
    await informer.stop();
  }
});
