// The reverse proxy: every request goes to the MAPI server on localhost unchanged, except
//   - Autodiscover POX for an address whose MAPI is off: the answer loses its mapiHttp block;
//   - /mapi/emsmdb and /mapi/nspi for a mailbox or domain whose MAPI is off: refused with
//     X-ResponseCode 11 (see refusal.ts), and such requests in flight end when the switch flips.
// Bodies stream both ways (pipe, with backpressure) so MAPI's chunked answers and the
// NotificationWait long poll (PENDING lines for up to 5 minutes) pass as the server writes them.
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { decideAddress, decideAttribution, domainOf, type AccessList, type Attribution, type Decision } from './access-list.ts';
import { identityOf, type Identity } from './identity.ts';
import { Lru } from './lru.ts';
import type { GatekeeperMetrics, RequestKind } from './metrics.ts';
import { requestKind } from './paths.ts';
import { MAX_POX_REQUEST_BYTES, MAX_POX_RESPONSE_BYTES, mailboxIdOf, poxErrorAnswer, readPoxAnswer, readPoxRequest } from './pox.ts';
import { headerValue, plainAnswer, refuseMapi, xmlAnswer } from './refusal.ts';

export interface ProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  access: () => AccessList | undefined;
  metrics: GatekeeperMetrics;
  logger: Logger;
  /** MailboxId → address pairs remembered (default 100,000, a few MB). */
  learnedCapacity?: number;
  /** The server may stay silent this long on a request before it is given up (default 330 s:
   *  NotificationWait lasts up to 5 minutes and the server writes PENDING at least every 30 s). */
  upstreamIdleMs?: number;
  maxHeaderSize?: number;
}

// RFC 9110 7.6.1: hop-by-hop fields are the connection's, never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** rawHeaders without hop-by-hop fields (and those the Connection field names), case and order kept. */
export function endToEndHeaders(raw: string[], drop: ReadonlySet<string> = new Set()): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      named ??= new Set();
      for (const token of raw[i + 1]!.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.has(name) || drop.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

interface InFlight {
  kind: RequestKind;
  who: Attribution;
  mailboxId: string | undefined;
  longPoll: boolean;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  upstream: http.ClientRequest | undefined;
}

const POX_BODY_HEADERS = new Set(['content-length', 'accept-encoding']);
const REWRITTEN_RESPONSE_HEADERS = new Set(['content-length']);

export class GatekeeperProxy {
  readonly agent: http.Agent;
  readonly learned: Lru<string, string>;
  readonly #opts: ProxyOptions;
  readonly #mapiInFlight = new Set<InFlight>();
  readonly #ntlmBySocket = new WeakMap<Socket, Identity>();
  #inFlight = 0;
  #draining = false;

  constructor(opts: ProxyOptions) {
    this.#opts = opts;
    this.learned = new Lru(opts.learnedCapacity ?? 100_000);
    // Keep-alive to the server: a MAPI client sends many short requests; a new TCP connection
    // for each would cost more than the whole gatekeeper.
    this.agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 256, scheduling: 'lifo' });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** From now on every answer says Connection: close, so clients move to another pod. */
  drain(): void {
    this.#draining = true;
  }

  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.#inFlight++;
    res.once('close', () => { this.#inFlight--; });
    const kind = requestKind(req.method, req.url ?? '/');
    try {
      if (kind === 'emsmdb' || kind === 'nspi') this.#mapi(req, res, kind);
      else if (kind === 'autodiscover') this.#autodiscover(req, res);
      else {
        this.#opts.metrics.requests.inc({ kind, decision: 'allowed', reason: 'not-mapi' });
        this.#forward(req, res, kind);
      }
    } catch (err) {
      this.#opts.logger.error({ err, kind }, 'request failed in the gatekeeper');
      if (!res.headersSent) plainAnswer(res, 500, 'gatekeeper error\n', true);
      else res.destroy();
    }
  };

  /** Re-decides every MAPI request in flight (after the access list changed). */
  reevaluate(): void {
    const list = this.#opts.access();
    for (const f of this.#mapiInFlight) {
      const d = decideAttribution(list, this.#attribution(f.req, f.mailboxId));
      if (d.allow) continue;
      this.#mapiInFlight.delete(f);
      this.#opts.metrics.endedBySwitch.inc({ reason: d.reason });
      this.#opts.logger.info({ kind: f.kind, reason: d.reason, longPoll: f.longPoll }, 'MAPI request in flight ended: MAPI switched off');
      f.upstream?.destroy();
      // Before the answer started the client gets the refusal; after, the connection ends and
      // the client's retry is refused.
      if (!f.res.headersSent) refuseMapi(f.req, f.res, true);
      else f.res.destroy();
    }
  }

  #identity(req: http.IncomingMessage): Identity | undefined {
    const id = identityOf(headerValue(req, 'authorization'));
    if (id?.scheme === 'ntlm') this.#ntlmBySocket.set(req.socket, id);
    return id ?? this.#ntlmBySocket.get(req.socket);
  }

  #attribution(req: http.IncomingMessage, mailboxId: string | undefined): Attribution {
    const who: Attribution = { addresses: [] };
    if (mailboxId) {
      who.domain = domainOf(mailboxId);
      const learned = this.learned.get(mailboxId);
      if (learned) who.addresses.push(learned);
    }
    const user = this.#identity(req)?.address;
    if (user && !who.addresses.includes(user)) who.addresses.push(user);
    return who;
  }

  #count(kind: RequestKind, d: Decision): void {
    this.#opts.metrics.requests.inc({ kind, decision: d.allow ? 'allowed' : 'refused', reason: d.reason });
    if (d.reason === 'unattributed') this.#opts.metrics.unattributed.inc({ kind });
  }

  #mapi(req: http.IncomingMessage, res: http.ServerResponse, kind: 'emsmdb' | 'nspi'): void {
    const mailboxId = mailboxIdOf(req.url ?? '');
    const who = this.#attribution(req, mailboxId);
    const d = decideAttribution(this.#opts.access(), who);
    this.#count(kind, d);
    if (!d.allow) {
      this.#opts.logger.info({ kind, reason: d.reason, requestType: headerValue(req, 'x-requesttype') }, 'MAPI request refused: MAPI is off');
      return refuseMapi(req, res, this.#draining);
    }
    const longPoll = (headerValue(req, 'x-requesttype') ?? '').toLowerCase() === 'notificationwait';
    const f: InFlight = { kind, who, mailboxId, longPoll, req, res, upstream: undefined };
    this.#mapiInFlight.add(f);
    if (longPoll) this.#opts.metrics.openLongPolls.inc();
    res.once('close', () => {
      this.#mapiInFlight.delete(f);
      if (longPoll) this.#opts.metrics.openLongPolls.dec();
    });
    f.upstream = this.#forward(req, res, kind, { timed: !longPoll });
  }

  #autodiscover(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_POX_REQUEST_BYTES) {
        over = true;
        this.#opts.metrics.requests.inc({ kind: 'autodiscover', decision: 'refused', reason: 'oversized-pox' });
        // The rest of the body is never read: the connection cannot be reused.
        plainAnswer(res, 413, `Autodiscover request over ${MAX_POX_REQUEST_BYTES} bytes\n`, true);
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over || res.headersSent) return;
      const body = Buffer.concat(chunks, size);
      const pox = readPoxRequest(body);
      if (!pox.ok) {
        // A body the gatekeeper cannot read could be read differently by the server; the
        // protocol's answer to an unreadable request is ErrorCode 600 "Invalid Request".
        this.#opts.metrics.requests.inc({ kind: 'autodiscover', decision: 'refused', reason: 'malformed-pox' });
        this.#opts.logger.info({ problem: pox.problem }, 'Autodiscover request not readable');
        return xmlAnswer(res, poxErrorAnswer('600', 'Invalid Request'), this.#draining);
      }
      this.#forward(req, res, 'autodiscover', {
        body,
        timed: true,
        // Decided when the answer arrives: the list may have changed meanwhile.
        onResponse: (upstream) => this.#poxAnswer(res, upstream, pox.address, decideAddress(this.#opts.access(), pox.address)),
      });
    });
  }

  #poxAnswer(res: http.ServerResponse, upstream: http.IncomingMessage, address: string, asked: Decision): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let passing = false;
    const encoded = (upstream.headers['content-encoding'] ?? 'identity') !== 'identity';
    const readable = upstream.statusCode === 200 && !encoded;
    const startPassing = () => {
      // Not something to read (a 401 challenge, a redirect, a compressed or huge answer): as is,
      // unless the address is switched off and the answer might carry its MAPI settings.
      passing = true;
      if (!asked.allow && upstream.statusCode === 200) {
        this.#count('autodiscover', asked);
        upstream.destroy();
        return plainAnswer(res, 502, 'Autodiscover answer not readable for an address with MAPI off\n', true);
      }
      this.#count('autodiscover', asked);
      this.#writeHead(res, upstream);
      for (const c of chunks) res.write(c);
      upstream.pipe(res);
    };
    if (!readable) return startPassing();
    upstream.on('data', (chunk: Buffer) => {
      if (passing) return;
      size += chunk.length;
      chunks.push(chunk);
      if (size > MAX_POX_RESPONSE_BYTES) {
        upstream.pause();
        startPassing();
      }
    });
    upstream.on('end', () => {
      if (passing) return;
      const text = Buffer.concat(chunks, size).toString('utf8');
      const answer = readPoxAnswer(text);
      if (!answer) return startPassing();
      // The primary address (the request may have named an alias) decides too.
      const primary = answer.smtpAddress;
      let d = asked;
      if (d.allow && primary && primary !== address) {
        const p = decideAddress(this.#opts.access(), primary);
        if (!p.allow) d = p;
      }
      for (const id of answer.mailboxIds) this.learned.set(id, primary ?? address);
      this.#opts.metrics.learnedMailboxIds.set(this.learned.size);
      this.#count('autodiscover', d);
      let out = text;
      if (!d.allow && answer.hasMapiHttp) {
        out = answer.withoutMapiHttp();
        this.#opts.logger.info({ reason: d.reason }, 'Autodiscover answer without mapiHttp: MAPI is off');
      }
      const body = Buffer.from(out, 'utf8');
      const headers = endToEndHeaders(upstream.rawHeaders, REWRITTEN_RESPONSE_HEADERS);
      headers.push('Content-Length', String(body.length));
      if (this.#draining) headers.push('Connection', 'close');
      res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, headers);
      res.end(body);
    });
  }

  #writeHead(res: http.ServerResponse, upstream: http.IncomingMessage): void {
    const headers = endToEndHeaders(upstream.rawHeaders);
    if (this.#draining) headers.push('Connection', 'close');
    res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, headers);
    // A streamed answer (no Content-Length: NotificationWait, chunked Execute) starts on the
    // wire now, as the server started it, whether or not a body byte follows soon. A sized
    // answer goes out with its first body bytes, in one write.
    if (upstream.headers['content-length'] === undefined) res.flushHeaders();
  }

  #forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    kind: RequestKind,
    opts: { body?: Buffer; timed?: boolean; onResponse?: (upstream: http.IncomingMessage) => void } = {},
  ): http.ClientRequest {
    const headers = endToEndHeaders(req.rawHeaders, opts.body ? POX_BODY_HEADERS : undefined);
    if (opts.body) {
      headers.push('Content-Length', String(opts.body.length));
      // The answer is read (MailboxId URLs, the mapiHttp block): ask for it uncompressed.
      headers.push('Accept-Encoding', 'identity');
    }
    const started = performance.now();
    const upstream = http.request({
      agent: this.agent,
      host: this.#opts.upstreamHost,
      port: this.#opts.upstreamPort,
      method: req.method,
      path: req.url,
      headers,
      setHost: false,
      timeout: this.#opts.upstreamIdleMs ?? 330_000,
      ...(this.#opts.maxHeaderSize ? { maxHeaderSize: this.#opts.maxHeaderSize } : {}),
    });
    upstream.on('socket', (s: Socket) => s.setNoDelay(true));
    upstream.on('timeout', () => upstream.destroy(new Error('the server sent nothing for too long')));
    upstream.on('error', (err) => {
      // The gatekeeper ended this exchange itself (a switch, the client left): nothing to report.
      if (res.writableEnded || res.destroyed) return;
      this.#opts.metrics.upstreamErrors.inc({ kind });
      this.#opts.logger.warn({ kind, error: err.message }, 'MAPI server request failed');
      if (!res.headersSent) plainAnswer(res, 502, 'MAPI server unavailable\n', true);
      else res.destroy();
    });
    upstream.on('response', (answer) => {
      if (opts.timed) this.#opts.metrics.upstreamLatency.observe({ kind }, (performance.now() - started) / 1000);
      answer.on('close', () => {
        // The server broke the answer off: the client must see it broken, not complete.
        if (!answer.complete) res.destroy();
      });
      if (opts.onResponse) return opts.onResponse(answer);
      this.#writeHead(res, answer);
      answer.pipe(res);
    });
    // The client went away (or the answer was cut): stop the server's work too.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (opts.body) upstream.end(opts.body);
    else req.pipe(upstream);
    return upstream;
  }
}
