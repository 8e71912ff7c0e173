// http/ and redirect/ against the MAPI test server over real HTTPS.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { checkHttpRedirect } from '../../../src/checks/advisory-checks.ts';
import { checkHttpServed } from '../../../src/checks/http-check.ts';
import { createRealCheckIO } from '../../../src/checks/io.ts';
import type { CheckIO } from '../../../src/checks/types.ts';
import type { MapiServerMode } from '../../../src/dev/mapi-test-server.ts';
import { PROBE, startWorld, type World } from './world.ts';

const EXTERNAL = 'mail.example.test';
const AUTODISCOVER = 'autodiscover.example.test';

describe('http/ against the MAPI test server', () => {
  let world: World;
  let io: CheckIO;
  before(async () => {
    world = await startWorld();
    io = createRealCheckIO({ probePolicy: { loopback: true, privateNetworks: false },
      nameservers: [world.dns.nameserver], caBundlePem: world.pki.rootPem,
      httpsPortFor: () => world.httpsPort, httpPortFor: () => world.httpPort,
      limits: { connectTimeoutMs: 2_000, totalTimeoutMs: 3_000 },
    });
  });
  afterEach(() => world.mapi.setMode('ok'));
  after(() => world.stop());

  const external = () => checkHttpServed({ host: EXTERNAL, role: 'external', domain: 'example.test', externalHost: EXTERNAL }, io.http);
  const authenticated = (password = PROBE.password) =>
    checkHttpServed({ host: AUTODISCOVER, role: 'autodiscover', domain: 'example.test', externalHost: EXTERNAL, credentials: { ...PROBE, password } }, io.http);

  it('served: 401 challenges on autodiscover and both MAPI endpoints', async () => {
    const before = world.mapi.requests.length;
    const result = await external();
    assert.deepEqual([result.status, result.reason], ['Passed', 'Served'], result.message);
    const seen = world.mapi.requests.slice(before);
    assert.deepEqual(seen.map((r) => r.path).sort(), ['/autodiscover/autodiscover.xml', '/mapi/emsmdb/', '/mapi/nspi/']);
    assert.ok(seen.filter((r) => r.path.startsWith('/mapi')).every((r) => r.requestType === 'PING' && !r.authenticated));
    assert.ok(seen.find((r) => r.path.startsWith('/autodiscover'))?.mapiHttpCapability);
  });

  const broken: { mode: MapiServerMode; reason: string; message: RegExp }[] = [
    { mode: 'notFound', reason: 'MapiNotServed', message: /HTTP 404/ },
    { mode: 'unavailable', reason: 'MapiNotServed', message: /HTTP 503/ },
    { mode: 'reset', reason: 'MapiNotServed', message: /connection reset/ },
    { mode: 'noChallenge', reason: 'MapiNotServed', message: /401 without a WWW-Authenticate challenge/ },
  ];
  for (const c of broken) {
    it(`not served when the server is ${c.mode} → Failed ${c.reason}`, async () => {
      world.mapi.setMode(c.mode);
      const result = await external();
      assert.deepEqual([result.status, result.reason], ['Failed', c.reason]);
      assert.match(result.message, c.message);
    });
  }

  it('with credentials: mapiHttp block on the external host, authenticated PINGs answered', async () => {
    const before = world.mapi.requests.length;
    const result = await authenticated();
    assert.deepEqual([result.status, result.reason], ['Passed', 'Served'], result.message);
    const pings = world.mapi.requests.slice(before).filter((r) => r.authenticated && r.requestType === 'PING');
    assert.deepEqual(pings.map((r) => r.path.split('?')[0]), ['/mapi/emsmdb/', '/mapi/nspi/']);
    assert.ok(pings.every((r) => r.host === EXTERNAL && /MailboxId=[0-9a-f-]+@example\.test/.test(r.path)));
    assert.ok(!JSON.stringify(result).includes(PROBE.password));
  });

  const authFailures: { mode: MapiServerMode; password?: string; reason: string; message: RegExp }[] = [
    { mode: 'ok', password: 'wrong-password', reason: 'ProbeLoginFailed', message: /probe account probe was refused/ },
    { mode: 'noMapiHttp', reason: 'NoMapiHttpProtocol', message: /no <Protocol Type="mapiHttp"> block \(protocols: EXHTTP\)/ },
    { mode: 'wrongMapiHost', reason: 'MapiUrlNotExternalHost', message: /internal\.mail\.invalid/ },
    { mode: 'autodiscoverError', reason: 'AutodiscoverErrorCode', message: /ErrorCode 600 \(Invalid Request\)/ },
  ];
  for (const c of authFailures) {
    it(`with credentials, ${c.password ? 'a wrong password' : c.mode} → Failed ${c.reason}`, async () => {
      world.mapi.setMode(c.mode);
      const result = await authenticated(c.password);
      assert.deepEqual([result.status, result.reason], ['Failed', c.reason], result.message);
      assert.match(result.message, c.message);
      assert.ok(!JSON.stringify(result).includes(c.password ?? PROBE.password));
    });
  }

  it('the HTTP redirect method: 302 to https passes', async () => {
    const result = await checkHttpRedirect(AUTODISCOVER, io.http);
    assert.deepEqual([result.status, result.reason], ['Passed', 'RedirectToHttps']);
    assert.match(result.message, /302 https:\/\/autodiscover\.example\.test\/autodiscover\/autodiscover\.xml/);
  });

  it('the HTTP redirect method: a reset is reported as not offered, never as a block', async () => {
    world.mapi.setMode('reset');
    const result = await checkHttpRedirect(AUTODISCOVER, io.http);
    assert.deepEqual([result.status, result.reason], ['Passed', 'RedirectNotOffered']);
  });
});
