// Who owns a host (pure). The server's external host belongs to one MapiServer and an
// autodiscover host to one MailDomain, across every namespace: the oldest claim wins, so a
// newcomer can never take over a name another tenant already serves. Ties (same second)
// fall to the lexically smaller namespace/name so every replica of the operator agrees.
// The tenancy policy (which namespace may claim which host at all) is a separate filter on
// the claimants and belongs beside this file.

export interface Claimant {
  namespace: string;
  name: string;
  creationTimestamp?: string;
}

export interface HostConflict {
  host: string;
  owner: { namespace: string; name: string };
}

const keyOf = (c: Claimant): string => `${c.namespace}/${c.name}`;

export function olderFirst(a: Claimant, b: Claimant): number {
  const ta = a.creationTimestamp ?? '';
  const tb = b.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The owner of one host among the claimants that declare it. */
export function ownerOf(claimants: Claimant[]): Claimant | undefined {
  let best: Claimant | undefined;
  for (const c of claimants) if (!best || olderFirst(c, best) < 0) best = c;
  return best;
}

/**
 * Splits the hosts `self` declares into the ones it owns and the ones an older claimant owns.
 * `claimantsOf(host)` lists everyone declaring the host (self included or not).
 */
export function claimHosts(self: Claimant, hosts: string[], claimantsOf: (host: string) => Claimant[]): { owned: string[]; conflicts: HostConflict[] } {
  const owned: string[] = [];
  const conflicts: HostConflict[] = [];
  const me = keyOf(self);
  for (const host of hosts) {
    const owner = ownerOf([self, ...claimantsOf(host).filter((c) => keyOf(c) !== me)]);
    if (!owner || keyOf(owner) === me) owned.push(host);
    else conflicts.push({ host, owner: { namespace: owner.namespace, name: owner.name } });
  }
  return { owned, conflicts };
}
