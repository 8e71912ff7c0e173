// v1alpha2 objects and check rows for the unit tests of the gate, the rollout and the decide
// functions, built through the real zod schemas (defaults included).
import { parseMailDomainSpec, parseMapiServerSpec } from '../../../src/api/parse.ts';
import type { MailDomain, MailDomainSpecInput } from '../../../src/api/maildomain.ts';
import type { MapiServer, MapiServerSpecInput } from '../../../src/api/mapiserver.ts';
import type { CheckResult, CheckStatus } from '../../../src/checks/types.ts';

export const NOW = new Date('2026-11-22T12:00:00Z');
export const EXTERNAL = 'mail.hoster.example';

export function mapiServer(spec: Partial<MapiServerSpecInput> = {}, name = 'bluemind', namespace = 'mail'): MapiServer {
  const parsed = parseMapiServerSpec({
    externalHost: EXTERNAL,
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

export function mailDomain(domain: string, spec: Partial<MailDomainSpecInput> = {}, namespace = 'mail'): MailDomain {
  const parsed = parseMailDomainSpec({ serverRef: 'bluemind', domain, ...spec });
  if (!parsed.ok) throw new Error(parsed.message);
  const name = domain.replaceAll('.', '-');
  return {
    apiVersion: 'mapi-operator.io/v1alpha2',
    kind: 'MailDomain',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-03T00:00:00Z' },
    spec: parsed.value,
  };
}

export function row(name: string, status: CheckStatus, reason = status === 'Passed' ? 'Ok' : 'Broken', details: Record<string, unknown> = {}): CheckResult {
  return { name, status, reason, message: `${name} ${status}`, details };
}

/** dns/ and tls/ of autodiscover.<d> for each domain, all passing unless overridden. */
export function domainRows(domains: string[], overrides: CheckResult[] = []): CheckResult[] {
  const byName = new Map<string, CheckResult>();
  for (const d of domains) {
    byName.set(`dns/autodiscover.${d}`, row(`dns/autodiscover.${d}`, 'Passed', 'CnameToExternalHost'));
    byName.set(`tls/autodiscover.${d}`, row(`tls/autodiscover.${d}`, 'Passed', 'CertificateValid'));
  }
  for (const o of overrides) byName.set(o.name, o);
  return [...byName.values()];
}

export const certificateRow = (status: CheckStatus = 'Passed'): CheckResult => row('certificate', status, status === 'Passed' ? 'Ready' : 'Pending');
export const serverRows = (tls: CheckStatus = 'Passed', http: CheckStatus = 'Passed'): CheckResult[] => [row(`tls/${EXTERNAL}`, tls), row(`http/${EXTERNAL}`, http)];
