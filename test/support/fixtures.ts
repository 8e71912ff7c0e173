// Plain MailDomain objects for unit tests of pure code.
import { parseMailDomainSpec } from '../../src/api/parse.ts';
import type { MailDomain, MailDomainSpecInput } from '../../src/api/maildomain.ts';

export function mailDomain(spec: Partial<MailDomainSpecInput> = {}, name = 'example-com', namespace = 'mail'): MailDomain {
  const parsed = parseMailDomainSpec({
    domain: 'example.com',
    externalHost: 'mail.example.com',
    tls: { issuerRef: { name: 'letsencrypt' } },
    mapi: { image: 'registry.example/bm-mapi:4.1.0' },
    ...spec,
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    apiVersion: 'mapi-operator.io/v1alpha1',
    kind: 'MailDomain',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-02T00:00:00Z' },
    spec: parsed.value,
  };
}
