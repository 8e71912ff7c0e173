// v1alpha2 objects for the builder tests, validated by the real schemas (defaults applied).
import { parseMapiServerSpec, parseMailDomainSpec } from '../../../src/api/parse.ts';
import type { MapiServer, MapiServerSpecInput } from '../../../src/api/mapiserver.ts';
import type { MailDomain, MailDomainSpecInput } from '../../../src/api/maildomain.ts';

export function mapiServer(spec: Partial<MapiServerSpecInput> = {}, name = 'bluemind', namespace = 'mail'): MapiServer {
  const parsed = parseMapiServerSpec({
    externalHost: 'mail.hoster.example',
    image: 'registry.example/bm-mapi:5.3.0',
    tls: { issuerRef: { name: 'letsencrypt' } },
    ...spec,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    apiVersion: 'mapi-operator.io/v1alpha2',
    kind: 'MapiServer',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-02T00:00:00Z' },
    spec: parsed.value,
  };
}

export function mailDomain(spec: Partial<MailDomainSpecInput> = {}, name = 'example-com', namespace = 'mail'): MailDomain {
  const parsed = parseMailDomainSpec({ serverRef: 'bluemind', domain: 'example.com', ...spec });
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    apiVersion: 'mapi-operator.io/v1alpha2',
    kind: 'MailDomain',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-02T00:00:00Z' },
    spec: parsed.value,
  };
}

/** `n` mailboxes over example.com, example.org and other.example; every 7th switched off. */
export function mailboxes(n: number): { address: string; mapiEnabled: boolean }[] {
  const domains = ['example.com', 'example.org', 'other.example'];
  return Array.from({ length: n }, (_, i) => ({ address: `user.${i}@${domains[i % 3]}`, mapiEnabled: i % 7 !== 0 }));
}

export const accessInput = (n: number) => ({
  domains: [
    { name: 'example-com', domains: ['example.com', 'example.org'], mapiEnabled: true },
    { name: 'other', domains: ['other.example'], mapiEnabled: false },
  ],
  mailboxes: mailboxes(n),
});
