import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHttpServed } from '../../../src/checks/http-check.ts';
import type { HttpRequest, HttpResponse } from '../../../src/checks/types.ts';
import { fakeHttp, response } from './fake-io.ts';

const EXTERNAL = 'mail.example.com';
const CHALLENGE = { 'www-authenticate': 'Basic realm="mail", Negotiate' };
const CREDENTIALS = { username: 'probe', password: 'pr0be-s3cret!', address: 'ken@example.com' };

const settingsXml = (mapiHost: string) => `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>settings</Action>
<Protocol Type="mapiHttp" Version="1"><MailStore><ExternalUrl>https://${mapiHost}/mapi/emsmdb/?MailboxId=1@example.com</ExternalUrl></MailStore>
<AddressBook><ExternalUrl>https://${mapiHost}/mapi/nspi/?MailboxId=1@example.com</ExternalUrl></AddressBook></Protocol></Account></Response></Autodiscover>`;

/** A mail server behind the front: 401 anonymously, answers with credentials. */
function server(overrides: { anonymous?: HttpResponse; pox?: HttpResponse; ping?: HttpResponse } = {}) {
  return (req: HttpRequest): HttpResponse => {
    if (!req.headers['Authorization']) return overrides.anonymous ?? response(401, CHALLENGE);
    if (req.path.startsWith('/autodiscover')) return overrides.pox ?? response(200, {}, settingsXml(EXTERNAL));
    return overrides.ping ?? response(200, { 'x-responsecode': '0' }, 'PROCESSING\r\nDONE\r\n');
  };
}

describe('checkHttpServed without credentials', () => {
  const cases: { name: string; role: 'external' | 'autodiscover'; answer: HttpResponse; status: string; reason: string; message: RegExp }[] = [
    { name: '401 with a challenge', role: 'external', answer: response(401, CHALLENGE), status: 'Passed', reason: 'Served', message: /401 challenge \(Basic, Negotiate\)/ },
    { name: '200 with X-ResponseCode (MAPI) is served', role: 'external', answer: response(200, { 'x-responsecode': '0' }, '<Autodiscover></Autodiscover>'), status: 'Passed', reason: 'Served', message: /X-ResponseCode 0/ },
    { name: '401 without a challenge', role: 'autodiscover', answer: response(401), status: 'Failed', reason: 'AutodiscoverNotServed', message: /401 without a WWW-Authenticate challenge/ },
    { name: '404', role: 'external', answer: response(404), status: 'Failed', reason: 'MapiNotServed', message: /HTTP 404/ },
    { name: '503', role: 'autodiscover', answer: response(503), status: 'Failed', reason: 'AutodiscoverNotServed', message: /HTTP 503/ },
    { name: 'redirect', role: 'autodiscover', answer: response(302, { location: 'https://login.example.com/' }), status: 'Failed', reason: 'AutodiscoverNotServed', message: /An Unexpected Redirect Response was Received \(302 → https:\/\/login\.example\.com\/\)/ },
    { name: '200 from something else', role: 'external', answer: response(200, {}, '<html>welcome</html>'), status: 'Failed', reason: 'MapiNotServed', message: /not the mail server/ },
    { name: 'reset', role: 'external', answer: { ok: false, failure: 'RESET', detail: 'ECONNRESET' }, status: 'Failed', reason: 'MapiNotServed', message: /connection reset/ },
    { name: 'time-out', role: 'autodiscover', answer: { ok: false, failure: 'TIMEOUT', detail: 'no complete answer within 10000 ms' }, status: 'Failed', reason: 'AutodiscoverNotServed', message: /timed out/ },
    { name: 'not resolved', role: 'autodiscover', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'NXDOMAIN', dnsFailure: 'NXDOMAIN' }, status: 'Failed', reason: 'HostNotResolved', message: /could not be resolved in DNS \(NXDOMAIN\): publish an A\/AAAA or CNAME record/ },
    { name: 'name server time-out', role: 'autodiscover', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'TIMEOUT', dnsFailure: 'TIMEOUT' }, status: 'Unknown', reason: 'NameServerUnreachable', message: /No name server answered .*see the dns\/ checks/ },
    { name: 'name server refuses', role: 'external', answer: { ok: false, failure: 'NOT_RESOLVED', detail: 'REFUSED', dnsFailure: 'REFUSED' }, status: 'Unknown', reason: 'DnsLookupFailed', message: /^(?!.*publish an A).*\(REFUSED\)/ },
    { name: 'a cut-off <Autodiscover opening', role: 'autodiscover', answer: response(200, {}, '<?xml version="1.0"?><Autodiscover xmlns="x"><Response>'), status: 'Failed', reason: 'AutodiscoverNotServed', message: /incomplete autodiscover answer \(the document ends inside <Response>/ },
    { name: 'a body cut at the cap', role: 'autodiscover', answer: { ...response(200, {}, `<Autodiscover>${'x'.repeat(65_536 - 14)}`), truncated: true } as HttpResponse, status: 'Failed', reason: 'AutodiscoverNotServed', message: /body cut at the 64 KiB size cap/ },
    { name: 'a 401 whose body is cut at the cap', role: 'autodiscover', answer: { ...response(401, CHALLENGE, 'x'.repeat(65_536)), truncated: true } as HttpResponse, status: 'Failed', reason: 'AutodiscoverNotServed', message: /cut at the 64 KiB size cap/ },
    { name: 'a body that never ends', role: 'autodiscover', answer: { ok: false, failure: 'INCOMPLETE', detail: 'HTTP 200 answer started but the body did not end within 10000 ms after 120 bytes of body' }, status: 'Failed', reason: 'AutodiscoverNotServed', message: /answer never completed \(HTTP 200 answer started but the body did not end/ },
    { name: 'a MAPI answer without DONE', role: 'external', answer: response(200, { 'x-responsecode': '0' }, 'PROCESSING\r\n'), status: 'Failed', reason: 'MapiNotServed', message: /no DONE meta-tag/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.reason}`, async () => {
      const http = fakeHttp(() => c.answer);
      const host = c.role === 'external' ? EXTERNAL : 'autodiscover.example.com';
      const result = await checkHttpServed({ host, role: c.role, domain: 'example.com', externalHost: EXTERNAL }, http);
      assert.equal(result.name, `http/${host}`);
      assert.equal(result.status, c.status, result.message);
      assert.equal(result.reason, c.reason);
      assert.match(result.message, c.message);
    });
  }

  it('sends the POX request and PINGs to both MAPI endpoints on the external host', async () => {
    const http = fakeHttp(server());
    await checkHttpServed({ host: EXTERNAL, role: 'external', domain: 'example.com', externalHost: EXTERNAL }, http);
    assert.deepEqual(http.requests.map((r) => `${r.method} ${r.path}`).sort(), ['POST /autodiscover/autodiscover.xml', 'POST /mapi/emsmdb/', 'POST /mapi/nspi/']);
    const ping = http.requests.find((r) => r.path === '/mapi/emsmdb/');
    assert.equal(ping?.headers['X-RequestType'], 'PING');
    assert.equal(ping?.headers['Content-Type'], 'application/mapi-http');
    assert.match(ping?.headers['X-RequestId'] ?? '', /^\{[0-9A-F-]{36}\}:1$/);
    assert.ok(ping?.headers['X-ClientInfo']);
    assert.match(ping?.headers['X-ClientApplication'] ?? '', /^Outlook\/16\./);
  });

  it('sends only the POX request to an autodiscover host', async () => {
    const http = fakeHttp(server());
    await checkHttpServed({ host: 'autodiscover.example.com', role: 'autodiscover', domain: 'example.com', externalHost: EXTERNAL }, http);
    assert.deepEqual(http.requests.map((r) => r.path), ['/autodiscover/autodiscover.xml']);
    assert.equal(http.requests[0]?.headers['X-AnchorMailbox'], 'autodiscover-probe@example.com');
  });
});

describe('checkHttpServed with credentials', () => {
  const run = async (overrides: Parameters<typeof server>[0]) => {
    const http = fakeHttp(server(overrides));
    const result = await checkHttpServed({ host: 'autodiscover.example.com', role: 'autodiscover', domain: 'example.com', externalHost: EXTERNAL, credentials: CREDENTIALS }, http);
    return { result, http };
  };

  it('passes when autodiscover hands out mapiHttp on the external host and both endpoints answer PING', async () => {
    const { result, http } = await run({});
    assert.equal(result.status, 'Passed', result.message);
    assert.deepEqual(http.requests.filter((r) => r.headers['Authorization']).map((r) => `${r.host}${r.path}`), [
      'autodiscover.example.com/autodiscover/autodiscover.xml',
      'mail.example.com/mapi/emsmdb/?MailboxId=1@example.com',
      'mail.example.com/mapi/nspi/?MailboxId=1@example.com',
    ]);
  });

  it('sends credentials only with TLS verification on', async () => {
    const { http } = await run({});
    for (const r of http.requests.filter((req) => req.headers['Authorization'])) assert.equal(r.verifyTls, true);
  });

  it('never puts the password in the result', async () => {
    for (const overrides of [{}, { pox: response(401, CHALLENGE) }, { pox: response(200, {}, settingsXml('other.example.net')) }]) {
      const { result } = await run(overrides);
      const text = JSON.stringify(result);
      assert.ok(!text.includes(CREDENTIALS.password), text);
      assert.ok(!text.includes(Buffer.from(`probe:${CREDENTIALS.password}`).toString('base64')), text);
    }
  });

  const failures: { name: string; overrides: Parameters<typeof server>[0]; reason: string; message: RegExp }[] = [
    { name: 'login refused', overrides: { pox: response(401, CHALLENGE) }, reason: 'ProbeLoginFailed', message: /probe account probe was refused .*checks\.probeCredentials/ },
    { name: 'ErrorCode 600', overrides: { pox: response(200, {}, '<Autodiscover><Response><Error><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>') }, reason: 'AutodiscoverErrorCode', message: /ErrorCode 600 \(Invalid Request\)/ },
    { name: 'no mapiHttp block', overrides: { pox: response(200, {}, settingsXml(EXTERNAL).replace(/<Protocol Type="mapiHttp"[\s\S]*<\/Protocol>/, '<Protocol><Type>EXPR</Type></Protocol>')) }, reason: 'NoMapiHttpProtocol', message: /no <Protocol Type="mapiHttp"> block \(protocols: EXPR\)/ },
    { name: 'MAPI URLs on another host', overrides: { pox: response(200, {}, settingsXml('internal.example.net')) }, reason: 'MapiUrlNotExternalHost', message: /internal\.example\.net.*not at https:\/\/mail\.example\.com/ },
    { name: 'MAPI URLs over http', overrides: { pox: response(200, {}, settingsXml(EXTERNAL).replace(/https:/g, 'http:')) }, reason: 'MapiUrlNotExternalHost', message: /not at https:\/\/mail\.example\.com/ },
    { name: 'PING without X-ResponseCode', overrides: { ping: response(200, {}, 'hello') }, reason: 'MapiPingFailed', message: /did not answer an authenticated PING/ },
    { name: 'PING 503', overrides: { ping: response(503) }, reason: 'MapiPingFailed', message: /HTTP 503/ },
    { name: 'redirectAddr', overrides: { pox: response(200, {}, '<Autodiscover><Response><Account><Action>redirectAddr</Action><RedirectAddr>ken@example.net</RedirectAddr></Account></Response></Autodiscover>') }, reason: 'AutodiscoverRedirect', message: /Unexpected Redirect/ },
  ];
  for (const c of failures) {
    it(`${c.name} → Failed ${c.reason}`, async () => {
      const { result } = await run(c.overrides);
      assert.equal(result.status, 'Failed');
      assert.equal(result.reason, c.reason);
      assert.match(result.message, c.message);
    });
  }
});
