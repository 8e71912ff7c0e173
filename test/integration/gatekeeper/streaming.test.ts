// Nothing is buffered: bytes pass as they are written, in both directions, and a slow reader
// slows the server down (backpressure) instead of filling the gatekeeper's memory. Every
// assertion is on order and receipt; the time-outs only stop a broken build from hanging.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { autodiscover, eventually, mapiHeaders, request, startRig, type Rig } from './harness.ts';

const PILAR = 'pilar.pinilla@example.com';
let rig: Rig;
let path: string;
let cookie: string;

before(async () => {
  rig = await startRig([PILAR], { domains: { 'example.com': true }, mailboxes: { [PILAR]: true } });
  await autodiscover(rig.url, PILAR);
  path = `/mapi/emsmdb/?MailboxId=${rig.server.mailboxIdOf(PILAR)}@example.com`;
  const connect = await request(rig.url, { path, headers: mapiHeaders('Connect', PILAR) });
  cookie = String(connect.headers['set-cookie']).split(';')[0]!;
});
after(async () => {
  await rig.close();
});

/** Resolves with the accumulated text once `pattern` has arrived on `res`. */
function arrival(res: http.IncomingMessage, pattern: RegExp, seen: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(seen.text)) {
        res.off('data', onData);
        resolve();
      }
    };
    const onData = (c: Buffer) => { seen.text += c.toString('latin1'); check(); };
    res.on('data', onData);
    res.once('close', () => reject(new Error(`answer closed before ${pattern} arrived; got ${JSON.stringify(seen.text.slice(0, 200))}`)));
    check();
  });
}

test('slow server: each PENDING line reaches the client while the server still holds the long poll', { timeout: 60_000 }, async () => {
  const held = rig.server.holdNext();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${rig.url}${path}`, { method: 'POST', headers: mapiHeaders('NotificationWait', PILAR, { Cookie: cookie }), agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  const seen = { text: '' };
  // The status line and headers came before any body byte: the answer started as the server's did.
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-responsecode'], '0');
  await arrival(res, /^PROCESSING\r\n$/, seen);
  for (let i = 1; i <= 3; i++) {
    held.pending();
    // The server has not finished: if anything between buffered, this line would never arrive.
    await arrival(res, new RegExp(`^PROCESSING\\r\\n(PENDING\\r\\n){${i}}$`), seen);
    assert.equal(rig.server.openLongPolls(), 1);
  }
  held.done();
  await arrival(res, /DONE\r\nX-ElapsedTime: \d+\r\nX-StartTime: .+\r\n\r\n$/, seen);
});

test('slow client: the server is held back by the client\'s pace, and every byte arrives', { timeout: 60_000 }, async () => {
  const total = 64 * 1024 * 1024;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${rig.url}${path}`, { method: 'POST', headers: mapiHeaders('Execute', PILAR, { Cookie: cookie, 'X-Test-Response-Bytes': String(total) }), agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.pause();
  // With the client not reading, the server must end up blocked long before it wrote everything:
  // what sits in between is socket buffers, not a copy of the answer.
  await eventually('the server blocked on a full pipe', () => rig.server.stream.blocked);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(rig.server.stream.blocked, true);
  assert.ok(rig.server.stream.written < total / 2, `server wrote ${rig.server.stream.written} of ${total} bytes to a client that read nothing`);
  let received = 0;
  res.on('data', (c: Buffer) => { received += c.length; });
  res.resume();
  await new Promise((resolve) => res.once('end', resolve));
  assert.equal(rig.server.stream.finished, true);
  const metaLength = received - total;
  assert.ok(metaLength > 0 && metaLength < 200, `payload plus the PROCESSING/DONE block: ${received} bytes`);
});

test('slow upload: the server receives the first chunk of a body while the client is still sending', { timeout: 60_000 }, async () => {
  const first = new Promise<Buffer>((resolve) => { rig.server.onUploadChunk = resolve; });
  const { 'Content-Length': _none, ...headers } = mapiHeaders('Execute', PILAR, { Cookie: cookie });
  const answer = new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${rig.url}${path}`, { method: 'POST', headers, agent: false }, resolve);
    req.on('error', reject);
    req.write(Buffer.from('first-chunk'));
    // The rest is sent only after the server has seen the first part.
    void first.then((chunk) => {
      assert.equal(chunk.toString(), 'first-chunk');
      req.end(Buffer.from('-and-the-rest'));
    });
  });
  const res = await answer;
  rig.server.onUploadChunk = undefined;
  res.resume();
  assert.equal(res.headers['x-responsecode'], '0');
  await eventually('the server recorded the whole body', () => rig.server.requests.at(-1)?.contentLength === 'first-chunk-and-the-rest'.length);
});

test('HTTP/1.1 keep-alive on both sides: a client connection carries many requests, the gatekeeper reuses its server connection', { timeout: 60_000 }, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${rig.url}${path}`, { method: 'POST', headers: mapiHeaders('PING', PILAR), agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end();
      });
    }
    assert.equal(sockets.size, 1, 'one client connection for five requests');
    const free = Object.values(rig.gatekeeper.proxy.agent.freeSockets).flat().length;
    assert.ok(free >= 1, 'the server connection went back to the pool');
  } finally {
    agent.destroy();
  }
});
