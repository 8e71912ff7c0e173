// Which addresses the checks connect to. A name in a zone the MailDomain's author controls (or
// an SRV target a hoster publishes) can point anywhere; the operator runs inside a cluster, so
// a probe must never reach the node's link-local services or a cloud metadata endpoint, which
// answer on addresses no Outlook client would ever be sent to. Loopback stays allowed: the
// tests run every server on 127.0.0.x (a probe policy with an allow-loopback switch is separate).
import net from 'node:net';

/** At most this many addresses of one host are dialled; the rest are counted, not probed. */
export const MAX_ADDRESSES_PER_HOST = 8;

/** Why the checks refuse to connect to `address`, or null when they may. */
export function refusedAddress(address: string): string | null {
  const family = net.isIP(address);
  if (family === 4) return refusedIPv4(address);
  if (family === 6) return refusedIPv6(address);
  return `${address} is not an IP address`;
}

function refusedIPv4(address: string): string | null {
  const [a, b] = address.split('.').map(Number) as [number, number, number, number];
  // 169.254.169.254 (AWS, GCP, Azure metadata) lies inside it.
  if (a === 169 && b === 254) return `${address} is link-local (169.254.0.0/16, where cloud metadata services answer)`;
  if (a === 0) return `${address} is in 0.0.0.0/8 ("this network"), not a server`;
  if (a >= 224) return `${address} is multicast or reserved (224.0.0.0/3), not a server`;
  return null;
}

function refusedIPv6(address: string): string | null {
  const groups = expandIPv6(address);
  if (groups.every((g) => g === 0)) return `${address} is the unspecified address, not a server`;
  // IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address it carries.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
    const refusal = refusedIPv4(v4);
    return refusal ? `${address} maps ${refusal}` : null;
  }
  const first = groups[0]!;
  if ((first & 0xffc0) === 0xfe80) return `${address} is link-local (fe80::/10)`;
  if ((first & 0xff00) === 0xff00) return `${address} is multicast (ff00::/8), not a server`;
  // AWS's IPv6 instance metadata endpoint (fd00:ec2::254).
  if (groups.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')) return `${address} is the cloud metadata endpoint (fd00:ec2::254)`;
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail converted). */
export function expandIPv6(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}
