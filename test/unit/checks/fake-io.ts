// In-memory stand-ins for the check engine's I/O, for unit tests only.
import type {
  CertificateInfo, CheckIO, Clock, DnsAnswer, DnsFailure, DnsResolver, HttpClient, HttpRequest, HttpResponse,
  SrvRecord, TlsDialer, TlsHandshake,
} from '../../../src/checks/types.ts';

export interface FakeName {
  cname?: string;
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
  /** Every query for this name fails so. */
  fail?: DnsFailure;
}

/** An authoritative view: a name absent from the zone is NXDOMAIN, a present one without the type NODATA. */
export function fakeDns(zone: Record<string, FakeName>): DnsResolver & { queries: string[] } {
  const queries: string[] = [];
  const answer = <T>(name: string, type: string, pick: (entry: FakeName) => T[] | undefined): Promise<DnsAnswer<T>> => {
    queries.push(`${type} ${name}`);
    const entry = zone[name];
    if (!entry) return Promise.resolve({ ok: false, failure: 'NXDOMAIN', detail: 'ENOTFOUND' });
    if (entry.fail) return Promise.resolve({ ok: false, failure: entry.fail, detail: entry.fail });
    const records = pick(entry);
    return Promise.resolve(records && records.length > 0 ? { ok: true, records } : { ok: false, failure: 'NODATA', detail: 'ENODATA' });
  };
  return {
    queries,
    cname: (name) => answer(name, 'CNAME', (e) => (e.cname ? [e.cname] : undefined)),
    a: (name) => answer(name, 'A', (e) => e.a),
    aaaa: (name) => answer(name, 'AAAA', (e) => e.aaaa),
    srv: (name) => answer(name, 'SRV', (e) => e.srv),
  };
}

export const DAY = 86_400_000;
export const NOW = Date.UTC(2026, 5, 1);

export function certificate(overrides: Partial<CertificateInfo> = {}): CertificateInfo {
  return {
    subject: 'CN=mail.example.com',
    issuer: 'CN=Example Intermediate',
    dnsNames: ['mail.example.com'],
    ipAddresses: [],
    notBefore: NOW - 30 * DAY,
    notAfter: NOW + 60 * DAY,
    selfSigned: false,
    fingerprint256: 'AA:BB',
    ...overrides,
  };
}

export function handshake(overrides: Partial<TlsHandshake & { ok: true }> = {}): TlsHandshake {
  return {
    ok: true,
    address: '203.0.113.7',
    port: 443,
    protocol: 'TLSv1.3',
    chain: [certificate()],
    chainStatus: 'Trusted',
    verifyError: null,
    ...overrides,
  };
}

/** Answers per host; records every host asked. */
export function fakeTls(byHost: Record<string, TlsHandshake>): TlsDialer & { hosts: string[] } {
  const hosts: string[] = [];
  return {
    hosts,
    handshake: (host) => {
      hosts.push(host);
      return Promise.resolve(byHost[host] ?? { ok: false, failure: 'NOT_RESOLVED', detail: 'NXDOMAIN' });
    },
  };
}

export function fakeHttp(respond: (req: HttpRequest) => HttpResponse | Promise<HttpResponse>): HttpClient & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  return {
    requests,
    request: async (req) => {
      requests.push(req);
      return respond(req);
    },
  };
}

export function response(status: number, headers: Record<string, string> = {}, body = ''): HttpResponse {
  return { ok: true, status, headers, body, truncated: false };
}

export function fixedClock(start = NOW): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => { now += ms; } };
}

export function fakeIO(parts: Partial<CheckIO>): CheckIO {
  return {
    dns: parts.dns ?? fakeDns({}),
    tls: parts.tls ?? fakeTls({}),
    http: parts.http ?? fakeHttp(() => ({ ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' })),
    clock: parts.clock ?? fixedClock(),
  };
}
