import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incompleteAutodiscoverDocument, parsePoxResponse, poxRequestBody, poxRequestHeaders } from '../../../src/checks/autodiscover-pox.ts';

const settings = (protocols: string) => `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account><AccountType>email</AccountType><Action>settings</Action>${protocols}</Account>
  </Response>
</Autodiscover>`;

const MAPI = `<Protocol Type="mapiHttp" Version="1">
  <MailStore><InternalUrl>https://mail.example.com/mapi/emsmdb/?MailboxId=1@example.com</InternalUrl><ExternalUrl>https://mail.example.com/mapi/emsmdb/?MailboxId=1@example.com&amp;x=1</ExternalUrl></MailStore>
  <AddressBook><ExternalUrl>https://mail.example.com/mapi/nspi/?MailboxId=1@example.com</ExternalUrl></AddressBook>
</Protocol>`;

describe('POX request (MS-OXDSCLI 2.2.3)', () => {
  it('asks for the 2006a response schema about the address, with X-MapiHttpCapability', () => {
    const body = poxRequestBody('ken@example.com');
    assert.match(body, /<EMailAddress>ken@example\.com<\/EMailAddress>/);
    assert.match(body, /<AcceptableResponseSchema>http:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/responseschema\/2006a</);
    assert.match(body, /xmlns="http:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/requestschema\/2006"/);
    const headers = poxRequestHeaders('ken@example.com');
    assert.equal(headers['X-MapiHttpCapability'], '1');
    assert.equal(headers['X-AnchorMailbox'], 'ken@example.com');
    assert.equal(headers['Content-Type'], 'text/xml; charset=utf-8');
  });
});

describe('parsePoxResponse', () => {
  it('reads the mapiHttp MailStore and AddressBook URLs', () => {
    const answer = parsePoxResponse(settings(`${MAPI}<Protocol><Type>EXHTTP</Type></Protocol>`));
    assert.equal(answer.kind, 'settings');
    assert.ok(answer.kind === 'settings' && answer.mapiHttp);
    assert.deepEqual(answer.mapiHttp.mailStoreUrls, [
      'https://mail.example.com/mapi/emsmdb/?MailboxId=1@example.com&x=1',
      'https://mail.example.com/mapi/emsmdb/?MailboxId=1@example.com',
    ]);
    assert.deepEqual(answer.mapiHttp.addressBookUrls, ['https://mail.example.com/mapi/nspi/?MailboxId=1@example.com']);
    assert.deepEqual(answer.protocols, ['mapiHttp', 'EXHTTP']);
  });
  it('reports settings without a mapiHttp block', () => {
    const answer = parsePoxResponse(settings('<Protocol><Type>EXPR</Type></Protocol>'));
    assert.deepEqual(answer, { kind: 'settings', mapiHttp: null, protocols: ['EXPR'] });
  });
  it('reads an error code', () => {
    const answer = parsePoxResponse('<Autodiscover xmlns="x"><Response><Error Time="t" Id="1"><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>');
    assert.deepEqual(answer, { kind: 'error', errorCode: '600', message: 'Invalid Request' });
  });
  it('reads a redirectAddr action', () => {
    const answer = parsePoxResponse(settings('').replace('<Action>settings</Action>', '<Action>redirectAddr</Action><RedirectAddr>ken@example.net</RedirectAddr>'));
    assert.deepEqual(answer, { kind: 'redirect', action: 'redirectAddr', target: 'ken@example.net' });
  });
  it('calls anything else unreadable', () => {
    assert.equal(parsePoxResponse('<html>login</html>').kind, 'unreadable');
  });
});

describe('incompleteAutodiscoverDocument (whole answers only)', () => {
  const whole = '<?xml version="1.0" encoding="utf-8"?>\n<Autodiscover xmlns="x"><Response xmlns="y"><Account><Action>settings</Action><Protocol Type="mapiHttp"/></Account></Response></Autodiscover>\n';
  it('accepts a whole document (comments and a trailing newline allowed)', () => {
    assert.equal(incompleteAutodiscoverDocument(whole), null);
    assert.equal(incompleteAutodiscoverDocument(`${whole}<!-- served by x -->\n`), null);
    assert.equal(incompleteAutodiscoverDocument('<a:Autodiscover xmlns:a="x"><a:Response/></a:Autodiscover>'), null);
  });
  const broken: [string, string, RegExp][] = [
    ['a cut-off opening', '<Autodiscover xmlns="x"', /no XML element/],
    ['an opening without its end', '<Autodiscover xmlns="x"><Response>', /ends inside <Response> \(no closing <\/Autodiscover>\)/],
    ['a cut in the middle', whole.slice(0, 120), /ends inside/],
    ['crossed tags', '<Autodiscover><Response></Autodiscover></Response>', /<\/Autodiscover> closes <Response>/],
    ['another root', '<html><body>Autodiscover</body></html>', /root element is <html>/],
    ['content after the root', `${whole}<Autodiscover></Autodiscover>`, /content after the closing/],
  ];
  for (const [name, xml, why] of broken) {
    it(`rejects ${name}`, () => assert.match(incompleteAutodiscoverDocument(xml) ?? 'whole', why));
  }
});
