// For a failing check, the one change that fixes it: the DNS record to publish or the
// certificate to change, written out so a person can paste it (`mapi-operator check --explain`).
// Records follow [MS-OXDSCLI] 3.1.5: autodiscover.<domain> as a CNAME (or A) to the server, or an
// SRV record _autodiscover._tcp.<domain> pointing at it on port 443.
import type { CheckResult } from '../checks/types.ts';

export interface RemedyContext {
  externalHost: string;
  /** The mail domain an autodiscover host publishes for (for the SRV alternative). */
  domainOf(host: string): string | undefined;
}

const RESOLVER_TROUBLE = new Set(['ServerFailure', 'QueryRefused', 'QueryTimedOut', 'DnsError']);
const CHAIN_PROBLEMS: Record<string, string> = {
  SelfSigned: 'replace the self-signed certificate by one from a CA Outlook trusts (a public ACME issuer through cert-manager)',
  UntrustedRoot: 'use a certificate that chains to a public root Outlook trusts (a public ACME issuer through cert-manager)',
  MissingIntermediate: 'serve the whole chain: tls.crt must hold the leaf followed by every intermediate certificate',
  ChainInvalid: 'reissue the certificate: its chain does not verify',
  Expired: 'renew the certificate (kubectl describe certificate shows why cert-manager did not)',
  NotYetValid: 'check the clocks of the issuer and of the server, or wait until the certificate becomes valid',
};
const CONNECT_PROBLEMS = new Set(['ConnectionRefused', 'ConnectionTimedOut', 'ConnectionReset', 'HandshakeFailed', 'ConnectFailed', 'NoCertificate']);

/** Undefined for a check that passes, or whose fix is not a record or certificate change. */
export function remedyFor(result: CheckResult, ctx: RemedyContext): string | undefined {
  if (result.status === 'Passed' || result.status === 'Warning') return undefined;
  const slash = result.name.indexOf('/');
  const kind = slash === -1 ? result.name : result.name.slice(0, slash);
  const host = slash === -1 ? '' : result.name.slice(slash + 1);
  const external = host === ctx.externalHost;
  // The external host needs an address of the front; every other host points at it.
  const cname = external ? `${host}. 3600 IN A <address of the front>` : `${host}. 3600 IN CNAME ${ctx.externalHost}.`;
  switch (kind) {
    case 'certificate':
      return 'kubectl describe certificate <name>: fix what cert-manager reports (issuer, ACME challenge, DNS of the names)';
    case 'dns': {
      if (RESOLVER_TROUBLE.has(result.reason)) return `make the name servers of ${host} answer (the query failed: ${result.reason}), then publish: ${cname}`;
      if (result.reason === 'ExternalHostNotResolved') return `publish an address for ${ctx.externalHost}: ${ctx.externalHost}. 3600 IN A <address of the front>`;
      const domain = ctx.domainOf(host);
      const srv = domain ? ` (or, without a record at ${host}: _autodiscover._tcp.${domain}. 3600 IN SRV 0 0 443 ${ctx.externalHost}.)` : '';
      const replace = ['WrongAddress', 'DanglingCname', 'CnameLoop', 'CnameChainTooLong', 'SrvWrongPort', 'SrvTargetNotServed'].includes(result.reason) ? 'replace the record by ' : 'publish ';
      return `${replace}${cname}${srv}`;
    }
    case 'tls': {
      if (result.reason === 'NameMismatch') return `issue a certificate whose subjectAltName includes DNS:${host} and serve it for ${host} (SNI)`;
      const chain = CHAIN_PROBLEMS[result.reason];
      if (chain) return `${host}: ${chain}`;
      if (result.reason === 'HostNotResolved') return `publish ${cname}`;
      if (CONNECT_PROBLEMS.has(result.reason)) return `make the front (load balancer or ingress) accept TLS on ${host}:443 with a certificate for ${host}`;
      return undefined;
    }
    case 'http':
      return `route https://${host}/autodiscover and /mapi to the MAPI server and make it answer (see the message above)`;
    default:
      return undefined;
  }
}
