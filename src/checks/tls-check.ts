// tls/<host>: would Outlook connect to https://<host> without a certificate warning? The
// handshake is done by the injected dialer (SNI = host, port 443); this module only judges it,
// in the order the Remote Connectivity Analyzer tests: name, chain, dates.
import { certificateCoversHost, normalizeHost } from './host-names.ts';
import type { CertificateInfo, CheckResult, TlsHandshake } from './types.ts';

/** A certificate that ends within this window still works but is about to break Outlook. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;

export function tlsCheckName(host: string): string {
  return `tls/${normalizeHost(host)}`;
}

interface Problem {
  reason: string;
  message: string;
}

export function judgeTlsHandshake(hostName: string, handshake: TlsHandshake, now: number): CheckResult {
  const host = normalizeHost(hostName);
  const name = tlsCheckName(host);
  if (!handshake.ok) {
    const { reason, message } = connectProblem(host, handshake.failure, handshake.detail);
    return { name, status: 'Failed', reason, message, details: { failure: handshake.failure, detail: handshake.detail, address: handshake.address, port: handshake.port } };
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

function connectProblem(host: string, failure: string, detail: string): Problem {
  switch (failure) {
    case 'NOT_RESOLVED':
      return { reason: 'HostNotResolved', message: `The host name ${host} could not be resolved in DNS (${detail}): publish an A/AAAA or CNAME record` };
    case 'REFUSED':
      return { reason: 'ConnectionRefused', message: `Testing TCP port 443 on ${host} failed: connection refused (${detail}); check the ingress/load balancer listens on 443` };
    case 'TIMEOUT':
      return { reason: 'ConnectionTimedOut', message: `Testing TCP port 443 on ${host} failed: no answer in time (${detail}); check firewalls and the load balancer` };
    case 'RESET':
      return { reason: 'ConnectionReset', message: `The connection to ${host}:443 was reset during the TLS handshake (${detail}); check the front serves TLS for ${host}` };
    case 'HANDSHAKE':
      return { reason: 'HandshakeFailed', message: `The TLS handshake with ${host} failed (${detail}); check the front has a certificate for ${host} (SNI)` };
    default:
      return { reason: 'ConnectFailed', message: `Could not connect to ${host}:443 (${detail})` };
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

function chainProblems(host: string, leaf: CertificateInfo, handshake: TlsHandshake & { ok: true }): Problem[] {
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
