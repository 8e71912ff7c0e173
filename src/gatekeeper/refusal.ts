// The answers the gatekeeper writes itself.
import type http from 'node:http';

/**
 * [MS-OXCMAPIHTTP] 2.2.3.3.3 X-ResponseCode 11, "No Privilege": the request is well-formed and
 * the endpoint works, but this user may not use it. That is what a mailbox or a domain with
 * MAPI switched off is (Exchange: Set-CASMailbox -MAPIEnabled $false). 16 "Endpoint Disabled"
 * says the endpoint itself is off for everyone, the organisation-wide switch, which would be
 * wrong for one mailbox and misleading for one of several domains on a server.
 * Like every MAPI/HTTP failure it is an HTTP 200: the transport worked, the request did not.
 */
export const NO_PRIVILEGE = '11';

export function refuseMapi(req: http.IncomingMessage, res: http.ServerResponse, closeConnection: boolean): void {
  const requestType = headerValue(req, 'x-requesttype');
  const requestId = headerValue(req, 'x-requestid');
  const clientInfo = headerValue(req, 'x-clientinfo');
  // The common response format ([MS-OXCMAPIHTTP] 2.2.2.2): meta-tags, DONE, then the
  // X-ElapsedTime and X-StartTime pseudo-headers and an empty line; no payload on a failure.
  const body = `PROCESSING\r\nDONE\r\nX-ElapsedTime: 0\r\nX-StartTime: ${new Date().toUTCString()}\r\n\r\n`;
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/mapi-http',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'private',
    'X-ResponseCode': NO_PRIVILEGE,
    'X-ServerApplication': 'mapi-operator-gatekeeper',
  };
  if (requestType) headers['X-RequestType'] = requestType;
  if (requestId) headers['X-RequestId'] = requestId;
  if (clientInfo) headers['X-ClientInfo'] = clientInfo;
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(200, headers);
  res.end(body);
}

export function plainAnswer(res: http.ServerResponse, status: number, text: string, closeConnection = false): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) };
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}

export function xmlAnswer(res: http.ServerResponse, body: string, closeConnection: boolean): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'private' };
  if (closeConnection) headers.Connection = 'close';
  res.writeHead(200, headers);
  res.end(body);
}

export function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}
