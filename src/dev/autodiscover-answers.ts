// The autodiscover POX answers the MAPI test servers give ([MS-OXDSCLI]): the settings of an
// address (with the mapiHttp block when the client asked for it) and the Error answer.
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
const OUTLOOK_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

export function poxError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error Time="00:00:00.000" Id="1">
      <ErrorCode>${code}</ErrorCode>
      <Message>${message}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}

export function poxSettings(address: string, mailboxId: string, host: string, withMapi: boolean): string {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const url = (endpoint: string) => `https://${host}/mapi/${endpoint}/?MailboxId=${mailboxId}@${domain}`;
  const mapiBlock = withMapi ? `
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>${url('emsmdb')}</InternalUrl>
          <ExternalUrl>${url('emsmdb')}</ExternalUrl>
        </MailStore>
        <AddressBook>
          <InternalUrl>${url('nspi')}</InternalUrl>
          <ExternalUrl>${url('nspi')}</ExternalUrl>
        </AddressBook>
      </Protocol>` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response xmlns="${OUTLOOK_RESPONSE_NS}">
    <User>
      <DisplayName>${address}</DisplayName>
      <AutoDiscoverSMTPAddress>${address}</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>${mapiBlock}
      <Protocol>
        <Type>EXHTTP</Type>
        <Server>${host}</Server>
        <SSL>On</SSL>
        <AuthPackage>Basic</AuthPackage>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
`;
}
