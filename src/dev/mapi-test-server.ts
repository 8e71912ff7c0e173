// A MAPI test server: the part of a MAPI/HTTP mail server (bm-mapi, Exchange, gromox) the
// checks talk to, over real HTTPS. It answers
//   POST /autodiscover/autodiscover.xml (MS-OXDSCLI POX): 401 + WWW-Authenticate without
//     credentials; with the configured Basic credentials a response whose
//     <Protocol Type="mapiHttp"> MailStore/AddressBook URLs are https://<externalHost>/mapi/...;
//   POST /mapi/emsmdb/ and /mapi/nspi/ (MS-OXCMAPIHTTP): 401 + challenge anonymously, 200 with
//     X-ResponseCode 0 for an authenticated PING;
//   GET http://.../autodiscover/autodiscover.xml on the optional HTTP port: the redirect method.
// Modes break it the ways a real deployment breaks. Exported for the e2e front as well.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { startHttpFixture, startHttpsFixture, type Fixture, type ServerCertificate } from './https-fixtures.ts';
import { poxError, poxSettings } from './autodiscover-answers.ts';

export type MapiServerMode =
  | 'ok'
  /** Every request: 404 (the ingress has no route). */
  | 'notFound'
  /** Every request: 503 (no ready pod behind the Service). */
  | 'unavailable'
  /** Every request: the connection is dropped. */
  | 'reset'
  /** 401 without WWW-Authenticate (a front, not the mail server). */
  | 'noChallenge'
  /** Authenticated POX answers without a mapiHttp block. */
  | 'noMapiHttp'
  /** Authenticated POX answers with MAPI URLs on another host. */
  | 'wrongMapiHost'
  /** Authenticated POX answers <Error><ErrorCode>600</ErrorCode>. */
  | 'autodiscoverError';

export interface MapiTestServerOptions {
  address?: string;
  port?: number;
  certificate: ServerCertificate;
  /** Host the MAPI URLs in the autodiscover answer point at. */
  externalHost: string;
  credentials: { username: string; password: string };
  /** Addresses autodiscover knows; others get ErrorCode 500. Default: any. */
  mailboxes?: string[];
  mode?: MapiServerMode;
  /** Also serve the HTTP redirect method on this port (0: any free one). */
  httpPort?: number;
  /** Status of the HTTP redirect answer; Outlook accepts 301, 302, 307. */
  redirectStatus?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  host: string;
  requestType?: string;
  authenticated: boolean;
  mapiHttpCapability: boolean;
}

export interface MapiTestServer {
  address: string;
  port: number;
  httpPort?: number;
  requests: RecordedRequest[];
  setMode(mode: MapiServerMode): void;
  close(): Promise<void>;
}

const CHALLENGE = 'Basic realm="MAPI test server"';

export async function startMapiTestServer(options: MapiTestServerOptions): Promise<MapiTestServer> {
  let mode: MapiServerMode = options.mode ?? 'ok';
  const requests: RecordedRequest[] = [];
  const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
  const mailboxIds = new Map<string, string>();

  const handler: http.RequestListener = (req, res) => {
    const path = req.url ?? '/';
    const authenticated = req.headers.authorization === expected;
    requests.push({
      method: req.method ?? '',
      path,
      host: String(req.headers.host ?? ''),
      ...(typeof req.headers['x-requesttype'] === 'string' ? { requestType: req.headers['x-requesttype'] } : {}),
      authenticated,
      mapiHttpCapability: req.headers['x-mapihttpcapability'] !== undefined,
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (mode === 'reset') return req.socket.destroy();
      if (mode === 'notFound') return plain(res, 404, 'Not Found');
      if (mode === 'unavailable') return plain(res, 503, 'Service Unavailable');
      const body = Buffer.concat(chunks).toString('utf8');
      const lower = path.toLowerCase();
      if (lower.startsWith('/autodiscover/autodiscover.xml')) return autodiscover(req, res, body, authenticated);
      if (lower.startsWith('/mapi/emsmdb') || lower.startsWith('/mapi/nspi')) return mapi(req, res, authenticated);
      return plain(res, 404, 'Not Found');
    });
  };

  const challenge = (res: http.ServerResponse) => {
    if (mode === 'noChallenge') return plain(res, 401, 'Unauthorized');
    res.writeHead(401, { 'WWW-Authenticate': CHALLENGE, 'Content-Type': 'text/plain' });
    res.end('Unauthorized');
  };

  const autodiscover = (req: http.IncomingMessage, res: http.ServerResponse, body: string, authenticated: boolean) => {
    if (req.method !== 'POST') return plain(res, 405, 'Method Not Allowed');
    if (!authenticated) return challenge(res);
    const address = /<EMailAddress>([^<]*)<\/EMailAddress>/.exec(body)?.[1]?.trim() ?? '';
    if (mode === 'autodiscoverError' || !address) return xml(res, poxError('600', 'Invalid Request'));
    if (options.mailboxes && !options.mailboxes.includes(address.toLowerCase())) return xml(res, poxError('500', 'The email address can\'t be found.'));
    let id = mailboxIds.get(address);
    if (!id) mailboxIds.set(address, (id = randomUUID()));
    const host = mode === 'wrongMapiHost' ? 'internal.mail.invalid' : options.externalHost;
    const withMapi = mode !== 'noMapiHttp' && req.headers['x-mapihttpcapability'] !== undefined;
    return xml(res, poxSettings(address, id, host, withMapi));
  };

  const mapi = (req: http.IncomingMessage, res: http.ServerResponse, authenticated: boolean) => {
    if (req.method !== 'POST') return plain(res, 405, 'Method Not Allowed');
    if (!authenticated) return challenge(res);
    const requestType = String(req.headers['x-requesttype'] ?? '');
    // [MS-OXCMAPIHTTP] X-ResponseCode: 0 for PING, 13 (missing cookie) for anything
    // else without a session, 7 (missing header) without X-RequestType.
    const code = requestType === '' ? '7' : requestType.toUpperCase() === 'PING' ? '0' : '13';
    const now = new Date().toUTCString();
    res.writeHead(200, {
      'Content-Type': 'application/mapi-http',
      'X-ResponseCode': code,
      'X-RequestType': requestType,
      'X-RequestId': String(req.headers['x-requestid'] ?? ''),
      'X-ServerApplication': 'mapi-test-server/1.0',
      'X-PendingPeriod': '30000',
    });
    res.end(`PROCESSING\r\nDONE\r\nX-ElapsedTime: 1\r\nX-StartTime: ${now}\r\n\r\n`);
  };

  const https = await startHttpsFixture({ address: options.address ?? '127.0.0.1', port: options.port ?? 0, certificate: options.certificate, handler });
  let redirect: Fixture | undefined;
  if (options.httpPort !== undefined) {
    redirect = await startHttpFixture(https.address, options.httpPort, (req, res) => {
      const host = String(req.headers.host ?? options.externalHost).replace(/:\d+$/, '');
      if (mode === 'reset') return req.socket.destroy();
      if ((req.url ?? '').toLowerCase().startsWith('/autodiscover/autodiscover.xml')) {
        res.writeHead(options.redirectStatus ?? 302, { Location: `https://${host}/autodiscover/autodiscover.xml` });
        return res.end();
      }
      plain(res, 404, 'Not Found');
    });
  }
  return {
    address: https.address,
    port: https.port,
    ...(redirect ? { httpPort: redirect.port } : {}),
    requests,
    setMode: (next) => { mode = next; },
    close: async () => { await Promise.all([https.close(), redirect?.close()]); },
  };
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(text);
}

function xml(res: http.ServerResponse, body: string): void {
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
  res.end(body);
}

