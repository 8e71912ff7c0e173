// tls/<host>: would Outlook connect to https://<host> without a certificate warning? The
// handshake is done by the injected dialer (SNI = host, port 443); this module only judges it,
// in the order the Remote Connectivity Analyzer tests: name, chain, dates.
import { certificateCoversHost, normalizeHost } from './host-names.ts';
import { combineAddressResults } from './per-address.ts';
import type { CertificateInfo, CheckResult, CheckStatus, ResolutionCause, SingleTlsHandshake, TlsHandshake } from './types.ts';

/** A certificate that ends within this window still works but is about to break Outlook. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;

export function tlsCheckName(host: string): string {
  return `tls/${normalizeHost(host)}`;
}

/**
 * The reason of a tls/ row not probed because the host's certificate was never issued. While
 * thousands of MailDomains are onboarded their certificates come over an hour here, and each
 * handshake before that could only fail (and was retried every few seconds, competing with
 * cert-manager for the CPU). The certificate row already says what is missing; the target
 * changes when it is issued, and the host is probed at once.
 */
export const CERTIFICATE_NOT_ISSUED = 'CertificateNotIssued';

export function certificateNotIssued(hostName: string, name = tlsCheckName(hostName)): CheckResult {
  const host = normalizeHost(hostName);
  return {
    name, status: 'Unknown', reason: CERTIFICATE_NOT_ISSUED,
    message: `${host} is not probed yet: its certificate has not been issued (see the certificate row); it is probed as soon as cert-manager issues it`,
    details: {},
  };
}

interface Problem {
  reason: string;
  message: string;
}

export interface JudgeOptions {
  /** The dns/ row that already explains this host's DNS (autodiscover hosts have one). */
  dnsCheck?: string;
}

/**
 * tls/<host>, judged on every address the dialer reached: one row whose status is the worst
 * address's, each address's outcome in `details.addresses`.
 */
export function judgeTlsHandshake(hostName: string, handshake: TlsHandshake, now: number, options: JudgeOptions = {}): CheckResult {
  const host = normalizeHost(hostName);
  const perAddress = handshake.perAddress ?? [];
  if (perAddress.length === 0) return judgeOneAddress(host, handshake, now, options);
  return combineAddressResults(host, perAddress.map((h, i) => ({
    address: h.address ?? `address ${i + 1}`,
    result: judgeOneAddress(host, h, now, options),
  })), handshake.addressesNotProbed ?? 0);
}

function judgeOneAddress(host: string, handshake: SingleTlsHandshake, now: number, options: JudgeOptions): CheckResult {
  const name = tlsCheckName(host);
  if (!handshake.ok) {
    const { status, reason, message } = connectProblem(host, handshake.failure, handshake.detail, { ...handshake, ...options });
    return {
      name, status, reason, message,
      details: {
        failure: handshake.failure, detail: handshake.detail, address: handshake.address, port: handshake.port,
        ...(handshake.dnsFailure ? { dnsFailure: handshake.dnsFailure } : {}),
      },
    };
  }
  const leaf = handshake.chain[0];
  const details: Record<string, unknown> = {
    address: handshake.address,
    port: handshake.port,
    protocol: handshake.protocol,
    chainStatus: handshake.chainStatus,
    verifyError: handshake.verifyError,
    chain: handshake.chain.map(describeCertificate),
  };
  if (!leaf) {
    return { name, status: 'Failed', reason: 'NoCertificate', message: `${host} completed the handshake without a certificate`, details };
  }
  const problems = [
    ...nameProblems(host, leaf),
    ...chainProblems(host, leaf, handshake),
    ...dateProblems(host, handshake.chain, now),
  ];
  const first = problems[0];
  if (first) {
    const also = problems.slice(1).map((p) => p.reason);
    return {
      name, status: 'Failed', reason: first.reason,
      message: also.length > 0 ? `${first.message} (also: ${also.join(', ')})` : first.message,
      details: { ...details, problems: problems.map((p) => p.reason) },
    };
  }
  const msLeft = leaf.notAfter - now;
  const daysLeft = Math.floor(msLeft / 86_400_000);
  const until = new Date(leaf.notAfter).toISOString();
  if (msLeft < EXPIRY_WARNING_MS) {
    return {
      name, status: 'Warning', reason: 'CertificateExpiringSoon',
      message: `The certificate for ${host} expires in ${daysLeft} day(s) (${until}): renew it now (check cert-manager's Certificate and its issuer)`,
      details,
    };
  }
  return { name, status: 'Passed', reason: 'CertificateValid', message: `${host}: trusted certificate for ${host}, valid until ${until}`, details };
}

interface ConnectVerdict {
  status: CheckStatus;
  reason: string;
  message: string;
}

/**
 * Why a host could not be resolved, told apart the way the advice differs: a name that does
 * not exist (publish a record) versus a name server that could not be asked (nothing to
 * publish; fix the name server or checks.nameservers, see dns/). Shared by tls/, http/ and
 * rootdomain/.
 */
export function dnsProblem(host: string, cause: ResolutionCause & { detail?: string; dnsCheck?: string }): ConnectVerdict {
  const see = cause.dnsCheck ? `see ${cause.dnsCheck}` : 'see the dns/ checks';
  const chain = cause.dnsChain && cause.dnsChain.length > 1 ? cause.dnsChain.join(' → ') : undefined;
  switch (cause.dnsFailure) {
    case 'TIMEOUT':
      return {
        status: 'Unknown', reason: 'NameServerUnreachable',
        message: `No name server answered for ${host} (time-out), so it could not be probed; this says nothing about its records: ${see}, and check checks.nameservers and that port 53 is reachable`,
      };
    case 'REFUSED':
    case 'SERVFAIL':
    case 'ERROR':
      return {
        status: 'Unknown', reason: 'DnsLookupFailed',
        message: `The name server could not answer for ${host} (${cause.dnsFailure}), so it could not be probed; this says nothing about its records: ${see} (${cause.dnsFailure === 'SERVFAIL' ? 'a zone that does not load or fails DNSSEC' : cause.dnsFailure === 'REFUSED' ? 'the name server does not serve this zone: check checks.nameservers and the delegation' : cause.detail ?? 'resolver error'})`,
      };
    case 'DANGLING_CNAME':
      return { status: 'Failed', reason: 'HostNotResolved', message: `${host} is a CNAME (${chain ?? host}) that ends at a name without an address: publish an A/AAAA record for the last name or point the CNAME elsewhere (${see})` };
    case 'CNAME_LOOP':
    case 'CHAIN_TOO_LONG':
      return { status: 'Failed', reason: 'HostNotResolved', message: `${host} does not resolve: its CNAME chain ${cause.dnsFailure === 'CNAME_LOOP' ? 'loops' : 'is too long'} (${chain ?? host}); fix the CNAME records (${see})` };
    default:
      return { status: 'Failed', reason: 'HostNotResolved', message: `The host name ${host} could not be resolved in DNS (${cause.dnsFailure ?? cause.detail ?? 'no address'}): publish an A/AAAA or CNAME record` };
  }
}

function connectProblem(host: string, failure: string, detail: string, cause: ResolutionCause & { dnsCheck?: string; address?: string }): ConnectVerdict {
  const at = cause.address ? `${host} (${cause.address})` : host;
  switch (failure) {
    case 'NOT_RESOLVED':
      return dnsProblem(host, { ...cause, detail });
    case 'NOT_ALLOWED':
      return { status: 'Failed', reason: 'AddressNotAllowed', message: `${host} resolves to an address the checks never connect to (${detail}), nor can Outlook clients use it: publish the public address of the front` };
    case 'REFUSED':
      return { status: 'Failed', reason: 'ConnectionRefused', message: `Testing TCP port 443 on ${at} failed: connection refused (${detail}); check the ingress/load balancer listens on 443` };
    case 'TIMEOUT':
      return { status: 'Failed', reason: 'ConnectionTimedOut', message: `Testing TCP port 443 on ${at} failed: no answer in time (${detail}); check firewalls and the load balancer` };
    case 'RESET':
      return { status: 'Failed', reason: 'ConnectionReset', message: `The connection to ${at}:443 was reset during the TLS handshake (${detail}); check the front serves TLS for ${host}` };
    case 'HANDSHAKE':
      return { status: 'Failed', reason: 'HandshakeFailed', message: `The TLS handshake with ${at} failed (${detail}); check the front has a certificate for ${host} (SNI)` };
    default:
      return { status: 'Failed', reason: 'ConnectFailed', message: `Could not connect to ${at}:443 (${detail})` };
  }
}

function nameProblems(host: string, leaf: CertificateInfo): Problem[] {
  if (certificateCoversHost(host, leaf.dnsNames)) return [];
  const names = leaf.dnsNames.length > 0 ? leaf.dnsNames.join(', ') : 'no DNS names';
  return [{
    reason: 'NameMismatch',
    message: `SSL Certificate Name Mismatch: the certificate presented by ${host} is valid for ${names}, not for ${host}; issue it with ${host} in the Subject Alternative Names`,
  }];
}

function chainProblems(host: string, leaf: CertificateInfo, handshake: SingleTlsHandshake & { ok: true }): Problem[] {
  switch (handshake.chainStatus) {
    case 'Trusted':
      return [];
    case 'SelfSigned':
      return [{
        reason: 'SelfSigned',
        message: `SSL Certificate Trust Failure: ${host} presents a self-signed certificate (${leaf.subject}); Outlook will warn every user: use a certificate from a trusted CA (cert-manager issuer) or add the CA to checks.caBundle`,
      }];
    case 'MissingIntermediate':
      return [{
        reason: 'MissingIntermediate',
        message: `Missing Intermediate Certificates in Chain: ${host} sends its certificate without the intermediate that issued it (${leaf.issuer}); serve the full chain (leaf + intermediates, e.g. cert-manager's tls.crt)`,
      }];
    case 'UntrustedRoot': {
      const root = handshake.chain[handshake.chain.length - 1] ?? leaf;
      return [{
        reason: 'UntrustedRoot',
        message: `SSL Certificate Trust Failure: the chain of ${host} ends at ${root.subject}, which is not a trusted root: use a publicly trusted CA or add the root to checks.caBundle`,
      }];
    }
    case 'Invalid':
      return [{
        reason: 'ChainInvalid',
        message: `SSL Certificate Trust Failure: the chain of ${host} fails verification (${handshake.verifyError ?? 'unknown error'}); reissue the certificate`,
      }];
  }
}

function dateProblems(host: string, chain: CertificateInfo[], now: number): Problem[] {
  const problems: Problem[] = [];
  chain.forEach((cert, index) => {
    const which = index === 0 ? `The certificate for ${host}` : `The chain certificate ${cert.subject}`;
    if (now > cert.notAfter) {
      problems.push({ reason: 'Expired', message: `${which} expired on ${new Date(cert.notAfter).toISOString()}: renew it (check cert-manager's Certificate and its issuer)` });
    } else if (now < cert.notBefore) {
      problems.push({ reason: 'NotYetValid', message: `${which} is not valid before ${new Date(cert.notBefore).toISOString()}: check the issuer's clock or wait, and the server's clock` });
    }
  });
  return problems;
}

export function describeCertificate(cert: CertificateInfo): Record<string, unknown> {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    dnsNames: cert.dnsNames,
    notBefore: new Date(cert.notBefore).toISOString(),
    notAfter: new Date(cert.notAfter).toISOString(),
    selfSigned: cert.selfSigned,
    fingerprint256: cert.fingerprint256,
  };
}
