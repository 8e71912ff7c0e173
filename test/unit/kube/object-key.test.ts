// One key string per cached object (objectKey / rememberKey): the informer keeps the key it
// made for an object on the object, every later version of it gets the same string, and the
// store, the work queue and the indexes all hold that one copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { objectKey, rememberKey, type KubeClient, type KubeObject } from '../../../src/kube/client.ts';
import { Informer } from '../../../src/kube/informer.ts';

const KEY_SYMBOLS = (o: object) => Object.getOwnPropertySymbols(o).filter((s) => s.description === 'objectKey');

test('objectKey: namespace/name, or the name alone for a cluster-scoped object', () => {
  assert.equal(objectKey({ metadata: { namespace: 'tenant-a', name: 'd12-u3' } }), 'tenant-a/d12-u3');
  assert.equal(objectKey({ metadata: { name: 'ca' } }), 'ca');
  assert.equal(objectKey({}), '');
});

test('rememberKey: objectKey then returns the remembered string; it is invisible to JSON, spreads and keys', () => {
  const obj = { metadata: { namespace: 'n', name: 'a' }, spec: { x: 1 } };
  rememberKey(obj, 'n/remembered');
  assert.equal(objectKey(obj), 'n/remembered', 'the remembered key, not a new one');
  assert.deepEqual(Object.keys(obj), ['metadata', 'spec']);
  assert.equal(JSON.stringify(obj), '{"metadata":{"namespace":"n","name":"a"},"spec":{"x":1}}');
  assert.equal(objectKey({ ...obj }), 'n/a', 'a copy computes its own');
  rememberKey(obj, 'n/other');
  assert.equal(objectKey(obj), 'n/remembered', 'remembered once, for good');
  const frozen = Object.freeze({ metadata: { namespace: 'n', name: 'f' } });
  assert.equal(rememberKey(frozen), frozen);
  assert.equal(objectKey(frozen), 'n/f');
});

/** A list of `items` and one watch stream the test writes events into. */
function fakeApi(items: KubeObject[]) {
  let watch: PassThrough | undefined;
  const client = {
    async request<T>(): Promise<T> {
      return JSON.parse(JSON.stringify({ metadata: { resourceVersion: '10' }, items })) as T;
    },
    async stream(opts: { signal: AbortSignal }): Promise<PassThrough> {
      const res = new PassThrough() as PassThrough & { complete: boolean };
      res.complete = false;
      watch = res;
      opts.signal.addEventListener('abort', () => res.destroy(), { once: true });
      return res;
    },
  } as unknown as KubeClient;
  return { client, send: (e: object) => watch!.write(`${JSON.stringify(e)}\n`), watching: () => watch !== undefined };
}

const mailbox = (name: string, rv: string, address: string): KubeObject => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
  metadata: { namespace: 'tenant-a', name, resourceVersion: rv, uid: `uid-${name}` }, spec: { address, domainRef: 'd', mapiEnabled: true },
});

test('Informer: every cached object, listed or watched, carries its key; a new version of an object gets the key of the one it replaces', async () => {
  const api = fakeApi([mailbox('listed', '5', 'a@d.test')]);
  const informer = new Informer({ client: api.client, resource: { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'mailboxes', kind: 'Mailbox', namespaced: true }, namespaces: ['tenant-a'], watchTimeoutSeconds: 3600 });
  const seen: Array<[KubeObject | undefined, KubeObject]> = [];
  informer.addHandlers({ onAdd: (o) => seen.push([undefined, o]), onUpdate: (o, n) => seen.push([o, n]) });
  informer.start();
  try {
    await informer.waitForSync();
    const listed = informer.get('tenant-a', 'listed')!;
    assert.equal(KEY_SYMBOLS(listed).length, 1, 'a listed object carries its key');
    assert.equal(objectKey(listed), 'tenant-a/listed');
    while (!api.watching()) await delay(5);
    api.send({ type: 'ADDED', object: mailbox('watched', '6', 'b@d.test') });
    api.send({ type: 'MODIFIED', object: mailbox('listed', '7', 'c@d.test') });
    while (seen.length < 3) await delay(5);
    const watched = informer.get('tenant-a', 'watched')!;
    assert.equal(KEY_SYMBOLS(watched).length, 1, 'a watched object carries its key');
    const [before, after] = seen[2]!;
    assert.equal(before, listed);
    assert.equal((after.spec as { address: string }).address, 'c@d.test');
    assert.equal(KEY_SYMBOLS(after).length, 1);
    assert.equal(objectKey(after), objectKey(before!));
  } finally {
    await informer.stop();
  }
});
