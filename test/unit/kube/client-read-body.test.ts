// A response whose body was read keeps nothing of it. The client keeps its connections alive,
// and a kept-alive socket holds its last response until the next request: through the body
// reader's 'data' listener that response held every chunk and the promise with the body (two
// 0.6 MiB list pages at 5,000 MailDomains, in a heap snapshot). A local server stands in for
// the apiserver; the test holds the response as the socket does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gc } from '../../support/gc.ts';
import { getEventListeners } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../../../src/kube/client.ts';


const BODY = JSON.stringify({ items: Array.from({ length: 2_000 }, (_, i) => ({ name: `item-${i}` })) });

async function withServer<T>(use: (port: number) => Promise<T>): Promise<T> {
  const server = http.createServer((_req, res) => res.end(BODY));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const get = (port: number, agent: http.Agent) =>
  new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: '127.0.0.1', port, agent }, resolve).on('error', reject));

test('a read response keeps neither its chunks nor the body reader', async () => {
  await withServer(async (port) => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const res = await get(port, agent);
      const listenersBefore = { data: res.listenerCount('data'), end: res.listenerCount('end') };
      // Watches the chunks without holding them.
      const chunks: WeakRef<Buffer>[] = [];
      res.on('data', (c: Buffer) => chunks.push(new WeakRef(c)));
      assert.equal((await readBody(res, new AbortController().signal)).length, BODY.length);
      assert.ok(chunks.length > 0);

      assert.equal(res.listenerCount('end'), listenersBefore.end, "the reader's 'end' listener is gone");
      assert.equal(res.listenerCount('data'), listenersBefore.data + 1, "only the test's own 'data' listener is left");
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      assert.equal(chunks.filter((c) => c.deref() !== undefined).length, 0, 'every chunk collected while the response lives');
      assert.ok(res.listenerCount('error') >= 1, 'an error after the end still has a listener (no crash)');
      res.emit('error', new Error('late reset'));
    } finally {
      agent.destroy();
    }
  });
});

test('a read aborted half-way rejects and leaves no listener on the signal or the response', async () => {
  // The server sends the headers and a first chunk, then nothing: only the abort ends the read.
  const server = http.createServer((_req, res) => { res.writeHead(200); res.write('{"items":['); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = new http.Agent({ keepAlive: true });
  try {
    const res = await get((server.address() as AddressInfo).port, agent);
    const endListeners = res.listenerCount('end');
    const controller = new AbortController();
    const read = readBody(res, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort(new Error('stop'));
    await assert.rejects(read);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(res.listenerCount('end'), endListeners);
    assert.equal(res.listenerCount('data'), 0);
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
