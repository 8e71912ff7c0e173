// Where the operator's probes may go. The hosts come from tenants (a MailDomain's author writes
// the zone its hosts resolve in), and the operator runs inside the cluster with the cluster's
// network: a probe could reach the node's link-local services, a cloud metadata endpoint, the
// apiserver, an internal Service or anything on the pod network, and its result (reachable,
// refused, certificate names) would tell the tenant about it. So by default a probe connects
// only to public addresses of public names; private ranges only when the platform team allows
// them (mail servers on internal DNS), loopback only for tests and local development.
// Between all and nothing, a platform team can name the networks its mail servers live in
// (`--probe-allow-network CIDR`): exactly those are admitted besides public addresses.
// Link-local (cloud metadata), unspecified, multicast and reserved addresses stay refused
// whatever is allowed: no mail server answers there, and a network that would only admit
// them is refused at start-up.
// The decision is made on the resolved address, and the connection goes to that address.
import net from 'node:net';
import { expandIPv6, refusedAddress as alwaysRefused } from '../checks/address-policy.ts';

export interface ProbePolicy {
  /** 127.0.0.0/8 and ::1: tests and local development only (`--probe-loopback`). */
  loopback: boolean;
  /** RFC 1918, RFC 6598 shared space (100.64.0.0/10) and fc00::/7 (`--probe-private-networks`). */
  privateNetworks: boolean;
  /** Networks admitted besides public addresses, in canonical CIDR form as parseProbeNetwork
   *  returns them (`--probe-allow-network`, repeatable). */
  allowNetworks?: readonly string[];
}

/** The default: public addresses only. */
export const PUBLIC_ONLY: ProbePolicy = { loopback: false, privateNetworks: false };

/** Why a host name is never probed, whatever it resolves to, or null. */
export function refusedHostName(host: string): string | null {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (net.isIP(name) || /^\[.*\]$/.test(name)) return `${host} is an IP address, not a host name: the checks probe only DNS names`;
  if (!name.includes('.')) return `${host} is a single-label name (resolved through the cluster's search domains): the checks probe only fully qualified public names`;
  if (name === 'localhost' || name.endsWith('.localhost')) return `${host} is a loopback name`;
  if (/(^|\.)(svc|cluster\.local)$/.test(name) || name.endsWith('.svc.cluster.local')) return `${host} is a cluster-internal name (*.svc, *.cluster.local): the checks never probe inside the cluster`;
  return null;
}

/** Why an address is never dialled under `policy`, or null. */
export function refusedAddressUnder(address: string, policy: ProbePolicy): string | null {
  const always = alwaysRefused(address);
  if (always) return always;
  if (inAllowedNetwork(address, policy)) return null;
  const v4 = ipv4Of(address);
  if (v4) {
    const [a, b] = v4;
    if (a === 127) return policy.loopback ? null : `${address} is loopback (127.0.0.0/8)`;
    if (!policy.privateNetworks) {
      if (a === 10) return `${address} is private (10.0.0.0/8); the chart's probePrivateNetworks allows private ranges, probeAllowNetworks single networks`;
      if (a === 172 && b >= 16 && b < 32) return `${address} is private (172.16.0.0/12); the chart's probePrivateNetworks allows private ranges, probeAllowNetworks single networks`;
      if (a === 192 && b === 168) return `${address} is private (192.168.0.0/16); the chart's probePrivateNetworks allows private ranges, probeAllowNetworks single networks`;
      if (a === 100 && b >= 64 && b < 128) return `${address} is in the shared address space (100.64.0.0/10); the chart's probePrivateNetworks allows private ranges, probeAllowNetworks single networks`;
    }
    return null;
  }
  const groups = expandIPv6(address);
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return policy.loopback ? null : `${address} is loopback (::1)`;
  if (!policy.privateNetworks && (groups[0]! & 0xfe00) === 0xfc00) return `${address} is a unique local address (fc00::/7); the chart's probePrivateNetworks allows private ranges, probeAllowNetworks single networks`;
  return null;
}

/** The IPv4 address an address is or carries (IPv4-mapped IPv6), as four numbers. */
function ipv4Of(address: string): [number, number, number, number] | undefined {
  if (net.isIP(address) === 4) return address.split('.').map(Number) as [number, number, number, number];
  if (net.isIP(address) !== 6) return undefined;
  const g = expandIPv6(address);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff];
  return undefined;
}

// ---- allowed networks ---------------------------------------------------------------------

/** Ranges an allowed network may not overlap: nothing a mail server answers on is there, and a
 *  network that spans one of them (0.0.0.0/0, 169.0.0.0/8) is broader than any mail network.
 *  Addresses in them stay refused whatever is allowed (refusedAddress). */
const NEVER_ADMITTED: { cidr: string; why: string }[] = [
  { cidr: '169.254.0.0/16', why: 'link-local, where cloud metadata services answer' },
  { cidr: '0.0.0.0/8', why: '"this network", not a server' },
  { cidr: '224.0.0.0/3', why: 'multicast and reserved' },
  { cidr: '::/128', why: 'the unspecified address' },
  { cidr: 'fe80::/10', why: 'link-local' },
  { cidr: 'ff00::/8', why: 'multicast' },
  { cidr: 'fd00:ec2::254/128', why: 'the cloud metadata endpoint' },
];
const IPV4_MAPPED = '::ffff:0:0/96';

interface Network { family: 4 | 6; base: bigint; prefix: number }

export type ParsedNetwork = { ok: true; cidr: string } | { ok: false; problem: string };

/**
 * A network for `--probe-allow-network`: "ADDRESS/PREFIX" with no host bits set, or one
 * address (a /32 or /128). Returns the canonical form, or a problem that says what to write.
 */
export function parseProbeNetwork(text: string): ParsedNetwork {
  const network = networkOf(text.trim());
  if (typeof network === 'string') return { ok: false, problem: network };
  const mapped = networkOf(IPV4_MAPPED) as Network;
  if (network.family === 6 && network.prefix >= mapped.prefix && overlaps(network, mapped)) {
    return { ok: false, problem: `${text} is IPv4-mapped IPv6: write the IPv4 network (a mapped address is judged as the IPv4 address it carries)` };
  }
  for (const never of NEVER_ADMITTED) {
    const range = networkOf(never.cidr) as Network;
    // A single refused address inside a network is harmless (it stays refused on its own);
    // a whole refused range inside one means the network is broader than any mail network.
    const single = range.prefix === (range.family === 4 ? 32 : 128);
    if (overlaps(network, range) && (!single || network.prefix === range.prefix)) {
      return { ok: false, problem: `${text} overlaps ${never.cidr} (${never.why}), which the checks never probe: allow only the networks your mail servers are in` };
    }
  }
  return { ok: true, cidr: `${format(network)}/${network.prefix}` };
}

function networkOf(text: string): Network | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = net.isIP(address);
  if (family !== 4 && family !== 6) return `"${text}" is not a network: write ADDRESS/PREFIX, e.g. 10.20.0.0/16 or 2001:db8:5::/48`;
  const bits = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) return `"${text}": the prefix length must be a whole number from 0 to ${bits}`;
  const value = toBigInt(address, family);
  const hostBits = (1n << BigInt(bits - prefix)) - 1n;
  const base = value & ~hostBits;
  if (value !== base) return `"${text}" has host bits set: did you mean ${format({ family, base })}/${prefix}?`;
  return { family, base, prefix };
}

/** Two prefix-aligned networks overlap exactly when one contains the other's base. */
function overlaps(a: Network, b: Network): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const other = shorter === a ? b : a;
  const hostBits = (1n << BigInt((a.family === 4 ? 32 : 128) - shorter.prefix)) - 1n;
  return (other.base & ~hostBits) === shorter.base;
}

function toBigInt(address: string, family: 4 | 6): bigint {
  const parts = family === 4 ? address.split('.').map(Number) : expandIPv6(address);
  const width = family === 4 ? 8n : 16n;
  return parts.reduce((acc, part) => (acc << width) | BigInt(part), 0n);
}

function format(network: Pick<Network, 'family' | 'base'>): string {
  if (network.family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((network.base >> shift) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((network.base >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // The canonical compressed form (RFC 5952) as node:net's SocketAddress writes it.
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/** One BlockList per policy object: the policy is built once at start-up and judged per probe. */
const allowLists = new WeakMap<ProbePolicy, net.BlockList>();

function inAllowedNetwork(address: string, policy: ProbePolicy): boolean {
  const networks = policy.allowNetworks ?? [];
  if (networks.length === 0) return false;
  let list = allowLists.get(policy);
  if (!list) {
    list = new net.BlockList();
    for (const cidr of networks) {
      const parsed = networkOf(cidr);
      if (typeof parsed === 'string') throw new Error(`probe policy: ${parsed}`);
      list.addSubnet(format(parsed), parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6');
    }
    allowLists.set(policy, list);
  }
  // BlockList judges an IPv4-mapped IPv6 address by the IPv4 address it carries.
  return list.check(address, net.isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
