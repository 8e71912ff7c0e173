// What the schema cannot check about a Mailbox, decided for all Mailboxes of a namespace at
// once (duplicates need the whole set): is its address in the domain or an alias, is it the
// first Mailbox with that address, and what is its effective MAPI setting.
import type { MailDomain } from '../../api/maildomain.ts';
import type { MailboxSpec } from '../../api/mailbox.ts';

export interface MailboxView {
  namespace: string;
  name: string;
  creationTimestamp?: string;
  spec: MailboxSpec;
}

/** The domain and its aliases: every domain a mailbox address of this MailDomain may be in. */
const mailDomains = (spec: MailDomain['spec']): string[] => [spec.domain, ...spec.aliases];

export type MailboxVerdict =
  | { valid: true; effective: boolean }
  | { valid: false; reason: 'AddressNotInDomain' | 'DuplicateAddress'; message: string };

const olderFirst = (a: MailboxView, b: MailboxView): number => {
  const ta = a.creationTimestamp ?? '';
  const tb = b.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
};

export const addressDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Verdicts for the Mailboxes that reference `md` (all of them, valid or not). */
export function mailboxVerdicts(md: MailDomain, mailboxes: MailboxView[]): Map<string, MailboxVerdict> {
  const domains = mailDomains(md.spec);
  const inDomain = new Set(domains);
  const verdicts = new Map<string, MailboxVerdict>();
  const firstByAddress = new Map<string, MailboxView>();
  for (const m of mailboxes.filter((x) => x.spec.domainRef === md.metadata.name).sort(olderFirst)) {
    const domain = addressDomain(m.spec.address);
    if (!inDomain.has(domain)) {
      verdicts.set(m.name, {
        valid: false, reason: 'AddressNotInDomain',
        message: `spec.address ${m.spec.address} is not in ${domains.join(', ')}: use an address in the domain or one of its aliases, or add ${domain} to spec.aliases of MailDomain ${md.metadata.name}`,
      });
      continue;
    }
    const address = m.spec.address.toLowerCase();
    const first = firstByAddress.get(address);
    if (first) {
      verdicts.set(m.name, {
        valid: false, reason: 'DuplicateAddress',
        message: `spec.address ${m.spec.address} is already declared by Mailbox ${first.namespace}/${first.name}: one Mailbox per address; delete this one or change its address`,
      });
      continue;
    }
    firstByAddress.set(address, m);
    // Exchange: the organisation switch and the mailbox switch must both allow MAPI.
    verdicts.set(m.name, { valid: true, effective: md.spec.mapi.enabled && m.spec.mapiEnabled });
  }
  return verdicts;
}
