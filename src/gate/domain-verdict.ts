// Rule 1 of the gate: when does one MailDomain pass?
//
// A MailDomain passes when its certificate is Ready and, per autodiscover.require, the domain
// or at least one alias (All: every one) has dns/ and tls/ passing. Outlook looks for
// autodiscover under the address's own domain ([MS-OXDSCLI] 3.1.5), so one published name
// per domain is what makes the domain work.
import type { CheckResult, RequireMode } from '../checks/types.ts';
import { normalizeHost } from '../checks/host-names.ts';
import { CERTIFICATE_NOT_ISSUED } from '../checks/tls-check.ts';
import { CERTIFICATE_ISSUING } from '../checks/advisory-checks.ts';
import { bounded, counts, describeResult, indexResults, listSome } from './results.ts';

export interface HostVerdict {
  host: string;
  /** The mail domain (the primary or an alias) this host publishes autodiscover for. */
  domain: string;
  /** dns/<host> passes: Outlook finds it (an SRV-only answer counts). */
  published: boolean;
  /** The TLS Outlook meets passes: tls/<host>, or tls/<SRV target> for an SRV-only host. */
  served: boolean;
  /** The row that decides the host, when it does not pass. */
  missing?: string;
}

/** CamelCase, stable. */
export type DomainReason = 'ChecksPassed' | 'CertificateIssuing' | 'CertificateNotReady' | 'ChecksPending' | 'AutodiscoverNotPublished' | 'AutodiscoverTlsFailed';

export interface DomainVerdict {
  passing: boolean;
  /** Autodiscover is in DNS per `require`, whatever TLS says (the AutodiscoverPublished condition). */
  published: boolean;
  reason: DomainReason;
  message: string;
  hosts: HostVerdict[];
}

export interface DomainVerdictInput {
  require: RequireMode;
  autodiscoverHosts: readonly { domain: string; host: string }[];
  /** The domain and its aliases. With require All each needs a working host, so explicit
   *  spec.autodiscover.hosts that leave one out cannot pass; default: the hosts' domains. */
  domains?: readonly string[];
  /** The `certificate` row; absent outside a cluster (`mapi-operator check`), then not required. */
  certificate?: CheckResult;
}

export function domainVerdict(results: readonly CheckResult[], input: DomainVerdictInput): DomainVerdict {
  const byName = indexResults(results);
  const hosts = input.autodiscoverHosts.map((entry): HostVerdict => {
    const host = normalizeHost(entry.host);
    const dns = byName.get(`dns/${host}`);
    const published = counts(dns);
    // An SRV-only domain sends Outlook to the SRV target: that certificate is the one it meets.
    const srvTarget = dns?.reason === 'SrvRecordOnly' && typeof dns.details['srvTarget'] === 'string' ? normalizeHost(dns.details['srvTarget']) : undefined;
    const tlsName = `tls/${srvTarget ?? host}`;
    const served = counts(byName.get(tlsName));
    const missing = !published ? describeResult(byName, `dns/${host}`) : !served ? describeResult(byName, tlsName) : undefined;
    return { host, domain: normalizeHost(entry.domain), published, served, ...(missing ? { missing } : {}) };
  });

  // Per mail domain: a domain with two hosts passes when one of them does.
  const domains = [...new Set([...(input.domains ?? []).map(normalizeHost), ...hosts.map((h) => h.domain)])];
  const ok = (pred: (h: HostVerdict) => boolean) => (d: string) => hosts.some((h) => h.domain === d && pred(h));
  const enough = (pred: (h: HostVerdict) => boolean): boolean =>
    domains.length > 0 && (input.require === 'All' ? domains.every(ok(pred)) : domains.some(ok(pred)));
  const published = enough((h) => h.published);
  const works = enough((h) => h.published && h.served);

  const verdict = (passing: boolean, reason: DomainReason, message: string): DomainVerdict => ({ passing, published, reason, message: bounded(message, 1000), hosts });
  const certificate = input.certificate;
  if (certificate && certificate.status === 'Unknown' && certificate.reason === CERTIFICATE_ISSUING) {
    // No verdict yet rather than a failure: cert-manager is issuing it (every new domain's way).
    return verdict(false, 'CertificateIssuing', `the autodiscover certificate is not issued yet: ${certificate.message}`);
  }
  if (certificate && certificate.status !== 'Passed') {
    return verdict(false, 'CertificateNotReady', `the autodiscover certificate is not ready: ${certificate.message}`);
  }
  if (hosts.length === 0) {
    return verdict(false, 'AutodiscoverNotPublished', 'no autodiscover host is left to check: declare spec.autodiscover.hosts or let them default to autodiscover.<domain>');
  }
  if (hosts.every((h) => !byName.has(`dns/${h.host}`))) {
    return verdict(false, 'ChecksPending', 'the DNS and TLS checks of the autodiscover hosts have not run yet');
  }
  // Rows from before the certificate was issued (its hosts were not probed): the run that
  // probes them is due at once; until it ends there is no verdict, rather than a failure.
  const notProbed = hosts.filter((h) => h.published && byName.get(`tls/${h.host}`)?.reason === CERTIFICATE_NOT_ISSUED);
  if (certificate && notProbed.length > 0) {
    return verdict(false, 'ChecksPending', `the certificate is issued; the TLS checks of ${listSome(notProbed.map((h) => h.host))} run now`);
  }
  if (works) {
    const good = domains.filter(ok((h) => h.published && h.served));
    return verdict(true, 'ChecksPassed', `autodiscover is published and served for ${listSome(good)} (require: ${input.require})`);
  }
  const failing = domains.filter((d) => !ok((h) => h.published && h.served)(d));
  const why = failing.map((d) => {
    const own = hosts.filter((h) => h.domain === d);
    return `${d}: ${own.length === 0 ? 'no autodiscover host is declared for it in spec.autodiscover.hosts' : own.map((h) => h.missing).join('; ')}`;
  });
  const need = input.require === 'All' ? 'every domain and alias needs' : 'the domain or at least one alias needs';
  return verdict(false, published ? 'AutodiscoverTlsFailed' : 'AutodiscoverNotPublished',
    `autodiscover does not work yet (require: ${input.require}; ${need} dns/ and tls/ passing): ${listSome(why.map((w) => bounded(w)), 5)}`);
}
