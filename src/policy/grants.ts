// Who may serve a host at all (pure), the filter beside host-claims.ts. In a shared cluster
// "the oldest claim wins" alone lets the first tenant to write a MailDomain hold another
// tenant's domain (and get a certificate for it from a shared ClusterIssuer). With
// --tenancy Granted the platform team's MailDomainGrants decide first: a host counts as
// claimed only by a resource whose namespace a grant gives it to, so an ungranted resource
// is Stalled/NotGranted, never blocks a granted one, and a host freed by deletion passes only
// to a granted claimant. --tenancy Open (one team per cluster) grants everything.
import type { Objection } from '../controllers/conditions.ts';

export type Tenancy = 'Open' | 'Granted';
export const TENANCIES: readonly Tenancy[] = ['Open', 'Granted'];

export interface Grant {
  name: string;
  namespaces: string[];
  domains: string[];
  hostSuffixes: string[];
}

const norm = (host: string): string => host.toLowerCase().replace(/\.$/, '');

/** The grant giving `host` to `namespace`, or undefined. A domain entry covers the domain and
 *  its autodiscover.<domain> host; a suffix covers itself and every name under it. */
export function grantFor(namespace: string, host: string, grants: readonly Grant[]): Grant | undefined {
  const h = norm(host);
  return grants.find((g) => g.namespaces.includes(namespace) && (
    g.domains.some((d) => h === norm(d) || h === `autodiscover.${norm(d)}`)
    || g.hostSuffixes.some((s) => h === norm(s) || h.endsWith(`.${norm(s)}`))));
}

export interface GrantPolicy {
  tenancy: Tenancy;
  grants: () => readonly Grant[];
}

export const OPEN: GrantPolicy = { tenancy: 'Open', grants: () => [] };

export function isGranted(policy: GrantPolicy, namespace: string, host: string): boolean {
  return policy.tenancy === 'Open' || grantFor(namespace, host, policy.grants()) !== undefined;
}

/** The hosts of `hosts` no grant gives to `namespace` (none under Open tenancy). */
export function ungranted(policy: GrantPolicy, namespace: string, hosts: readonly string[]): string[] {
  if (policy.tenancy === 'Open') return [];
  const grants = policy.grants();
  return [...new Set(hosts.map(norm))].filter((h) => !grantFor(namespace, h, grants));
}

/** Stalled/NotGranted naming the hosts and the grant that is missing. */
export function notGrantedObjection(kind: 'MapiServer' | 'MailDomain', namespace: string, hosts: { field: string; host: string }[]): Objection | undefined {
  if (hosts.length === 0) return undefined;
  const shown = hosts.slice(0, 10).map((h) => `${h.field} ${h.host}`).join(', ');
  const more = hosts.length > 10 ? ` and ${hosts.length - 10} more` : '';
  return {
    reason: 'NotGranted',
    message: `${shown}${more} ${hosts.length === 1 ? 'is' : 'are'} not granted to namespace ${namespace} (the operator runs with tenancy Granted): ` +
      `a MailDomainGrant (cluster-scoped, written by the platform team) listing namespace ${namespace} in spec.namespaces and ${hosts[0]!.host} in spec.domains or spec.hostSuffixes is needed; until then this ${kind} gets no route and no certificate for ${hosts.length === 1 ? 'it' : 'them'}`,
  };
}
