// The benchmark's counting relays must not hold connections their peers have closed: at 2,000
// hosts the TLS relay kept every connection a front closed first (HTTP "Connection: close")
// and ran out of descriptors, and the measurement broke, not the operator.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startTlsRelay, type TlsRelay } from '../../../bench/scale/relays.ts';
import { startHttpsFixture, type Fixture } from '../../../src/dev/https-fixtures.ts';
import { createTestPki, type TestPki } from '../../../src/dev/pki.ts';

let pki: TestPki;
let front: Fixture;
let relay: TlsRelay;

before(async () => {
  pki = createTestPki('relay test');
  const cert = pki.issue({ dnsNames: ['relay.test'] });
  front = await startHttpsFixture({ address: '127.0.0.1', certificate: { keyPem: cert.keyPem, chainPem: cert.chainPem } });
  relay = await startTlsRelay(front.port);
});
after(async () => {
  await relay?.stop();
  await front?.close();
  pki?.cleanup();
});

/** One request on a connection of its own; the front closes it after answering. */
function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: relay.port, servername: 'relay.test', path: '/', agent: false, rejectUnauthorized: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
}

describe('TLS relay', () => {
  it('lets go of every connection once both sides closed, when the front closed first', async () => {
    for (let i = 0; i < 20; i++) assert.equal(await get(), 200);
    assert.equal(relay.byName().get('relay.test'), 20, 'every ClientHello counted under its SNI name');
    let open = relay.openConnections();
    for (let waited = 0; open > 0 && waited < 5_000; waited += 100) {
      await delay(100);
      open = relay.openConnections();
    }
    assert.equal(open, 0, `connections still held by the relay: ${open}`);
  });
});
