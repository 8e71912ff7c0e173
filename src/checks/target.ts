// Helpers to build a CheckTarget from what a MailDomain (or the `check` command) declares.
import { normalizeHost } from './host-names.ts';
import type { AutodiscoverHost } from './types.ts';

/**
 * spec.autodiscover.hosts, each paired with the mail domain it publishes; empty means
 * autodiscover.<domain> and autodiscover.<alias> for every alias ([MS-OXDSCLI]). An
 * explicit host belongs to the longest domain it ends with, else to the primary domain.
 */
export function autodiscoverHostsFor(domain: string, aliases: string[], hosts: string[] = []): AutodiscoverHost[] {
  const domains = [domain, ...aliases].map(normalizeHost);
  if (hosts.length === 0) return domains.map((d) => ({ domain: d, host: `autodiscover.${d}` }));
  const bySpecificity = [...domains].sort((a, b) => b.length - a.length);
  return hosts.map(normalizeHost).map((host) => ({
    host,
    domain: bySpecificity.find((d) => host === `autodiscover.${d}` || host.endsWith(`.${d}`)) ?? normalizeHost(domain),
  }));
}
