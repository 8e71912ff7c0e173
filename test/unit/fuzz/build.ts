// One generated world (a MapiServer, a MailDomain, a Mailbox) through the zod schemas and the
// two controllers' pure decisions, which call the builders: the objects the operator would
// apply, plus the three resources themselves as written.
import { parseMailDomain, parseMailbox, parseMapiServer } from '../../../src/api/parse.ts';
import { autodiscoverHosts } from '../../../src/builders/hosts.ts';
import { decideMapiServer } from '../../../src/controllers/mapiserver/decide.ts';
import { decideMailDomain } from '../../../src/controllers/maildomain/decide.ts';

export const FUZZ_NAMESPACE = 'sec-fuzz';
const API = 'mapi-operator.io/v1alpha2';
const now = new Date('2026-12-01T00:00:00Z');

export interface World {
  serverName: string;
  serverSpec: object;
  domainName: string;
  mdSpec: object;
  mbxSpec: object;
}

export function manifests(w: World, namespace = FUZZ_NAMESPACE) {
  return {
    server: { apiVersion: API, kind: 'MapiServer', metadata: { name: w.serverName, namespace }, spec: w.serverSpec },
    domain: { apiVersion: API, kind: 'MailDomain', metadata: { name: w.domainName, namespace }, spec: w.mdSpec },
    mailbox: { apiVersion: API, kind: 'Mailbox', metadata: { name: 'mbx', namespace }, spec: w.mbxSpec },
  };
}

/** undefined when the schemas refuse the world (then there is nothing to build). */
export function buildAll(w: World, namespace = FUZZ_NAMESPACE): { resources: object[]; children: object[] } | undefined {
  const m = manifests(w, namespace);
  const withUid = <T extends { metadata: object }>(o: T, uid: string) => ({ ...o, metadata: { ...o.metadata, uid, generation: 1, creationTimestamp: '2026-11-30T00:00:00Z' } });
  const server = parseMapiServer(withUid(m.server, '00000000-0000-4000-8000-000000000001'));
  const md = parseMailDomain(withUid(m.domain, '00000000-0000-4000-8000-000000000002'));
  const mbx = parseMailbox(withUid(m.mailbox, '00000000-0000-4000-8000-000000000003'));
  if (!server.ok || !md.ok || !mbx.ok) return undefined;
  const serverPlan = decideMapiServer({
    server: server.value,
    externalHostClaim: { owned: true },
    issuer: {},
    domains: [{ name: md.value.metadata.name, domain: md.value.spec.domain, accepted: true }],
    access: { domains: [{ name: md.value.metadata.name, domains: [md.value.spec.domain, ...md.value.spec.aliases], mapiEnabled: md.value.spec.mapi.enabled }], mailboxes: [{ address: mbx.value.spec.address, mapiEnabled: mbx.value.spec.mapiEnabled }] },
    now,
    options: { allowClusterIssuers: true, progressDeadlineMs: 600_000, gatekeeperImage: 'registry.example/mapi-operator:0.1.0' },
  });
  const domainPlan = decideMailDomain({
    md: md.value,
    server: server.value,
    claim: { owned: autodiscoverHosts(md.value.spec).map((h) => h.host), conflicts: [] },
    issuer: {},
    now,
    options: { allowClusterIssuers: true },
  });
  return { resources: [m.server, m.domain, m.mailbox], children: [...serverPlan.apply, ...domainPlan.apply] };
}
