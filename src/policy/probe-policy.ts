// Where the operator's probes may go. The hosts come from tenants (a MailDomain's author writes
// the zone its hosts resolve in), and the operator runs inside the cluster with the cluster's
// network: a probe could reach the node's link-local services, a cloud metadata endpoint, the
// apiserver, an internal Service or anything on the pod network, and its result (reachable,
// refused, certificate names) would tell the tenant about it. So by default a probe connects
// only to public addresses of public names; private ranges only when the platform team allows
// them (mail servers on internal DNS), loopback only for tests and local development.
// The decision is made on the resolved address, and the connection goes to that address.
import net from 'node:net';
import { expandIPv6, refusedAddress as alwaysRefused } from '../checks/address-policy.ts';

export interface ProbePolicy {
  /** 127.0.0.0/8 and ::1: tests and local development only (`--probe-loopback`). */
  loopback: boolean;
  /** RFC 1918, RFC 6598 shared space (100.64.0.0/10) and fc00::/7 (`--probe-private-networks`). */
  privateNetworks: boolean;
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
  const v4 = ipv4Of(address);
  if (v4) {
    const [a, b] = v4;
    if (a === 127) return policy.loopback ? null : `${address} is loopback (127.0.0.0/8)`;
    if (!policy.privateNetworks) {
      if (a === 10) return `${address} is private (10.0.0.0/8); the chart's probes.privateNetworks allows private ranges`;
      if (a === 172 && b >= 16 && b < 32) return `${address} is private (172.16.0.0/12); the chart's probes.privateNetworks allows private ranges`;
      if (a === 192 && b === 168) return `${address} is private (192.168.0.0/16); the chart's probes.privateNetworks allows private ranges`;
      if (a === 100 && b >= 64 && b < 128) return `${address} is in the shared address space (100.64.0.0/10); the chart's probes.privateNetworks allows private ranges`;
    }
    return null;
  }
  const groups = expandIPv6(address);
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return policy.loopback ? null : `${address} is loopback (::1)`;
  if (!policy.privateNetworks && (groups[0]! & 0xfe00) === 0xfc00) return `${address} is a unique local address (fc00::/7); the chart's probes.privateNetworks allows private ranges`;
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
