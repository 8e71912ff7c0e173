// Which hosts a MailDomain serves. Autodiscover follows MS-OXDSCLI 3.1.5: Outlook looks up
// autodiscover.<domain> for every domain a user's address can be in, aliases included.
import type { MailDomainSpec } from '../api/maildomain.ts';

export interface AutodiscoverHost {
  /** The mail domain (the primary or an alias) this host publishes autodiscover for. */
  domain: string;
  host: string;
}

export function mailDomains(spec: Pick<MailDomainSpec, 'domain' | 'aliases'>): string[] {
  return [spec.domain, ...spec.aliases.filter((a) => a !== spec.domain)];
}

export function autodiscoverHosts(spec: Pick<MailDomainSpec, 'domain' | 'aliases' | 'autodiscover'>): AutodiscoverHost[] {
  const domains = mailDomains(spec);
  const explicit = spec.autodiscover?.hosts ?? [];
  if (explicit.length === 0) return domains.map((domain) => ({ domain, host: `autodiscover.${domain}` }));
  // Explicit hosts: attribute each to the mail domain it sits under (longest suffix wins),
  // so require: Any|All still reasons per domain.
  return explicit.map((host) => {
    const owner = [...domains].sort((a, b) => b.length - a.length).find((d) => host === d || host.endsWith(`.${d}`));
    return { domain: owner ?? host, host };
  });
}

/** externalHost first, then every autodiscover host, without repeats. */
export function servedHosts(spec: Pick<MailDomainSpec, 'domain' | 'aliases' | 'autodiscover' | 'externalHost'>): string[] {
  return [...new Set([spec.externalHost, ...autodiscoverHosts(spec).map((h) => h.host)])];
}

export const externalURL = (spec: Pick<MailDomainSpec, 'externalHost'>): string => `https://${spec.externalHost}`;

export function autodiscoverURLs(hosts: string[]): string[] {
  return hosts.map((h) => `https://${h}/autodiscover/autodiscover.xml`);
}
