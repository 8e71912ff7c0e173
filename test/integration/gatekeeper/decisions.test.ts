// Every decision of the gatekeeper, through the real proxy on loopback in front of the framing
// MAPI test server, with the access list in a kubelet-style directory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ntlmAuthenticate } from '../../unit/gatekeeper/ntlm-message.ts';
import { accessFiles, autodiscover, basic, eventually, mapiHeaders, poxRequest, request, startRig, type AccessContent, type Rig } from './harness.ts';

const KEN = 'ken.sanchez@example.com'; // mailbox switched off
const PILAR = 'pilar.pinilla@example.com'; // same domain, on
const ANA = 'ana@other.example'; // domain switched off
const OUTSIDER = 'olga@unlisted.test'; // domain not in the list
const content: AccessContent = {
  domains: { 'example.com': true, 'example.org': true, 'other.example': false },
  mailboxes: { [KEN]: false, [PILAR]: true, [ANA]: false },
  shards: 2,
};

let rig: Rig;
before(async () => {
  rig = await startRig([KEN, PILAR, ANA, OUTSIDER], content);
});
after(async () => {
  await rig.close();
});

const mailStore = (address: string) => `/mapi/emsmdb/?MailboxId=${rig.server.mailboxIdOf(address)}@${address.split('@')[1]}`;
const metric = async (line: RegExp): Promise<number> => {
  const m = await request(`http://127.0.0.1:${rig.gatekeeper.metricsPort}`, { method: 'GET', path: '/metrics' });
  const found = m.body.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
};

test('Autodiscover: a mailbox with MAPI off gets its settings without the mapiHttp block; its neighbour keeps it', { timeout: 60_000 }, async () => {
  const off = await autodiscover(rig.url, KEN);
  assert.equal(off.status, 200);
  assert.doesNotMatch(off.body, /mapiHttp|\/mapi\//);
  assert.match(off.body, /<Type>EXHTTP<\/Type>/);
  assert.equal(Number(off.headers['content-length']), Buffer.byteLength(off.body));
  const on = await autodiscover(rig.url, PILAR);
  assert.match(on.body, /<Protocol Type="mapiHttp" Version="1">/);
  assert.match(on.body, new RegExp(`MailboxId=${rig.server.mailboxIdOf(PILAR)}@example.com`));
});

test('Autodiscover: a domain with MAPI off loses the block for all its addresses; an unlisted domain is the server\'s business', { timeout: 60_000 }, async () => {
  assert.doesNotMatch((await autodiscover(rig.url, ANA)).body, /mapiHttp/);
  assert.match((await autodiscover(rig.url, OUTSIDER)).body, /mapiHttp/);
  assert.ok(await metric(/^mapi_gatekeeper_requests_total\{kind="autodiscover",decision="refused",reason="domain-disabled"\}/) >= 1);
  assert.ok(await metric(/^mapi_gatekeeper_requests_total\{kind="autodiscover",decision="allowed",reason="unknown-domain"\}/) >= 1);
});

test('Autodiscover without credentials: the server\'s 401 challenge passes unchanged', { timeout: 60_000 }, async () => {
  const r = await request(rig.url, { path: '/autodiscover/autodiscover.xml', headers: { 'Content-Type': 'text/xml' }, body: poxRequest(KEN) });
  assert.equal(r.status, 401);
  assert.match(String(r.headers['www-authenticate']), /NTLM/);
});

test('Autodiscover: malformed, entity-bomb and oversized requests never reach the server', { timeout: 60_000 }, async () => {
  const seen = rig.server.requests.length;
  const malformed = await request(rig.url, { path: '/autodiscover/autodiscover.xml', headers: { Authorization: basic(KEN) }, body: '<Autodiscover><Request><EMailAddress>x' });
  assert.equal(malformed.status, 200);
  assert.match(malformed.body, /<ErrorCode>600<\/ErrorCode>\s*<Message>Invalid Request<\/Message>/);
  const bomb = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "${'A'.repeat(1000)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Autodiscover><Request><EMailAddress>&b;@example.com</EMailAddress></Request></Autodiscover>`;
  assert.match((await request(rig.url, { path: '/autodiscover/autodiscover.xml', headers: { Authorization: basic(KEN) }, body: bomb })).body, /<ErrorCode>600<\/ErrorCode>/);
  const two = poxRequest(PILAR).replace('</EMailAddress>', `</EMailAddress><EMailAddress>${KEN}</EMailAddress>`);
  assert.match((await request(rig.url, { path: '/autodiscover/autodiscover.xml', headers: { Authorization: basic(KEN) }, body: two })).body, /<ErrorCode>600<\/ErrorCode>/);
  const big = await request(rig.url, { path: '/autodiscover/autodiscover.xml', headers: { Authorization: basic(KEN) }, body: poxRequest(KEN).replace('</Request>', `<Pad>${'x'.repeat(200_000)}</Pad></Request>`) }).catch((err: Error) => err);
  // 413, or the connection closed while the rest of the body was still being sent.
  if (!(big instanceof Error)) assert.equal(big.status, 413);
  assert.equal(rig.server.requests.length, seen);
  assert.ok(await metric(/^mapi_gatekeeper_requests_total\{kind="autodiscover",decision="refused",reason="malformed-pox"\}/) >= 3);
});

test('MAPI: a mailbox with MAPI off is refused with X-ResponseCode 11 (HTTP 200); its neighbour connects', { timeout: 60_000 }, async () => {
  await autodiscover(rig.url, KEN); // the gatekeeper learns KEN's MailboxId from the answer
  const seen = rig.server.requests.length;
  for (const path of [mailStore(KEN), mailStore(KEN).replace('emsmdb', 'nspi')]) {
    const r = await request(rig.url, { path, headers: mapiHeaders('Connect', PILAR) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-responsecode'], '11');
    assert.equal(r.headers['content-type'], 'application/mapi-http');
    assert.equal(r.headers['x-requesttype'], 'Connect');
    assert.equal(r.headers['x-requestid'], '{E2EA4C8A-6C5F-4E5F-8B6A-1F2D3C4B5A69}:1');
    assert.match(r.body, /^PROCESSING\r\nDONE\r\nX-ElapsedTime: \d+\r\nX-StartTime: .+\r\n\r\n$/);
  }
  assert.equal(rig.server.requests.length, seen, 'refused requests never reach the server');

  const connect = await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('Connect', PILAR) });
  assert.equal(connect.headers['x-responsecode'], '0');
  const cookie = String(connect.headers['set-cookie']).split(';')[0]!;
  const execute = await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('Execute', PILAR, { Cookie: cookie }) });
  assert.equal(execute.headers['x-responsecode'], '0');
  assert.match(execute.body, /^PROCESSING\r\nDONE\r\n/);
});

test('MAPI: the user\'s own identity refuses too — Basic on any request, NTLM for the rest of its connection', { timeout: 60_000 }, async () => {
  const r = await request(rig.url, { path: '/mapi/emsmdb/', headers: mapiHeaders('Connect', KEN) });
  assert.equal(r.headers['x-responsecode'], '11');
  // NTLM authenticates a connection: the AUTHENTICATE message comes once, later requests on the
  // same connection carry no Authorization and are still KEN's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const { Authorization: _basic, ...headers } = mapiHeaders('Connect', KEN);
    const first = await request(rig.url, { path: mailStore(PILAR), headers: { ...headers, Authorization: `NTLM ${ntlmAuthenticate(KEN).toString('base64')}` }, agent });
    assert.equal(first.headers['x-responsecode'], '11');
    const second = await request(rig.url, { path: mailStore(PILAR), headers, agent });
    assert.equal(second.headers['x-responsecode'], '11');
  } finally {
    agent.destroy();
  }
});

test('MAPI: the MailboxId domain alone refuses a domain with MAPI off, even for a GUID never learned', { timeout: 60_000 }, async () => {
  const r = await request(rig.url, { path: '/mapi/nspi/?MailboxId=00000000-0000-0000-0000-000000000001@other.example', headers: mapiHeaders('Bind', PILAR) });
  assert.equal(r.headers['x-responsecode'], '11');
  assert.ok(await metric(/^mapi_gatekeeper_requests_total\{kind="nspi",decision="refused",reason="domain-disabled"\}/) >= 1);
});

test('MAPI: spellings of the path that the server routes the same are decided the same', { timeout: 60_000 }, async () => {
  for (const path of [`/MAPI//emsmdb/?MailboxId=${rig.server.mailboxIdOf(KEN)}@example.com`, '/mapi/%65msmdb/?MailboxId=x@other.example']) {
    const r = await request(rig.url, { path, headers: mapiHeaders('Connect', PILAR) });
    assert.equal(r.headers['x-responsecode'], '11', path);
  }
});

test('MAPI: a request nobody can be told from passes to the server (its own 401) and is counted', { timeout: 60_000 }, async () => {
  const before = await metric(/^mapi_gatekeeper_unattributed_requests_total\{kind="emsmdb"\}/);
  const { Authorization: _a, ...anonymous } = mapiHeaders('PING', PILAR);
  const r = await request(rig.url, { path: '/mapi/emsmdb/', headers: anonymous });
  assert.equal(r.status, 401);
  assert.match(String(r.headers['www-authenticate']), /Basic/);
  assert.equal(await metric(/^mapi_gatekeeper_unattributed_requests_total\{kind="emsmdb"\}/), before + 1);
});

test('everything else passes untouched, even for a mailbox with MAPI off: path, Host, headers, body', { timeout: 60_000 }, async () => {
  const r = await request(rig.url, { method: 'POST', path: '/ews/exchange.asmx?x=1', headers: { Host: 'mail.example.com', 'X-Custom': 'kept', Authorization: basic(KEN) }, body: 'soap' });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'served POST /ews/exchange.asmx?x=1\n');
  assert.equal(r.headers['x-echo-host'], 'mail.example.com');
  assert.equal(r.headers['x-echo-custom'], 'kept');
  assert.equal((await request(rig.url, { method: 'GET', path: '/oab/abc/oab.xml', headers: { Authorization: basic(KEN) } })).status, 200);
  assert.equal((await request(rig.url, { method: 'GET', path: '/nothing' })).status, 404);
});

test('a header block over the bound is refused by the gatekeeper (431), not passed on', { timeout: 60_000 }, async () => {
  const seen = rig.server.requests.length;
  const r = await request(rig.url, { method: 'GET', path: '/ews/', headers: { 'X-Big': 'x'.repeat(20_000) } }).catch((err: Error) => err);
  if (!(r instanceof Error)) assert.equal(r.status, 431);
  assert.equal(rig.server.requests.length, seen);
});

test('a switch in the access directory applies within seconds, without a restart; a bad list keeps the last good one', { timeout: 60_000 }, async () => {
  rig.access.write(accessFiles({ ...content, mailboxes: { ...content.mailboxes, [KEN]: true, [PILAR]: false } }));
  await eventually('KEN allowed and PILAR refused after the switch', async () => {
    const ken = await request(rig.url, { path: mailStore(KEN), headers: mapiHeaders('PING', KEN) });
    const pilar = await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('PING', PILAR) });
    return ken.headers['x-responsecode'] === '0' && pilar.headers['x-responsecode'] === '11';
  });
  assert.match((await autodiscover(rig.url, KEN)).body, /mapiHttp/);
  assert.doesNotMatch((await autodiscover(rig.url, PILAR)).body, /mapiHttp/);

  // A malformed index, then an unknown format: both ignored, the decision stays.
  const reloadsBefore = await metric(/^mapi_gatekeeper_access_list_reloads_total\{result="error"\}/);
  rig.access.write({ ...accessFiles(content), 'access.json': '{"format": "mapi-operator.io/access/v1", "server": ' });
  await eventually('the malformed list was read and refused', async () => (await metric(/^mapi_gatekeeper_access_list_reloads_total\{result="error"\}/)) > reloadsBefore);
  rig.access.write(accessFiles({ ...content, format: 'mapi-operator.io/access/v9' }));
  await eventually('the unknown format was read and refused', async () => (await metric(/^mapi_gatekeeper_access_list_reloads_total\{result="error"\}/)) > reloadsBefore + 1);
  assert.equal((await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('PING', PILAR) })).headers['x-responsecode'], '11');
  assert.equal((await request(rig.url, { path: mailStore(KEN), headers: mapiHeaders('PING', KEN) })).headers['x-responsecode'], '0');

  // A file rewritten in place (no kubelet swap) is seen too.
  writeFileSync(join(rig.access.dir, 'access.json'), accessFiles({ ...content, domains: { ...content.domains, 'example.com': false } })['access.json']!);
  await eventually('the whole domain refused after example.com was switched off', async () => (await request(rig.url, { path: mailStore(KEN), headers: mapiHeaders('PING', KEN) })).headers['x-responsecode'] === '11');
  rig.access.write(accessFiles(content));
});

test('a long poll of a mailbox switched off ends within seconds of the switch', { timeout: 60_000 }, async () => {
  rig.access.write(accessFiles(content));
  await eventually('the original list is back', async () => (await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('PING', PILAR) })).headers['x-responsecode'] === '0');
  const connect = await request(rig.url, { path: mailStore(PILAR), headers: mapiHeaders('Connect', PILAR) });
  const cookie = String(connect.headers['set-cookie']).split(';')[0]!;
  const held = rig.server.holdNext();
  const ended = new Promise<{ status: number; complete: boolean; body: string }>((resolve, reject) => {
    const req = http.request(`${rig.url}${mailStore(PILAR)}`, { method: 'POST', headers: mapiHeaders('NotificationWait', PILAR, { Cookie: cookie }), agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('close', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, body }));
    });
    req.on('error', reject);
    req.end();
  });
  await held.started;
  await eventually('the open long poll is counted', async () => (await metric(/^mapi_gatekeeper_open_long_polls /)) === 1);
  rig.access.write(accessFiles({ ...content, mailboxes: { ...content.mailboxes, [PILAR]: false } }));
  const result = await ended;
  assert.equal(result.status, 200);
  assert.equal(result.complete, false, 'the long poll was cut, not completed');
  assert.match(result.body, /^PROCESSING\r\n/);
  await held.closed; // and the server's side of it is gone too
  assert.ok(await metric(/^mapi_gatekeeper_requests_ended_by_switch_total\{reason="mailbox-disabled"\}/) >= 1);
  assert.equal(await metric(/^mapi_gatekeeper_open_long_polls /), 0);
  rig.access.write(accessFiles(content));
});
