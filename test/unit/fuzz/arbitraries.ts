// fast-check generators of MapiServer, MailDomain and Mailbox manifests as people write them:
// mostly valid (so the builders are reached), with the edges that broke before (253-character
// and dotted names, names starting with a digit, long host names, many aliases, explicit
// autodiscover hosts, secret names, both issuer kinds, both gate modes, zero replicas), and
// arbitrary JSON for the schemas alone.
import fc from 'fast-check';

const shortLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
const longLabel = fc.integer({ min: 1, max: 63 }).map((n) => 'x'.repeat(n));
const label = fc.oneof({ weight: 4, arbitrary: shortLabel }, { weight: 1, arbitrary: longLabel });

/** A Kubernetes object name: a DNS subdomain of up to 253 characters. */
export const objectName = fc.oneof(
  { weight: 4, arbitrary: shortLabel },
  { weight: 2, arbitrary: fc.array(label, { minLength: 2, maxLength: 5 }).map((a) => a.join('.')) },
  { weight: 1, arbitrary: fc.constant(`${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`) },
).filter((n) => n.length <= 253);

const tld = fc.constantFrom('example', 'com', 'org', 'test', 'co', 'xn--p1ai');
/** A host name: labels and a letter TLD, up to 253 characters. */
export const hostName = fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld).map(([ls, t]) => [...ls, t].join('.')).filter((h) => h.length <= 240);

const issuerRef = fc.record({ name: shortLabel, kind: fc.constantFrom('Issuer', 'ClusterIssuer') });

export const mapiServerSpec = fc.record({
  externalHost: hostName,
  image: fc.constantFrom('registry.example/bm-mapi:5.3.0', `bm-mapi@sha256:${'a'.repeat(64)}`, 'bm-mapi'),
  replicas: fc.integer({ min: 0, max: 20 }),
  port: fc.integer({ min: 1, max: 65535 }).filter((p) => p !== 8443 && p !== 9443),
  env: fc.array(fc.record({ name: fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/), value: fc.string({ maxLength: 40 }) }), { maxLength: 3 }),
  resources: fc.constantFrom({}, { limits: { cpu: '1', memory: '512Mi' } }, { requests: { cpu: '100m' } }),
  pod: fc.record({
    labels: fc.dictionary(fc.stringMatching(/^[a-z]([-a-z0-9.]{0,20}[a-z0-9])?$/), fc.stringMatching(/^[a-zA-Z0-9]([-a-zA-Z0-9_.]{0,20}[a-zA-Z0-9])?$/), { maxKeys: 2 }),
  }, { requiredKeys: [] }),
  tls: fc.record({ issuerRef, secretName: shortLabel.map((s) => `${s}-tls`) }, { requiredKeys: ['issuerRef'] }),
  exposure: fc.constantFrom({ ingress: { className: 'nginx' } }, { ingress: { annotations: { 'example.com/x': 'y' } } }, { ingress: {} }),
  gate: fc.record({ mode: fc.constantFrom('Enforce', 'Warn'), domains: fc.constantFrom('All', 'Any') }),
  checks: fc.record({ interval: fc.constantFrom('30s', '5m', '1h30m'), nameservers: fc.constantFrom([], ['10.0.0.10'], ['127.0.0.1:5353']) }, { requiredKeys: [] }),
  gatekeeper: fc.record({ enabled: fc.boolean() }),
}, { requiredKeys: ['externalHost', 'image', 'tls'] });

export const mailDomainSpec = (serverRef: string) => fc.tuple(hostName, fc.array(hostName, { maxLength: 4 }), fc.boolean(), fc.boolean())
  .map(([domain, aliases, explicitHosts, ownIssuer]) => {
    const uniqueAliases = [...new Set(aliases)].filter((a) => a !== domain);
    return {
      serverRef,
      domain,
      aliases: uniqueAliases,
      autodiscover: { require: explicitHosts ? 'All' : 'Any', hosts: explicitHosts ? [`autodiscover.${domain}`, ...uniqueAliases.map((a) => `autodiscover.${a}`)] : [] },
      ...(ownIssuer ? { tls: { issuerRef: { name: 'own', kind: 'Issuer' }, secretName: 'own-tls' } } : {}),
      mapi: { enabled: !explicitHosts },
    };
  });

export const mailboxSpec = (domainRef: string, domain: string) => fc.record({
  domainRef: fc.constant(domainRef),
  address: fc.stringMatching(/^[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?$/).filter((l) => !l.includes('..')).map((local) => `${local}@${domain}`),
  mapiEnabled: fc.boolean(),
});

/** Whatever JSON someone might send: the schemas must answer, never throw. */
export const anything = fc.anything({ maxDepth: 3, withObjectString: true, withNullPrototype: true });
