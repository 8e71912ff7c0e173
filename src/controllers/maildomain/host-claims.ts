// A host belongs to one MailDomain, in any namespace (DESIGN.md "Safety"): the oldest claim
// wins, so a newcomer can never take over a name another tenant already serves.
import type { MailDomainSpec } from '../../api/maildomain.ts';
import { servedHosts } from '../../builders/hosts.ts';

export interface Claimant {
  namespace: string;
  name: string;
  creationTimestamp?: string;
  spec: Pick<MailDomainSpec, 'domain' | 'aliases' | 'autodiscover' | 'externalHost'>;
}

export interface HostConflict {
  host: string;
  owner: { namespace: string; name: string };
}

const key = (c: { namespace: string; name: string }): string => `${c.namespace}/${c.name}`;

function olderFirst(a: Claimant, b: Claimant): number {
  const ta = a.creationTimestamp ?? '';
  const tb = b.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** Splits the hosts `self` declares into those it owns and those an older MailDomain owns. */
export function claimHosts(self: Claimant, everyone: Claimant[]): { owned: string[]; conflicts: HostConflict[] } {
  const rivals = everyone.filter((c) => key(c) !== key(self)).filter((c) => olderFirst(c, self) < 0);
  const ownerOf = new Map<string, Claimant>();
  for (const rival of rivals.sort(olderFirst)) {
    for (const host of servedHosts(rival.spec)) if (!ownerOf.has(host)) ownerOf.set(host, rival);
  }
  const owned: string[] = [];
  const conflicts: HostConflict[] = [];
  for (const host of servedHosts(self.spec)) {
    const owner = ownerOf.get(host);
    if (owner) conflicts.push({ host, owner: { namespace: owner.namespace, name: owner.name } });
    else owned.push(host);
  }
  return { owned, conflicts };
}
