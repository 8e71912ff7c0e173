// The check engine's vocabulary: what is checked (CheckTarget), what comes back (CheckResult),
// and the I/O the checks are given (CheckIO). Nothing here knows about Kubernetes; the
// controller maps MailDomain.spec onto a CheckTarget and the `check` command builds one from a
// file or flags.

import type { AddressResolution } from './address-resolution.ts';

export type RequireMode = 'Any' | 'All';

/** One autodiscover host and the mail domain it publishes ([MS-OXDSCLI]: autodiscover.<domain>). */
export interface AutodiscoverHost {
  domain: string;
  host: string;
}

/** A mailbox the authenticated probes log in as. The password never appears in a result. */
export interface ProbeCredentials {
  username: string;
  password: string;
  address: string;
}

/** cert-manager's Ready condition for the MailDomain's Certificate. */
export interface CertificateState {
  ready: boolean;
  reason: string;
  message: string;
}

export interface CheckTarget {
  domain: string;
  aliases: string[];
  externalHost: string;
  /** autodiscover.<domain> and one per alias, or spec.autodiscover.hosts. */
  autodiscoverHosts: AutodiscoverHost[];
  require: RequireMode;
  /** "ip[:port]" (IPv6 as "[ip]:port"); empty: the system resolver. */
  nameservers: string[];
  /** Extra trust anchors (PEM), added to the system roots. */
  caBundlePem?: string;
  probeCredentials?: ProbeCredentials;
  /** The http/ probes only make sense once MAPI pods exist. */
  includeHttp: boolean;
  /** The MAPI release (pod template hash) the http/ probes judge: part of their cache key, so a
   *  new release is never judged by the cached answers of the one before it. */
  release?: string;
  /** Absent when no cluster is involved: then there is no `certificate` check. */
  certificate?: CertificateState;
  /** Served hosts, each with the issued certificate it should present (cert-manager's revision):
   *  part of that host's tls/ cache key, so a certificate just issued is never judged by the
   *  handshake made before it, and a change of target re-runs the checks at once. A later pair
   *  for the same host wins. Pairs, not an object keyed by host: such an object gets a hidden
   *  class of its own per set of host names (10,000 in a heap snapshot at 5,000 MailDomains). */
  servedCertificates?: ServedCertificates;
  /** Served hosts whose certificate cert-manager has not issued yet: nothing of ours can be
   *  served on them, so their tls/ rows say so (CERTIFICATE_NOT_ISSUED) without a handshake. */
  unissuedHosts?: string[];
}

/** [host, revision] pairs (see CheckTarget.servedCertificates). */
export type ServedCertificates = ReadonlyArray<readonly [host: string, revision: string]>;

export type CheckStatus = 'Passed' | 'Failed' | 'Warning' | 'Unknown';

export interface CheckResult {
  /** `certificate`, `dns/<host>`, `tls/<host>`, `http/<host>`, `rootdomain/<domain>`, `redirect/<host>`. */
  name: string;
  status: CheckStatus;
  /** CamelCase, stable: what the controller copies into conditions. */
  reason: string;
  /** For a person: what is wrong and how to fix it (Remote Connectivity Analyzer wording). */
  message: string;
  details: Record<string, unknown>;
}

// ---- DNS ----------------------------------------------------------------------------------

/** How a DNS query failed, as a resolver tells them apart (RFC 1035 rcodes, RFC 2308 NODATA). */
export type DnsFailure = 'NXDOMAIN' | 'NODATA' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'ERROR';

export type DnsAnswer<T> =
  | { ok: true; records: T[] }
  | { ok: false; failure: DnsFailure; detail: string };

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** One query per call; no CNAME is followed for `cname` (the checks follow chains themselves). */
export interface DnsResolver {
  cname(name: string): Promise<DnsAnswer<string>>;
  a(name: string): Promise<DnsAnswer<string>>;
  aaaa(name: string): Promise<DnsAnswer<string>>;
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
  /** Resolutions this resolver keeps for hosts many checks reach (the real IO's; fakes may omit it). */
  shared?: SharedResolutions;
}

/**
 * Whole resolutions kept for the hosts every MailDomain of a server reaches: the server's
 * external host ends each autodiscover host's CNAME chain and is dialled by each of their
 * probes. A chain walk that reaches a kept host continues with its kept resolution instead of
 * asking its records again.
 */
export interface SharedResolutions {
  /** Keep `host`'s resolution until `until(settledAt)` once resolved (a failure for less):
   *  the probe cache's own expiry, so a run's DNS view and its probe results age together.
   *  Asked every run. */
  keep(host: string, until: (settledAt: number) => number): void;
  /** The kept resolution of `host` (resolved again once it expired), or undefined if not kept. */
  of(host: string): Promise<AddressResolution> | undefined;
}

// ---- TLS ----------------------------------------------------------------------------------

/** What a certificate says, reduced to what the checks judge. Dates in epoch milliseconds. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: number;
  notAfter: number;
  selfSigned: boolean;
  fingerprint256: string;
}

/**
 * Where the chain leads, as worked out from the presented certificates and the trust anchors:
 * - Trusted: reaches a trust anchor;
 * - SelfSigned: the leaf signed itself and is no trust anchor;
 * - UntrustedRoot: reaches a self-signed certificate that is no trust anchor;
 * - MissingIntermediate: an issuer is neither presented nor a trust anchor;
 * - Invalid: OpenSSL rejects a chain that reaches an anchor (e.g. bad signature, purpose).
 */
export type ChainStatus = 'Trusted' | 'SelfSigned' | 'UntrustedRoot' | 'MissingIntermediate' | 'Invalid';

/** Why a name gave no address: a DNS answer (DnsFailure) or a CNAME chain that breaks. */
export type ResolutionFailure = DnsFailure | 'DANGLING_CNAME' | 'CNAME_LOOP' | 'CHAIN_TOO_LONG';

/**
 * NOT_ALLOWED: the address is one the checks never connect to (link-local, cloud metadata);
 * INCOMPLETE: an HTTP answer started but its body never ended, or the peer closed mid-body.
 */
export type ConnectFailure = 'NOT_RESOLVED' | 'NOT_ALLOWED' | 'REFUSED' | 'TIMEOUT' | 'RESET' | 'HANDSHAKE' | 'INCOMPLETE' | 'ERROR';

/** How a name failed to resolve, carried by NOT_RESOLVED outcomes so the judges can tell
 *  "no such record" (publish one) from "the name server could not be asked" (see dns/). */
export interface ResolutionCause {
  dnsFailure?: ResolutionFailure;
  /** The names visited, the queried host first (CNAME chains). */
  dnsChain?: string[];
}

/** A handshake with one address; `handshake(host)` also says how every other address fared. */
export type TlsHandshake = SingleTlsHandshake & {
  /** One outcome per address dialled (at most 8), in DNS order; absent when none was dialled. */
  perAddress?: SingleTlsHandshake[];
  /** Addresses the host has beyond the 8 dialled. */
  addressesNotProbed?: number;
};

export type SingleTlsHandshake =
  | {
      ok: true;
      address: string;
      port: number;
      protocol: string | null;
      /** Leaf first, then the presented chain as the peer sent it. */
      chain: CertificateInfo[];
      chainStatus: ChainStatus;
      /** OpenSSL's verdict, kept for the report (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
      verifyError: string | null;
    }
  | ({
      ok: false; failure: ConnectFailure; detail: string; address?: string; port?: number;
      /** The TCP connection was accepted before the failure (a peer that stalls, not one that drops packets). */
      connected?: boolean;
    } & ResolutionCause);

export interface TlsDialer {
  /**
   * TLS handshake with SNI = host with every address the host resolves to (at most 8, a few
   * at a time), on the port the IO decides (443 in production). The top-level outcome is the
   * first address's; `perAddress` has them all.
   */
  handshake(host: string): Promise<TlsHandshake>;
}

// ---- HTTP ---------------------------------------------------------------------------------

export interface HttpRequest {
  scheme: 'https' | 'http';
  host: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Verify the chain and host name; required whenever credentials are sent. */
  verifyTls: boolean;
  /** Connect to this address of `host` (one it resolves to); default: its first address. */
  address?: string;
}

export type HttpResponse =
  | { ok: true; status: number; headers: Record<string, string>; body: string; truncated: boolean; address?: string }
  | ({ ok: false; failure: ConnectFailure; detail: string; address?: string; connected?: boolean } & ResolutionCause);

export interface HttpClient {
  /** One request, no redirect followed, body capped, bounded in time. */
  request(req: HttpRequest): Promise<HttpResponse>;
}

export interface Clock {
  now(): number;
}

/** Everything the checks touch outside themselves. Real ones in io.ts, fakes in unit tests. */
export interface CheckIO {
  dns: DnsResolver;
  tls: TlsDialer;
  http: HttpClient;
  clock: Clock;
}
