// What Outlook sends, for the end-to-end tests and the demo: an authenticated autodiscover POX
// request (MAPI/HTTP capable) and a MAPI Connect to the MailStore URL, both over TLS with SNI
// through the ingress front stand-in, trusting the test CA.
import https from 'node:https';

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export interface OutlookClientOptions {
  /** Where the front listens (loopback) and the CA its certificates chain to. */
  front: { address?: string; httpsPort: number };
  caPem: string;
  password: string;
  /** The GUID the MAPI server gave the address (its MailboxId). */
  mailboxIdOf: (address: string) => string;
}

const domainOf = (address: string) => address.slice(address.indexOf('@') + 1);

export function outlookClient(opts: OutlookClientOptions) {
  const basic = (address: string) => `Basic ${Buffer.from(`${address}:${opts.password}`).toString('base64')}`;
  const post = (host: string, path: string, headers: Record<string, string>, body = ''): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = https.request({
        host: opts.front.address ?? '127.0.0.1', port: opts.front.httpsPort, servername: host, ca: opts.caPem, method: 'POST', path,
        headers: { host, 'Content-Length': String(Buffer.byteLength(body)), ...headers }, agent: false, timeout: 10_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) req.destroy(new Error(`answer from ${host}${path} over 1 MiB`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${host}${path} in 10 s`)));
      req.on('error', reject);
      req.end(body);
    });

  function autodiscover(address: string): Promise<Answer> {
    const body = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`;
    return post(`autodiscover.${domainOf(address)}`, '/autodiscover/autodiscover.xml', {
      'Content-Type': 'text/xml; charset=utf-8', 'X-MapiHttpCapability': '1', 'X-AnchorMailbox': address, Authorization: basic(address),
    }, body);
  }

  function connect(externalHost: string, address: string): Promise<Answer> {
    const mailboxId = `${opts.mailboxIdOf(address)}@${domainOf(address)}`;
    return post(externalHost, `/mapi/emsmdb/?MailboxId=${mailboxId}`, {
      'Content-Type': 'application/mapi-http', 'X-RequestType': 'Connect',
      'X-RequestId': '{E2EA4C8A-6C5F-4E5F-8B6A-1F2D3C4B5A69}:1', 'X-ClientInfo': '{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1',
      'X-ClientApplication': 'Outlook/16.0.17928.20114', Authorization: basic(address),
    });
  }

  /** What Outlook gets: MAPI settings from autodiscover, and the MAPI Connect's X-ResponseCode. */
  async function sees(externalHost: string, address: string): Promise<{ autodiscoverStatus: number; mapiSettings: boolean; mapiStatus: number; responseCode: string }> {
    const ad = await autodiscover(address);
    const mapi = await connect(externalHost, address);
    return { autodiscoverStatus: ad.status, mapiSettings: /Type="mapiHttp"/.test(ad.body), mapiStatus: mapi.status, responseCode: String(mapi.headers['x-responsecode'] ?? '') };
  }

  return { autodiscover, connect, sees };
}
