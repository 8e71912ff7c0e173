// The two shapes of issue 14: a hoster (1 MapiServer × N MailDomains × M Mailboxes) and a
// platform (N MapiServers × 3 MailDomains each), as the manifests a person would apply,
// with the DNS zones that publish every host at the front.
import { e2eDomain, e2eMailbox, e2eServer, toFront, type Zones } from '../../src/dev/world.ts';

export type Shape = 'hoster' | 'platform';

export interface ShapeObjects {
  shape: Shape;
  n: number;
  servers: object[];
  domains: object[];
  mailboxes: object[];
  zones: Zones;
  /** Children the operator should create: a Certificate per server and per MailDomain. */
  expectedCertificates: number;
  /** The last MailDomain and the first Mailbox: where the change latencies are measured. */
  probe: { server: string; domainName: string; domain: string; mailboxName: string; mailboxDomainRef: string; address: string };
}

export function shapeObjects(o: { shape: Shape; n: number; mailboxesPerDomain: number; namespace: string; nameserver: string; checkInterval?: string }): ShapeObjects {
  const { namespace, nameserver } = o;
  const serverCount = o.shape === 'hoster' ? 1 : o.n;
  const domainsPerServer = o.shape === 'hoster' ? o.n : 3;
  const servers: object[] = [];
  const domains: object[] = [];
  const mailboxes: object[] = [];
  const zones: Zones = {};
  for (let s = 0; s < serverCount; s++) {
    const server = `s${s}`;
    zones[`${server}.test`] = toFront('mail');
    // domains: Any so one slow domain never holds a server's first rollout (the benchmark
    // measures the operator, not a gate verdict); replicas 1 keeps kwok's pod count small.
    servers.push(e2eServer({ name: server, namespace, externalHost: `mail.${server}.test`, nameserver, domains: 'Any', replicas: 1, checkInterval: o.checkInterval }));
    for (let d = 0; d < domainsPerServer; d++) {
      const name = o.shape === 'hoster' ? `d${d}` : `${server}-d${d}`;
      const domain = `${name}.test`;
      zones[domain] = toFront('autodiscover');
      domains.push(e2eDomain({ name, namespace, server, domain }));
      for (let m = 0; m < o.mailboxesPerDomain; m++) {
        mailboxes.push(e2eMailbox({ name: `${name}-u${m}`, namespace, domainRef: name, address: `u${m}@${domain}` }));
      }
    }
  }
  const lastServer = `s${serverCount - 1}`;
  const lastDomain = o.shape === 'hoster' ? `d${o.n - 1}` : `${lastServer}-d2`;
  const firstDomain = o.shape === 'hoster' ? 'd0' : 's0-d0';
  return {
    shape: o.shape, n: o.n, servers, domains, mailboxes, zones,
    expectedCertificates: serverCount + domains.length,
    probe: {
      server: lastServer, domainName: lastDomain, domain: `${lastDomain}.test`,
      mailboxName: `${firstDomain}-u0`, mailboxDomainRef: firstDomain, address: `u0@${firstDomain}.test`,
    },
  };
}

/** --size → N per shape (issue 14: hoster 100 / 1,000 / 5,000; platform 50 / 500). */
export const SIZES: Record<string, Record<Shape, number>> = {
  small: { hoster: 100, platform: 50 },
  medium: { hoster: 1_000, platform: 500 },
  large: { hoster: 5_000, platform: 500 },
};
