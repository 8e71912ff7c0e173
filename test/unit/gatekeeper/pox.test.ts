import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_POX_REQUEST_BYTES, mailboxIdOf, readPoxAnswer, readPoxRequest } from '../../../src/gatekeeper/pox.ts';
import { parseXml, XmlError, MAX_DEPTH } from '../../../src/gatekeeper/xml.ts';

const request = (inner: string, prolog = '<?xml version="1.0" encoding="utf-8"?>') => Buffer.from(`${prolog}
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    ${inner}
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`);

test('a POX request yields its EMailAddress, lower-cased', () => {
  assert.deepEqual(readPoxRequest(request('<EMailAddress> Ken.Sanchez@Example.com </EMailAddress>')), { ok: true, address: 'ken.sanchez@example.com' });
});

test('prefixes, comments, CDATA, character references and a BOM are XML, and read as such', () => {
  const body = Buffer.from(`\ufeff<?xml version="1.0"?><!-- Outlook --><a:Autodiscover xmlns:a="x"><a:Request><a:EMailAddress><![CDATA[ken]]>&#64;example&#x2E;com</a:EMailAddress></a:Request></a:Autodiscover>`);
  assert.deepEqual(readPoxRequest(body), { ok: true, address: 'ken@example.com' });
});

test('an entity bomb is refused before anything is expanded', () => {
  const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Autodiscover><Request><EMailAddress>&lol3;@example.com</EMailAddress></Request></Autodiscover>`;
  const r = readPoxRequest(Buffer.from(bomb));
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.problem : '', /declaration "<!DOCTYPE lo" at offset \d+ is not allowed \(no DTDs or entities\)/);
});

test('external entities and undeclared entity references are refused', () => {
  const xxe = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>';
  assert.equal(readPoxRequest(Buffer.from(xxe)).ok, false);
  const r = readPoxRequest(request('<EMailAddress>&x;ken@example.com</EMailAddress>'));
  assert.match(!r.ok ? r.problem : '', /entity "&x;" near offset \d+ is not allowed/);
});

test('malformed requests are refused with what is wrong', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from(''), /no root element/],
    [Buffer.from('not xml at all'), /text outside the root element/],
    [request('<EMailAddress>ken@example.com</EMailAddres>'), /end tag <\/EMailAddres> at offset \d+ does not match <EMailAddress>/],
    [request('<EMailAddress>ken@example.com'), /does not match|not closed/],
    [request('<EMailAddress>a@example.com</EMailAddress><EMailAddress>b@example.com</EMailAddress>'), /2 <EMailAddress> elements; exactly one expected/],
    [request(''), /0 <EMailAddress> elements/],
    [request('<EMailAddress>not an address</EMailAddress>'), /EMailAddress is not an e-mail address/],
    [Buffer.from('<Other><Request><EMailAddress>a@b.c</EMailAddress></Request></Other>'), /root element is <Other>, not <Autodiscover>/],
    [Buffer.from('<Autodiscover><Request><EMailAddress a="1" a="2">a@b.c</EMailAddress></Request></Autodiscover>'), /duplicate attribute "a"/],
    [Buffer.from('<Autodiscover></Autodiscover><Autodiscover/>'), /second root element/],
  ];
  for (const [body, problem] of cases) {
    const r = readPoxRequest(body);
    assert.equal(r.ok, false, body.toString());
    assert.match(!r.ok ? r.problem : '', problem);
  }
});

test('an oversized request is refused without being parsed; so is deep nesting', () => {
  const big = request(`<EMailAddress>ken@example.com</EMailAddress><Pad>${'x'.repeat(MAX_POX_REQUEST_BYTES)}</Pad>`);
  const r = readPoxRequest(big);
  assert.match(!r.ok ? r.problem : '', new RegExp(`request body is ${big.length} bytes, over ${MAX_POX_REQUEST_BYTES}`));
  const deep = `${'<a>'.repeat(MAX_DEPTH + 1)}${'</a>'.repeat(MAX_DEPTH + 1)}`;
  assert.throws(() => parseXml(deep, 1e6), (err: Error) => err instanceof XmlError && /nested deeper than 32/.test(err.message));
});

test('MailboxId is read from a MAPI URL, case-insensitively and URL-decoded', () => {
  assert.equal(mailboxIdOf('/mapi/emsmdb/?MailboxId=5C1A0E9D-1B2E-4F44-9C1B-2B4E4F1A2B3C@Example.com'), '5c1a0e9d-1b2e-4f44-9c1b-2b4e4f1a2b3c@example.com');
  assert.equal(mailboxIdOf('https://mail.example.com/mapi/nspi/?x=1&mailboxid=abc%40example.org'), 'abc@example.org');
  assert.equal(mailboxIdOf('/mapi/emsmdb/'), undefined);
  assert.equal(mailboxIdOf('/mapi/emsmdb/?MailboxId=%E0%A4%A'), undefined);
  assert.equal(mailboxIdOf('/mapi/emsmdb/?MailboxId=no-domain'), undefined);
});

const answer = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <AutoDiscoverSMTPAddress>Ken@Example.com</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <Action>settings</Action>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://mail.example.com/mapi/emsmdb/?MailboxId=aaaa-1@example.com</InternalUrl>
          <ExternalUrl>https://mail.example.com/mapi/emsmdb/?MailboxId=aaaa-1@example.com</ExternalUrl>
        </MailStore>
        <AddressBook>
          <ExternalUrl>https://mail.example.com/mapi/nspi/?MailboxId=aaaa-1@example.com</ExternalUrl>
        </AddressBook>
      </Protocol>
      <Protocol>
        <Type>EXHTTP</Type>
        <Server>mail.example.com</Server>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
`;

test('an answer yields the MailboxIds of its mapiHttp block and the primary address', () => {
  const a = readPoxAnswer(answer);
  assert.ok(a);
  assert.deepEqual(a.mailboxIds, ['aaaa-1@example.com']);
  assert.equal(a.smtpAddress, 'ken@example.com');
  assert.equal(a.hasMapiHttp, true);
});

test('without mapiHttp the answer keeps everything else, byte for byte, and stays well-formed', () => {
  const a = readPoxAnswer(answer)!;
  const stripped = a.withoutMapiHttp();
  assert.doesNotMatch(stripped, /mapiHttp|\/mapi\//);
  const start = answer.indexOf('\n      <Protocol Type="mapiHttp"');
  const end = answer.indexOf('</Protocol>', start) + '</Protocol>'.length;
  assert.equal(stripped, answer.slice(0, start) + answer.slice(end));
  const again = readPoxAnswer(stripped);
  assert.ok(again);
  assert.equal(again.hasMapiHttp, false);
  assert.match(stripped, /<Type>EXHTTP<\/Type>/);
});

test('an answer that is not XML (an HTML error page) is not read', () => {
  assert.equal(readPoxAnswer('<html><body>502 Bad Gateway<br></body></html>'), undefined);
});
