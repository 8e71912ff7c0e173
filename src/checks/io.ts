// The real I/O behind the checks: DNS through node:dns (c-ares, one query at a time, to the
// configured name servers), TLS handshakes through node:tls with SNI, HTTP through
// node:https/node:http with no agent, no redirect following, a body cap and time-outs.
// Every connection goes to an address this resolver found, so `check --nameserver` sees the
// world the way that name server describes it. The HTTPS probes of a host reuse the TLS
// connection its handshake (or the probe before) left open, for a moment: one TLS connection
// per host and interval, not one per probe.
import type { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { resolveAddresses, type AddressResolution } from './address-resolution.ts';
import { normalizeHost } from './host-names.ts';
import { MAX_ADDRESSES_PER_HOST } from './address-policy.ts';
import { PUBLIC_ONLY, refusedAddressUnder, refusedHostName, type ProbePolicy } from '../policy/probe-policy.ts';
import { certificateInfo, chainOfIssuance, evaluateChain, parseCertificates, systemTrustAnchors } from './chain.ts';
import { destroyConnection, poolKey, POOL_WAIT_MS, TlsConnectionPool, type Lease, type TlsConnection } from './tls-connection-pool.ts';
import type {
  ChainStatus, CheckIO, Clock, ConnectFailure, DnsAnswer, DnsFailure, DnsResolver, HttpClient,
  HttpRequest, HttpResponse, ResolutionCause, SharedResolutions, SingleTlsHandshake, SrvRecord, TlsDialer, TlsHandshake,
} from './types.ts';

export interface ProbeLimits {
  /** TCP connect. */
  connectTimeoutMs: number;
  /** A whole handshake or request, connect included. */
  totalTimeoutMs: number;
  /** One DNS query attempt; c-ares retries `dnsTries` times. */
  dnsTimeoutMs: number;
  dnsTries: number;
  /** Response bodies are cut here: an autodiscover answer is a few KiB. */
  maxBodyBytes: number;
}

export const DEFAULT_PROBE_LIMITS: ProbeLimits = {
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 10_000,
  dnsTimeoutMs: 2_000,
  dnsTries: 2,
  maxBodyBytes: 64 * 1024,
};

export interface RealCheckIOOptions {
  nameservers: string[];
  caBundlePem?: string;
  limits?: Partial<ProbeLimits>;
  /** Production: 443. Only tests point probes at another port (loopback 443 may be taken). */
  httpsPortFor?: (host: string) => number;
  /** Production: 80 (the HTTP redirect method). Tests only. */
  httpPortFor?: (host: string) => number;
  clock?: Clock;
  /** Addresses of one host dialled at once by a handshake (default: the engine's per-host limit, 2). */
  addressConcurrency?: number;
  /** Which resolved addresses may be dialled; default public addresses only. */
  probePolicy?: ProbePolicy;
  /** How long DNS answers are reused by every probe of this IO (default DEFAULT_DNS_CACHE). */
  dnsCache?: DnsCacheTimes;
}

export interface DnsCacheTimes {
  /** An answer with records. */
  answerMs: number;
  /** NXDOMAIN, NODATA, a failure or a time-out: short, so a record just published is seen soon. */
  failureMs: number;
}

/**
 * One question per name and type per 30 s however many MailDomains ask it (their runs share
 * this IO). Also pins what a name resolves to for that long, whatever TTL it is published
 * with: a name server answering with TTL 0 and a new address each time (DNS rebinding) gets
 * one answer in, not one per probe.
 */
export const DEFAULT_DNS_CACHE: DnsCacheTimes = { answerMs: 30_000, failureMs: 5_000 };

export const systemClock: Clock = { now: () => Date.now() };

export function createRealCheckIO(options: RealCheckIOOptions): CheckIO {
  const limits = { ...DEFAULT_PROBE_LIMITS, ...options.limits };
  const policy = options.probePolicy ?? PUBLIC_ONLY;
  const clock = options.clock ?? systemClock;
  const dnsCache = options.dnsCache ?? DEFAULT_DNS_CACHE;
  const dns = sharingResolutions(refusingInternalNames(cachingAnswers(createDnsResolver(options.nameservers, limits), clock, dnsCache)), clock, dnsCache.failureMs);
  const extraAnchors = options.caBundlePem ? parseCertificates(options.caBundlePem) : [];
  // One SecureContext for every connection of this IO: passing `ca` per connection makes
  // OpenSSL parse the ~150 system roots into a new store each time (CPU and native memory).
  const trust: TrustStore = {
    anchors: [...systemTrustAnchors(), ...extraAnchors],
    context: tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraAnchors.map((c) => c.toString())] }),
  };
  const httpsPortFor = options.httpsPortFor ?? (() => 443);
  const httpPortFor = options.httpPortFor ?? (() => 80);
  const lookup = addressLookup(dns);
  // One pool per IO: its connections were made with this IO's trust store.
  const pool = new TlsConnectionPool();
  return {
    dns,
    tls: createTlsDialer(lookup, trust, pool, httpsPortFor, limits, options.addressConcurrency ?? 2, policy),
    http: createHttpClient(lookup, trust, pool, httpsPortFor, httpPortFor, limits, policy),
    clock,
  };
}

interface TrustStore {
  anchors: X509Certificate[];
  context: tls.SecureContext;
}

// ---- DNS ----------------------------------------------------------------------------------

/** c-ares error codes → the DNS outcome they stand for. */
function dnsFailureOf(code: string | undefined): DnsFailure {
  switch (code) {
    case 'ENOTFOUND': return 'NXDOMAIN';
    case 'ENODATA': return 'NODATA';
    case 'ESERVFAIL': return 'SERVFAIL';
    case 'EREFUSED': return 'REFUSED';
    case 'ETIMEOUT': return 'TIMEOUT';
    default: return 'ERROR';
  }
}

export function createDnsResolver(nameservers: string[], limits: Pick<ProbeLimits, 'dnsTimeoutMs' | 'dnsTries'>): DnsResolver {
  const resolver = new Resolver({ timeout: limits.dnsTimeoutMs, tries: limits.dnsTries });
  if (nameservers.length > 0) resolver.setServers(nameservers);
  // c-ares has its own time-outs; this outer one only guards against a stuck channel.
  const guardMs = limits.dnsTimeoutMs * limits.dnsTries * 3 + 1_000;
  const ask = <T>(query: (cb: (err: NodeJS.ErrnoException | null, records: T[]) => void) => void): Promise<DnsAnswer<T>> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, failure: 'TIMEOUT', detail: 'no answer' }), guardMs);
      query((err, records) => {
        clearTimeout(timer);
        if (err) resolve({ ok: false, failure: dnsFailureOf(err.code), detail: err.code ?? err.message });
        else if (records.length === 0) resolve({ ok: false, failure: 'NODATA', detail: 'empty answer' });
        else resolve({ ok: true, records });
      });
    });
  return {
    cname: (name) => ask<string>((cb) => resolver.resolveCname(name, cb)),
    a: (name) => ask<string>((cb) => resolver.resolve4(name, cb)),
    aaaa: (name) => ask<string>((cb) => resolver.resolve6(name, cb)),
    srv: (name) => ask<SrvRecord>((cb) => resolver.resolveSrv(name, cb)),
  };
}

/** Entries of the answer cache; past it, expired ones go first, then the oldest. */
const MAX_CACHED_ANSWERS = 4096;

/** Each (type, name) asked once while its answer is fresh; callers asking meanwhile share it. */
export function cachingAnswers(dns: DnsResolver, clock: Clock, times: DnsCacheTimes): DnsResolver & { cachedAnswers(): number } {
  const answers = new Map<string, { expiresAt: number; answer: Promise<DnsAnswer<unknown>> }>();
  // Expired answers go at most once per answer time: names of deleted MailDomains are never
  // asked again, and under churn their answers stayed until the cap (a soak's heap grew with them).
  let sweptAt = clock.now();
  const sweepExpired = (now: number) => {
    if (now - sweptAt < times.answerMs) return;
    sweptAt = now;
    for (const [k, e] of answers) if (e.expiresAt <= now) answers.delete(k);
  };
  const cached = <T>(type: string, ask: (name: string) => Promise<DnsAnswer<T>>) => (name: string): Promise<DnsAnswer<T>> => {
    const key = `${type} ${name.toLowerCase()}`;
    const now = clock.now();
    sweepExpired(now);
    const hit = answers.get(key);
    if (hit && hit.expiresAt > now) return hit.answer as Promise<DnsAnswer<T>>;
    if (answers.size >= MAX_CACHED_ANSWERS) {
      for (const [k, e] of answers) if (e.expiresAt <= now) answers.delete(k);
      if (answers.size >= MAX_CACHED_ANSWERS) answers.delete(answers.keys().next().value as string);
    }
    // In flight until it settles: concurrent askers share the one query.
    const entry = { expiresAt: Number.POSITIVE_INFINITY, answer: ask(name) as Promise<DnsAnswer<unknown>> };
    answers.delete(key);
    answers.set(key, entry);
    void entry.answer.then((answer) => {
      entry.expiresAt = clock.now() + (answer.ok ? times.answerMs : times.failureMs);
    }, () => { if (answers.get(key) === entry) answers.delete(key); });
    return entry.answer as Promise<DnsAnswer<T>>;
  };
  return { cname: cached('CNAME', dns.cname), a: cached('A', dns.a), aaaa: cached('AAAA', dns.aaaa), srv: cached('SRV', dns.srv), cachedAnswers: () => answers.size };
}

/** Hosts kept at once; past it the one kept longest ago goes (a server deleted long since). */
const MAX_KEPT_RESOLUTIONS = 256;

/**
 * One resolution of a kept host per `keep` time, however many chains end at it: a hoster's
 * 5,000 autodiscover hosts are CNAMEs to one external host, and every dns/, tls/ and http/
 * probe of them walked on into its records. Through the answer cache alone that was a question
 * per answer life (30 s), and per 5 s for the NODATA of its CNAME and AAAA questions: 59 an
 * interval for one name at N=5,000, against one for every other name. A resolution is kept
 * until the time `keep` names (the probe cache's: the end of the interval it settled in, when
 * the probe results built on it expire too; a TTL from its own settling had a run of the next
 * interval dial with the old addresses and one a minute later with new ones). Failures are kept
 * `failureMs` only, so a fix of the external host's records is seen as soon as before.
 */
export function sharingResolutions(dns: DnsResolver, clock: Clock, failureMs: number): DnsResolver & { shared: SharedResolutions } {
  const kept = new Map<string, { until: (settledAt: number) => number; expiresAt: number; resolution?: Promise<AddressResolution> }>();
  const shared: SharedResolutions = {
    keep(host, until) {
      const name = normalizeHost(host);
      const entry = kept.get(name) ?? { until, expiresAt: 0 };
      entry.until = until;
      kept.delete(name);
      kept.set(name, entry);
      if (kept.size > MAX_KEPT_RESOLUTIONS) kept.delete(kept.keys().next().value as string);
    },
    of(host) {
      const entry = kept.get(normalizeHost(host));
      if (!entry) return undefined;
      if (entry.resolution && entry.expiresAt > clock.now()) return entry.resolution;
      // Asked on the plain resolver: the kept host's own walk must not find itself kept.
      const resolution = resolveAddresses(host, dns);
      entry.resolution = resolution;
      entry.expiresAt = Number.POSITIVE_INFINITY;
      void resolution.then((r) => {
        if (entry.resolution !== resolution) return;
        const settledAt = clock.now();
        const until = entry.until(settledAt);
        entry.expiresAt = r.ok ? until : Math.min(until, settledAt + failureMs);
      }, () => {
        if (entry.resolution === resolution) delete entry.resolution;
      });
      return resolution;
    },
  };
  return { ...dns, shared };
}

/** Cluster-internal, single-label and loopback names are not even looked up: their answers
 *  (exists or not, which address) describe the cluster, not a mail domain. */
function refusingInternalNames(dns: DnsResolver): DnsResolver {
  const guard = <T>(ask: (name: string) => Promise<DnsAnswer<T>>) => (name: string): Promise<DnsAnswer<T>> => {
    const refusal = net.isIP(name) ? null : refusedHostName(name.replace(/^(_[^.]+\.)+/, ''));
    return refusal ? Promise.resolve({ ok: false, failure: 'REFUSED', detail: refusal }) : ask(name);
  };
  return { cname: guard(dns.cname), a: guard(dns.a), aaaa: guard(dns.aaaa), srv: guard(dns.srv) };
}

// ---- connections --------------------------------------------------------------------------

function connectFailureOf(err: NodeJS.ErrnoException): ConnectFailure {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'REFUSED';
  if (code === 'ECONNRESET' || code === 'EPIPE' || err.message.includes('socket hang up')) return 'RESET';
  if (code === 'ETIMEDOUT') return 'TIMEOUT';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('UNABLE_TO') || code.startsWith('DEPTH_ZERO')) return 'HANDSHAKE';
  return 'ERROR';
}

type Target =
  | { ok: true; addresses: string[] }
  | ({ ok: false; detail: string } & ResolutionCause);

type AddressLookup = (host: string) => Promise<Target>;

/** Where to connect for a host. The answers come from the IO's answer cache, so every probe of
 *  a host within its 30 s sees the same addresses; each probe then dials exactly the addresses
 *  it judged, never the name. */
function addressLookup(dns: DnsResolver): AddressLookup {
  return async (host) => {
    if (net.isIP(host)) return { ok: true, addresses: [host] };
    const resolution = await resolveAddresses(host, dns);
    if (!resolution.ok) {
      return {
        ok: false,
        detail: resolution.failure === 'DANGLING_CNAME' ? `dangling CNAME (${resolution.chain.join(' → ')}: ${resolution.cause ?? 'no address'})` : resolution.failure,
        dnsFailure: resolution.failure,
        dnsChain: resolution.chain,
      };
    }
    return { ok: true, addresses: [...new Set(resolution.addresses)] };
  };
}

/** Runs `tasks` at most `limit` at a time, results in input order. */
async function inBatches<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

function createTlsDialer(
  lookup: AddressLookup, trust: TrustStore, pool: TlsConnectionPool, portFor: (host: string) => number, limits: ProbeLimits, addressConcurrency: number, policy: ProbePolicy,
): TlsDialer {
  return {
    async handshake(host: string): Promise<TlsHandshake> {
      const port = portFor(host);
      const nameRefusal = refusedHostName(host);
      if (nameRefusal) return { ok: false, failure: 'NOT_ALLOWED', detail: nameRefusal, port };
      const target = await lookup(host);
      if (!target.ok) return { ok: false, failure: 'NOT_RESOLVED', detail: target.detail, port, dnsFailure: target.dnsFailure, dnsChain: target.dnsChain };
      // Clients pick any of the addresses (round robin, happy eyeballs): each front must hold.
      const dialled = target.addresses.slice(0, MAX_ADDRESSES_PER_HOST);
      const perAddress = await inBatches(dialled, addressConcurrency, (address): Promise<SingleTlsHandshake> => {
        // Judged on the resolved address, and handshakeWith connects to this very address
        // (never the name again), so DNS cannot answer differently between check and connect.
        const refusal = refusedAddressUnder(address, policy);
        if (refusal) return Promise.resolve({ ok: false, failure: 'NOT_ALLOWED', detail: refusal, address, port });
        return handshakeWith(host, address, port, trust, limits, pool);
      });
      const first = perAddress[0] as SingleTlsHandshake;
      const notProbed = target.addresses.length - dialled.length;
      return { ...first, perAddress, ...(notProbed > 0 ? { addressesNotProbed: notProbed } : {}) };
    },
  };
}


type Dialled =
  | { ok: true; connection: TlsConnection }
  | { ok: false; failure: ConnectFailure; detail: string; connected: boolean; aborted: boolean };

/**
 * TCP to the address, then TLS with SNI = host and the IO's trust store, accepting any
 * certificate (the caller judges it: the tls/ check reports it, a verified request refuses it).
 * Bounded by the connect time-out; the caller's total time-out aborts it through `signal`.
 * `tlsFailure` names a TLS-level error the way the caller always has.
 */
function dialTls(
  host: string, address: string, port: number, trust: TrustStore, limits: ProbeLimits,
  tlsFailure: (err: NodeJS.ErrnoException) => ConnectFailure, signal: AbortSignal,
): Promise<Dialled> {
  return new Promise<Dialled>((resolve) => {
    let settled = false;
    let connected = false;
    const raw = net.connect({ host: address, port });
    let secure: tls.TLSSocket | undefined;
    // An error after the dial settled (the connection idle in the pool, or between requests)
    // must never be an unhandled 'error' event: it destroys the socket, the pool drops it.
    raw.on('error', () => {});
    const finish = (outcome: Dialled) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
      if (!outcome.ok) {
        secure?.destroy();
        raw.destroy();
      }
      resolve(outcome);
    };
    const fail = (failure: ConnectFailure, detail: string, aborted = false) => finish({ ok: false, failure, detail, connected, aborted });
    const onAbort = () => fail('TIMEOUT', 'aborted', true);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    const connectTimer = setTimeout(() => fail('TIMEOUT', `TCP connect took over ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs);
    raw.once('error', (err: NodeJS.ErrnoException) => fail(connectFailureOf(err), err.code ?? err.message));
    raw.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      const socket = tls.connect({ socket: raw, servername: host, secureContext: trust.context, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      secure = socket;
      socket.on('error', (err: NodeJS.ErrnoException) => fail(tlsFailure(err), err.code ?? err.message));
      socket.once('close', () => fail('RESET', 'connection closed during the handshake'));
      socket.once('secureConnect', () => finish({ ok: true, connection: { socket, raw } }));
    });
  });
}

/** The tls/ check's view of a TLS error: anything unnamed during the handshake is a handshake failure. */
function handshakeFailureOf(err: NodeJS.ErrnoException): ConnectFailure {
  const failure = connectFailureOf(err);
  return failure === 'ERROR' ? 'HANDSHAKE' : failure;
}

async function handshakeWith(host: string, address: string, port: number, trust: TrustStore, limits: ProbeLimits, pool: TlsConnectionPool): Promise<SingleTlsHandshake> {
  // Probes of this host arriving meanwhile wait for this connection instead of dialling theirs.
  const lease = pool.claim(poolKey(address, port, host));
  try {
    return await dialledHandshake(host, address, port, trust, limits, lease);
  } finally {
    lease.done();
  }
}

async function dialledHandshake(host: string, address: string, port: number, trust: TrustStore, limits: ProbeLimits, lease: Lease): Promise<SingleTlsHandshake> {
  const timeout = new AbortController();
  const totalTimer = setTimeout(() => timeout.abort(), limits.totalTimeoutMs);
  const dialled = await dialTls(host, address, port, trust, limits, handshakeFailureOf, timeout.signal).finally(() => clearTimeout(totalTimer));
  if (!dialled.ok) {
    const detail = !dialled.aborted ? dialled.detail : dialled.connected
      ? `the TCP connection was accepted but no TLS handshake completed within ${limits.totalTimeoutMs} ms`
      : `no TLS handshake within ${limits.totalTimeoutMs} ms`;
    return { ok: false, failure: dialled.failure, detail, address, port, connected: dialled.connected };
  }
  const { socket } = dialled.connection;
  let outcome: SingleTlsHandshake;
  // Whatever a peer presents becomes a result, never a throw.
  try {
    const presented = peerChain(socket, trust.anchors);
    const verifyError = socket.authorized ? null : String(socket.authorizationError ?? 'unknown');
    outcome = {
      ok: true,
      address,
      port,
      protocol: socket.getProtocol(),
      chain: presented.map(certificateInfo),
      chainStatus: chainStatusOf(presented, trust.anchors, socket.authorized, verifyError),
      verifyError,
    };
  } catch (err) {
    destroyConnection(dialled.connection);
    return { ok: false, failure: 'HANDSHAKE', detail: `the certificate the server presented could not be read: ${(err as Error).message}`, address, port, connected: true };
  }
  // The connection stays open for the HTTPS probes of this host (the pool judges whether it can).
  lease.release(dialled.connection);
  return outcome;
}

/**
 * The chain OpenSSL's `getPeerCertificate(true)` reports (chainOfIssuance), built from the parsed
 * certificates `getPeerX509Certificate()` gives. That one builds a JS object of every field of
 * every certificate, which were then parsed again from their DER: the largest piece of the
 * probes' own CPU at rest (`npm run bench:scale -- --cpu-prof`); this reads a chain and what the
 * probe takes of it in under half the time (`npm run bench:peer-chain`).
 */
export function peerChain(socket: tls.TLSSocket, anchors: readonly X509Certificate[]): X509Certificate[] {
  const presented: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let cert = socket.getPeerX509Certificate(); cert && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    presented.push(cert);
  }
  return chainOfIssuance(presented, anchors);
}

/** Dates are judged by the checks with their own clock, so OpenSSL's date errors do not decide trust. */
const DATE_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

function chainStatusOf(presented: X509Certificate[], anchors: X509Certificate[], authorized: boolean, verifyError: string | null): ChainStatus {
  if (authorized) return 'Trusted';
  const status = evaluateChain(presented, anchors);
  if (status === 'Trusted' && verifyError !== null && !DATE_ERRORS.has(verifyError)) return 'Invalid';
  return status;
}

// ---- HTTP ---------------------------------------------------------------------------------

function createHttpClient(
  lookup: AddressLookup, trust: TrustStore, pool: TlsConnectionPool,
  httpsPortFor: (host: string) => number, httpPortFor: (host: string) => number, limits: ProbeLimits, policy: ProbePolicy,
): HttpClient {
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const nameRefusal = refusedHostName(req.host);
      if (nameRefusal) return { ok: false, failure: 'NOT_ALLOWED', detail: nameRefusal };
      const target = await lookup(req.host);
      if (!target.ok) return { ok: false, failure: 'NOT_RESOLVED', detail: target.detail, dnsFailure: target.dnsFailure, dnsChain: target.dnsChain };
      // A pinned address must be one the host resolves to: the caller picks among the host's
      // fronts, never an arbitrary destination.
      const address = req.address ?? target.addresses[0] as string;
      if (!target.addresses.includes(address)) {
        return { ok: false, failure: 'NOT_ALLOWED', detail: `${address} is not an address of ${req.host}`, address };
      }
      const refusal = refusedAddressUnder(address, policy);
      if (refusal) return { ok: false, failure: 'NOT_ALLOWED', detail: refusal, address };
      return req.scheme === 'https'
        ? httpsRequestAt(req, address, httpsPortFor(req.host), trust, pool, limits)
        : httpRequestAt(req, address, httpPortFor(req.host), limits);
    },
  };
}

function requestHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = { ...req.headers, Host: req.host };
  if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
  return headers;
}

/** How far a request got: what a failure or a time-out is reported as. */
interface Progress {
  connected: boolean;
  /** Set once the status line and headers arrived: from then on a failure is a cut-off body. */
  answer?: { status: number; bytes: number };
}

function failureAfter(progress: Progress, address: string, failure: ConnectFailure, detail: string): HttpResponse {
  const answer = progress.answer;
  return answer
    ? { ok: false, failure: 'INCOMPLETE', detail: `HTTP ${answer.status} answer started but ${detail} after ${answer.bytes} bytes of body`, address, connected: progress.connected }
    : { ok: false, failure, detail, address, connected: progress.connected };
}

function totalTimeoutDetail(progress: Progress, limits: ProbeLimits): string {
  return progress.answer
    ? `the body did not end within ${limits.totalTimeoutMs} ms`
    : progress.connected ? `the connection was accepted but no answer came within ${limits.totalTimeoutMs} ms` : `no complete answer within ${limits.totalTimeoutMs} ms`;
}

/** Errors of a request sent on a connection the server had already closed (keep-alive race). */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END', 'ERR_SOCKET_CLOSED']);

/**
 * One HTTPS request on a connection of the IO's pool for (address, port, SNI = host): the one
 * the host's handshake or previous probe left open, else a fresh one. The total time-out runs
 * from then on and covers dialling, verifying and the whole answer; the wait for the connection
 * of another probe of the host (bounded by POOL_WAIT_MS) is queueing, like the limiter's, and a
 * probe that waited gets the same time to answer as one that did not.
 */
async function httpsRequestAt(req: HttpRequest, address: string, port: number, trust: TrustStore, pool: TlsConnectionPool, limits: ProbeLimits): Promise<HttpResponse> {
  const acquired = await pool.acquire(poolKey(address, port, req.host), Math.min(POOL_WAIT_MS, limits.connectTimeoutMs));
  // From here this probe holds the key's lease: every path below ends it (release or done),
  // and whatever happens the finally clause does.
  const { lease } = acquired;
  let connection = acquired.connection;
  const timeout = new AbortController();
  const totalTimer = setTimeout(() => timeout.abort(), limits.totalTimeoutMs);
  const progress: Progress = { connected: false };
  const options: https.RequestOptions = {
    host: address, port, method: req.method, path: req.path,
    // Explicit keep-alive: Node then keeps the connection after a complete answer and emits
    // 'free' on it (it does not with no agent otherwise).
    headers: { ...requestHeaders(req), Connection: 'keep-alive' },
  };
  try {
    for (let attempt = 1; ; attempt++) {
      const reused = connection !== null;
      if (!connection) {
        const dialled = await dialTls(req.host, address, port, trust, limits, connectFailureOf, timeout.signal);
        if (!dialled.ok) {
          lease.done();
          progress.connected = dialled.connected;
          return dialled.aborted ? failureAfter(progress, address, 'TIMEOUT', totalTimeoutDetail(progress, limits)) : failureAfter(progress, address, dialled.failure, dialled.detail);
        }
        connection = dialled.connection;
      }
      progress.connected = true;
      if (timeout.signal.aborted) {
        lease.release(connection);
        connection = null;
        return failureAfter(progress, address, 'TIMEOUT', totalTimeoutDetail(progress, limits));
      }
      // Credentials only travel over a verified connection: judged before a byte is written,
      // with the answer https gives when it rejects the peer. The connection itself stays fine
      // for unverified probes.
      if (req.verifyTls) {
        const rejection = unverifiedPeer(connection.socket, req.host);
        if (rejection) {
          lease.release(connection);
          connection = null;
          return failureAfter(progress, address, connectFailureOf(rejection), rejection.code ?? rejection.message);
        }
      }
      const exchanged = await exchange(connection.socket, options, req.body, limits, timeout.signal, progress);
      if (exchanged.kind === 'answered') {
        if (exchanged.reusable) lease.release(connection);
        else destroyConnection(connection);
        connection = null;
        return exchanged.response;
      }
      destroyConnection(connection);
      connection = null;
      if (exchanged.kind === 'aborted') return failureAfter(progress, address, 'TIMEOUT', totalTimeoutDetail(progress, limits));
      // A kept connection the server closed just as the request went out: once more on a
      // fresh one (the lease stays with this probe). A fresh connection's failure is the answer.
      if (reused && attempt === 1 && exchanged.stale) continue;
      return failureAfter(progress, address, exchanged.failure, exchanged.detail);
    }
  } finally {
    clearTimeout(totalTimer);
    // Only an exception leaves a connection in hand here (every return above gave it back or
    // destroyed it): it is not trusted with another request.
    if (connection) destroyConnection(connection);
    lease.done();
  }
}

/** Why a verified request must not go out on this connection, as https would have failed it. */
function unverifiedPeer(socket: tls.TLSSocket, host: string): NodeJS.ErrnoException | undefined {
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    return Object.assign(new Error(code), { code });
  }
  try {
    return tls.checkServerIdentity(host, socket.getPeerCertificate()) as NodeJS.ErrnoException | undefined;
  } catch (err) {
    return Object.assign(new Error((err as Error).message), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  }
}

type Exchange =
  | { kind: 'answered'; response: HttpResponse; reusable: boolean }
  | { kind: 'failed'; failure: ConnectFailure; detail: string; stale: boolean }
  | { kind: 'aborted' };

/**
 * One request and its answer on an established connection. `reusable`: the answer was complete
 * and Node kept the connection (no `Connection: close`, nothing left unread, 'free' emitted);
 * any other ending leaves the connection to be destroyed by the caller. `stale`: it failed the
 * way a request on a connection the server already closed fails, before any byte came back.
 */
function exchange(socket: tls.TLSSocket, options: https.RequestOptions, body: string | undefined, limits: ProbeLimits, signal: AbortSignal, progress: Progress): Promise<Exchange> {
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    let bytesBack = false;
    const onData = () => { bytesBack = true; };
    const settle = (outcome: Exchange) => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('free', onFree);
      signal.removeEventListener('abort', onAbort);
      clearImmediate(notFreed);
      if (outcome.kind !== 'answered' || !outcome.reusable) request.destroy();
      resolve(outcome);
    };
    let notFreed: NodeJS.Immediate | undefined;
    let whole: HttpResponse | undefined;
    // After a complete keep-alive answer Node detaches the socket and emits 'free' (next tick).
    const onFree = () => { if (whole) settle({ kind: 'answered', response: whole, reusable: true }); };
    const onAbort = () => settle({ kind: 'aborted' });
    socket.on('data', onData);
    socket.once('free', onFree);
    signal.addEventListener('abort', onAbort);
    const request = https.request({ ...options, agent: undefined, createConnection: () => socket });
    request.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      const stale = !bytesBack && !progress.answer && (STALE_CONNECTION_CODES.has(err.code ?? '') || err.message.includes('socket hang up'));
      settle({ kind: 'failed', failure: connectFailureOf(err), detail: progress.answer ? 'the connection broke' : code, stale });
    });
    request.once('response', (res) => {
      progress.answer = { status: res.statusCode ?? 0, bytes: 0 };
      const started = progress.answer;
      const chunks: Buffer[] = [];
      const response = (truncated: boolean): HttpResponse => ({
        ok: true,
        status: started.status,
        headers: flattenHeaders(res.headers),
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
        address: options.host as string,
      });
      res.on('data', (chunk: Buffer) => {
        const room = limits.maxBodyBytes - started.bytes;
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        started.bytes += chunk.length;
        // Cut: the rest of the body is still on the connection, which goes.
        if (started.bytes > limits.maxBodyBytes) settle({ kind: 'answered', response: response(true), reusable: false });
      });
      res.once('end', () => {
        whole = response(false);
        if (!request.shouldKeepAlive) settle({ kind: 'answered', response: whole, reusable: false });
        // Not freed by then (e.g. the answer came before the request was fully written): the
        // connection is not reused.
        else notFreed = setImmediate(() => settle({ kind: 'answered', response: whole as HttpResponse, reusable: false }));
      });
      res.on('error', () => settle({ kind: 'failed', failure: 'INCOMPLETE', detail: 'the connection broke', stale: false }));
      // A peer that closes mid-body: 'close' without 'end' (Node also reports 'aborted').
      res.once('close', () => { if (!res.complete) settle({ kind: 'failed', failure: 'INCOMPLETE', detail: 'the peer closed the connection', stale: false }); });
    });
    request.end(body);
  });
}

/** Plain HTTP (the redirect method on port 80): one connection per request, no agent. */
function httpRequestAt(req: HttpRequest, address: string, port: number, limits: ProbeLimits): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve) => {
    let settled = false;
    const progress: Progress = { connected: false };
    const finish = (outcome: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      request.destroy();
      resolve(outcome);
    };
    const failed = (failure: ConnectFailure, detail: string) => finish(failureAfter(progress, address, failure, detail));
    const request = http.request({ host: address, port, method: req.method, path: req.path, headers: requestHeaders(req), agent: false });
    const connectTimer = setTimeout(() => failed('TIMEOUT', `TCP connect took over ${limits.connectTimeoutMs} ms`), limits.connectTimeoutMs);
    const totalTimer = setTimeout(() => failed('TIMEOUT', totalTimeoutDetail(progress, limits)), limits.totalTimeoutMs);
    request.once('socket', (socket) => socket.once('connect', () => {
      progress.connected = true;
      clearTimeout(connectTimer);
    }));
    request.once('error', (err: NodeJS.ErrnoException) => failed(connectFailureOf(err), progress.answer ? 'the connection broke' : err.code ?? err.message));
    request.once('response', (res) => {
      clearTimeout(connectTimer);
      progress.answer = { status: res.statusCode ?? 0, bytes: 0 };
      const started = progress.answer;
      const chunks: Buffer[] = [];
      const respond = (truncated: boolean) => finish({
        ok: true,
        status: started.status,
        headers: flattenHeaders(res.headers),
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
        address,
      });
      res.on('data', (chunk: Buffer) => {
        const room = limits.maxBodyBytes - started.bytes;
        chunks.push(chunk.subarray(0, Math.max(0, room)));
        started.bytes += chunk.length;
        if (started.bytes > limits.maxBodyBytes) respond(true);
      });
      res.once('end', () => respond(false));
      res.once('error', () => failed('INCOMPLETE', 'the connection broke'));
      // A peer that closes mid-body: 'close' without 'end' (Node also reports 'aborted').
      res.once('close', () => { if (!res.complete) failed('INCOMPLETE', 'the peer closed the connection'); });
    });
    request.end(req.body);
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) flat[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
