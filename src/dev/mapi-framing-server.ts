// A MAPI-over-HTTP test server that speaks the real framing, for the gatekeeper's tests and
// benchmark (plain HTTP on loopback: in a pod the gatekeeper talks to the server on localhost).
//   POST /autodiscover/autodiscover.xml ([MS-OXDSCLI]): 401 + Basic and NTLM challenges without
//     credentials; with them, an answer whose <Protocol Type="mapiHttp"> (only when the request
//     says X-MapiHttpCapability) has MailStore/AddressBook URLs with MailboxId=<guid>@<domain>,
//     one stable GUID per address, plus an EXHTTP block; ErrorCode 500 for unknown addresses.
//   POST /mapi/emsmdb/ and /mapi/nspi/ ([MS-OXCMAPIHTTP]): 401 anonymously; Connect/Bind set a
//     session cookie; Execute and NotificationWait without it get X-ResponseCode 13 (missing
//     cookie); bodies are PROCESSING, PENDING lines, DONE, X-ElapsedTime/X-StartTime, payload.
//     NotificationWait holds the answer, writing PENDING every pendingMs, until the test
//     releases it (or waitMs passes).
// Test hooks: X-Test-Response-Bytes on Execute streams that many payload bytes (with
// backpressure, counted in `streamed`); holdNext() makes the next NotificationWait wait for
// explicit PENDING/DONE calls from the test.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { poxError, poxSettings } from './autodiscover-answers.ts';

export interface FramingServerOptions {
  /** address → password (Basic user name = address). */
  users: Record<string, string>;
  /** Host the MAPI URLs in autodiscover answers name. */
  externalHost?: string;
  /** PENDING period of NotificationWait (X-PendingPeriod), default 30 s. */
  pendingMs?: number;
  /** How long a NotificationWait lasts before DONE without an event, default 5 minutes. */
  waitMs?: number;
}

export interface RecordedMapiRequest {
  path: string;
  requestType: string;
  user: string | undefined;
  /** Bytes of the request body the server had read when the request was recorded. */
  contentLength: number;
}

/** A NotificationWait the test drives by hand. */
export interface HeldLongPoll {
  /** Resolves when the server has written the answer's headers and PROCESSING. */
  started: Promise<void>;
  pending(): void;
  done(): void;
  /** Resolves when the client side of this long poll went away or it finished. */
  closed: Promise<void>;
}

export interface StreamState {
  /** Payload bytes the server has handed to the socket so far. */
  written: number;
  /** True while write() returned false and 'drain' has not come. */
  blocked: boolean;
  finished: boolean;
}

export interface FramingServer {
  port: number;
  url: string;
  requests: RecordedMapiRequest[];
  mailboxIdOf(address: string): string;
  /** The next NotificationWait is driven by the returned handle. */
  holdNext(): HeldLongPoll;
  /** The last Execute stream's state. */
  stream: StreamState;
  /** Called with each chunk of an Execute request body as it arrives (upload streaming). */
  onUploadChunk: ((chunk: Buffer) => void) | undefined;
  openLongPolls(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

function basicUser(header: string | undefined, users: Record<string, string>): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const text = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  const user = text.slice(0, colon).toLowerCase();
  return colon > 0 && users[user] === text.slice(colon + 1) ? user : undefined;
}

function meta(elapsedMs: number, started: Date): string {
  return `DONE\r\nX-ElapsedTime: ${elapsedMs}\r\nX-StartTime: ${started.toUTCString()}\r\n\r\n`;
}

export async function startFramingServer(options: FramingServerOptions): Promise<FramingServer> {
  const users = Object.fromEntries(Object.entries(options.users).map(([k, v]) => [k.toLowerCase(), v]));
  const ids = new Map<string, string>();
  const idOf = (address: string) => {
    let id = ids.get(address);
    if (!id) ids.set(address, (id = randomUUID()));
    return id;
  };
  const sessions = new Set<string>();
  const requests: RecordedMapiRequest[] = [];
  const held: HeldLongPoll[] = [];
  const holders: ((res: http.ServerResponse) => void)[] = [];
  let open = 0;
  const state: FramingServer = {
    port: 0,
    url: '',
    requests,
    mailboxIdOf: (address) => idOf(address.toLowerCase()),
    holdNext: () => {
      let startedResolve!: () => void;
      let closedResolve!: () => void;
      let response: http.ServerResponse | undefined;
      const began = new Date();
      const handle: HeldLongPoll = {
        started: new Promise((r) => { startedResolve = r; }),
        closed: new Promise((r) => { closedResolve = r; }),
        pending: () => { response?.write('PENDING\r\n'); },
        done: () => { response?.end(`${meta(Date.now() - began.getTime(), began)}`); },
      };
      holders.push((res) => {
        response = res;
        res.once('close', () => closedResolve());
        // Written once the headers and PROCESSING are on the wire.
        res.write('PROCESSING\r\n', () => startedResolve());
      });
      held.push(handle);
      return handle;
    },
    stream: { written: 0, blocked: false, finished: false },
    onUploadChunk: undefined,
    openLongPolls: () => open,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  const challenge = (res: http.ServerResponse) => {
    res.writeHead(401, { 'WWW-Authenticate': ['NTLM', 'Basic realm="mapi-framing-server"'], 'Content-Type': 'text/plain', 'Content-Length': '12' });
    res.end('Unauthorized');
  };

  const autodiscover = (req: http.IncomingMessage, res: http.ServerResponse, body: string, user: string | undefined) => {
    if (!user) return challenge(res);
    const address = /<EMailAddress>([^<]*)<\/EMailAddress>/.exec(body)?.[1]?.trim().toLowerCase() ?? '';
    const xml = address && users[address] !== undefined
      ? poxSettings(address, idOf(address), options.externalHost ?? 'mail.example.test', req.headers['x-mapihttpcapability'] !== undefined)
      : poxError('500', 'The email address can\'t be found.');
    res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  };

  const mapi = (req: http.IncomingMessage, res: http.ServerResponse, user: string | undefined) => {
    if (!user) return challenge(res);
    const requestType = String(req.headers['x-requesttype'] ?? '');
    const began = new Date();
    const cookie = /(?:^|;\s*)MapiSession=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const headers = (code: string, extra: Record<string, string> = {}) => ({
      'Content-Type': 'application/mapi-http',
      'X-ResponseCode': code,
      'X-RequestType': requestType,
      'X-RequestId': String(req.headers['x-requestid'] ?? ''),
      'X-ServerApplication': 'mapi-framing-server/1.0',
      'X-PendingPeriod': String(options.pendingMs ?? 30_000),
      ...extra,
    });
    const type = requestType.toLowerCase();
    if (type === '') {
      res.writeHead(200, headers('7'));
      return res.end(`PROCESSING\r\n${meta(0, began)}`);
    }
    if (type === 'ping') {
      res.writeHead(200, headers('0'));
      return res.end(`PROCESSING\r\n${meta(0, began)}`);
    }
    if (type === 'connect' || type === 'bind') {
      const session = randomUUID();
      sessions.add(session);
      res.writeHead(200, headers('0', { 'Set-Cookie': `MapiSession=${session}; path=/mapi; HttpOnly` }));
      return res.end(`PROCESSING\r\n${meta(1, began)}connected`);
    }
    if (!cookie || !sessions.has(cookie)) {
      res.writeHead(200, headers('13'));
      return res.end(`PROCESSING\r\n${meta(0, began)}`);
    }
    if (type === 'disconnect' || type === 'unbind') {
      sessions.delete(cookie);
      res.writeHead(200, headers('0'));
      return res.end(`PROCESSING\r\n${meta(0, began)}`);
    }
    if (type === 'notificationwait') {
      open++;
      res.once('close', () => { open--; });
      res.writeHead(200, headers('0'));
      const holder = holders.shift();
      if (holder) return holder(res);
      res.write('PROCESSING\r\n');
      const pending = setInterval(() => res.write('PENDING\r\n'), options.pendingMs ?? 30_000);
      const end = setTimeout(() => res.end(meta(Date.now() - began.getTime(), began)), options.waitMs ?? 300_000);
      res.once('close', () => { clearInterval(pending); clearTimeout(end); });
      return;
    }
    // Execute (and any other request type): the payload after the meta block.
    const bytes = Math.min(Number(req.headers['x-test-response-bytes'] ?? 0) || 0, 1024 * 1024 * 1024);
    res.writeHead(200, headers('0'));
    res.write(`PROCESSING\r\n${meta(1, began)}`);
    const stream: StreamState = (state.stream = { written: 0, blocked: false, finished: false });
    const pump = () => {
      while (stream.written < bytes) {
        const n = Math.min(CHUNK.length, bytes - stream.written);
        stream.written += n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          stream.blocked = true;
          res.once('drain', () => { stream.blocked = false; pump(); });
          return;
        }
      }
      stream.finished = true;
      res.end();
    };
    pump();
  };

  const server = http.createServer({ keepAliveTimeout: 75_000, requestTimeout: 0, noDelay: true }, (req, res) => {
    const path = req.url ?? '/';
    const lower = path.toLowerCase();
    const user = basicUser(req.headers.authorization, users);
    const isMapi = lower.startsWith('/mapi/emsmdb') || lower.startsWith('/mapi/nspi');
    const record = (length: number) => requests.push({ path, requestType: String(req.headers['x-requesttype'] ?? ''), user, contentLength: length });
    if (isMapi && req.method === 'POST') {
      // MAPI bodies are read as they come (an upload test watches the chunks arrive), and the
      // answer starts once the whole request is in, as a real server does.
      let length = 0;
      req.on('data', (chunk: Buffer) => { length += chunk.length; state.onUploadChunk?.(chunk); });
      req.on('end', () => { record(length); mapi(req, res, user); });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      record(body.length);
      if (req.method === 'POST' && lower.startsWith('/autodiscover/autodiscover.xml')) return autodiscover(req, res, body, user);
      if (lower.startsWith('/ews/') || lower.startsWith('/oab/')) {
        const text = `served ${req.method} ${path}\n`;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text), 'X-Echo-Host': String(req.headers.host ?? ''), 'X-Echo-Custom': String(req.headers['x-custom'] ?? '') });
        return res.end(text);
      }
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': '10' });
      res.end('Not Found\n');
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

