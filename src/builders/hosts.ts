// The one mapping from a MailDomain to the hosts Outlook contacts. The builders, the gate and
// `mapi-operator check` all import it from here, so they can never disagree on which host
// speaks for which domain. Autodiscover follows [MS-OXDSCLI] 3.1.5: Outlook looks up
// autodiscover.<domain> for the domain of the user's address, aliases included.
import type { MailDomainSpec } from '../api/maildomain.ts';

export interface AutodiscoverHost {
  /** The mail domain (the domain or an alias) this host publishes autodiscover for. */
  domain: string;
  host: string;
}

type DomainNames = Pick<MailDomainSpec, 'domain' | 'aliases'>;

/** The domain and its aliases, in that order, without repeats. */
export function mailDomainNames(spec: DomainNames): string[] {
  return [...new Set([spec.domain, ...spec.aliases])];
}

/**
 * Default: autodiscover.<domain> and one per alias. Explicit hosts replace the defaults and
 * are attributed to the longest domain or alias they end with (autodiscover.mail.example.com
 * with aliases example.com and mail.example.com speaks for mail.example.com), so
 * `require: Any|All` still reasons per domain. The schema guarantees every explicit host ends
 * with one; a host that does not is a caller's bug and fails loudly here.
 */
export function autodiscoverHosts(spec: DomainNames & Pick<MailDomainSpec, 'autodiscover'>): AutodiscoverHost[] {
  const domains = mailDomainNames(spec);
  const explicit = spec.autodiscover?.hosts ?? [];
  if (explicit.length === 0) return domains.map((domain) => ({ domain, host: `autodiscover.${domain}` }));
  const longestFirst = [...domains].sort((a, b) => b.length - a.length);
  return explicit.map((host, i) => {
    const domain = longestFirst.find((d) => host === d || host.endsWith(`.${d}`));
    if (domain === undefined) {
      throw new Error(`spec.autodiscover.hosts[${i}] ${host} ends with neither spec.domain nor an alias: write a host under ${spec.domain} (autodiscover.${spec.domain}), or validate the MailDomain with its schema first`);
    }
    return { domain, host };
  });
}

export const externalURL = (host: string): string => `https://${host}`;

/** The autodiscover URLs Outlook tries for these hosts ([MS-OXDSCLI] 3.1.5, POX). */
export function autodiscoverURLs(hosts: string[]): string[] {
  return hosts.map((h) => `https://${h}/autodiscover/autodiscover.xml`);
}
