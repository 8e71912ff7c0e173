// One table of bad and good v1alpha2 specs, run twice: through the zod schemas (unit) and
// against the real apiserver with the generated CRDs (integration). Both must reject each bad
// spec naming the same field; `says` is what both messages contain, `apiserverSays` replaces it
// where the apiserver words a built-in OpenAPI check (required, enum, bounds) its own way.
import { mapiServerSpec, mailDomainSpec, mailboxSpec } from './fixtures.ts';

export type Kind = 'MapiServer' | 'MailDomain' | 'Mailbox';

export interface Rejection {
  kind: Kind;
  name: string;
  spec: Record<string, unknown>;
  /** The field both name, as `spec.a.b[0]`. */
  field: string;
  says: RegExp;
  apiserverSays?: RegExp;
}

const server = (over: Record<string, unknown>) => mapiServerSpec(over) as Record<string, unknown>;
const domain = (over: Record<string, unknown>) => mailDomainSpec(over) as Record<string, unknown>;

const required = { says: /expected (string|object), received undefined/, apiserverSays: /Required value/ };
const lowerCase = (ex: string, bad: string) => new RegExp(`must be lower-case \\(write ${esc(ex)}, not ${esc(bad)}\\)`);
const trailingDot = (ex: string) => new RegExp(`must not end with a dot \\(write ${esc(ex)}, not ${esc(ex)}\\.\\)`);
const ipLiteral = (ex: string) => new RegExp(`must be a host name, not an IP address .*write a name such as ${esc(ex)}`);
const notDns = (ex: string) => new RegExp(`must be a valid DNS name such as ${esc(ex)}`);
const interval = /must be at least 30s \(write 30s, 5m or 1h\): a shorter checks\.interval probes in a tight loop/;
const ref = { name: 'trust', key: 'ca.crt' };

export const rejections: Rejection[] = [
  // MapiServer
  { kind: 'MapiServer', name: 'a missing externalHost', spec: server({ externalHost: undefined }), field: 'spec.externalHost', ...required },
  { kind: 'MapiServer', name: 'a missing image', spec: server({ image: undefined }), field: 'spec.image', ...required },
  { kind: 'MapiServer', name: 'a missing tls', spec: server({ tls: undefined }), field: 'spec.tls', ...required },
  { kind: 'MapiServer', name: 'a missing tls.issuerRef', spec: server({ tls: {} }), field: 'spec.tls.issuerRef', ...required },
  { kind: 'MapiServer', name: 'an upper-case externalHost', spec: server({ externalHost: 'Mail.example.com' }), field: 'spec.externalHost', says: lowerCase('mail.example.com', 'Mail.example.com') },
  { kind: 'MapiServer', name: 'a trailing-dot externalHost', spec: server({ externalHost: 'mail.example.com.' }), field: 'spec.externalHost', says: trailingDot('mail.example.com') },
  { kind: 'MapiServer', name: 'an IP-literal externalHost', spec: server({ externalHost: '192.0.2.1' }), field: 'spec.externalHost', says: ipLiteral('mail.example.com') },
  { kind: 'MapiServer', name: 'an externalHost that is not a DNS name', spec: server({ externalHost: 'mail_host.example.com' }), field: 'spec.externalHost', says: notDns('mail.example.com') },
  { kind: 'MapiServer', name: 'negative replicas', spec: server({ replicas: -1 }), field: 'spec.replicas', says: />=0/, apiserverSays: /should be greater than or equal to 0/ },
  { kind: 'MapiServer', name: 'port 0', spec: server({ port: 0 }), field: 'spec.port', says: />=1/, apiserverSays: /should be greater than or equal to 1/ },
  { kind: 'MapiServer', name: 'port 65536', spec: server({ port: 65536 }), field: 'spec.port', says: /<=65535/, apiserverSays: /should be less than or equal to 65535/ },
  // Found by the fuzz test: the builder threw and the reconcile retried for good, status-less.
  ...[18080, 19090].map((port): Rejection => ({ kind: 'MapiServer', name: `port ${port} with the gatekeeper`, spec: server({ port, ...(port === 19090 ? { gatekeeper: { enabled: true } } : {}) }), field: 'spec.port', says: /spec\.port 18080 and 19090 are the gatekeeper sidecar's ports \(spec\.gatekeeper\.enabled\): set spec\.port to another port, such as 8080/ })),
  { kind: 'MapiServer', name: 'an unknown gate.mode', spec: server({ gate: { mode: 'Block' } }), field: 'spec.gate.mode', says: /"Enforce".*"Warn"/ },
  { kind: 'MapiServer', name: 'an unknown gate.domains', spec: server({ gate: { domains: 'Most' } }), field: 'spec.gate.domains', says: /"All".*"Any"/ },
  ...['0s', '10s', '29s', '29999ms'].map((v): Rejection => ({ kind: 'MapiServer', name: `checks.interval ${v}`, spec: server({ checks: { interval: v } }), field: 'spec.checks.interval', says: interval })),
  { kind: 'MapiServer', name: 'a checks.interval that is not a duration', spec: server({ checks: { interval: 'soon' } }), field: 'spec.checks.interval', says: /must be a duration such as 30s, 5m or 1h/ },
  { kind: 'MapiServer', name: 'a nameserver that is not an address', spec: server({ checks: { nameservers: ['dns.example.com'] } }), field: 'spec.checks.nameservers[0]', says: /must be an IP address with an optional port, such as 10\.0\.0\.53/ },
  { kind: 'MapiServer', name: 'both caBundle sources', spec: server({ checks: { caBundle: { configMapKeyRef: ref, secretKeyRef: ref } } }), field: 'spec.checks.caBundle', says: /set either configMapKeyRef or secretKeyRef, not both/ },
  { kind: 'MapiServer', name: 'a tls.issuerRef.kind that is not an issuer', spec: server({ tls: { issuerRef: { name: 'ca', kind: 'Secret' } } }), field: 'spec.tls.issuerRef.kind', says: /"Issuer".*"ClusterIssuer"/ },
  // MailDomain
  { kind: 'MailDomain', name: 'a missing serverRef', spec: domain({ serverRef: undefined }), field: 'spec.serverRef', ...required },
  { kind: 'MailDomain', name: 'a serverRef that is not an object name', spec: domain({ serverRef: 'Mapi_1' }), field: 'spec.serverRef', says: /must be the name of a MapiServer in the same namespace/ },
  { kind: 'MailDomain', name: 'a missing domain', spec: domain({ domain: undefined }), field: 'spec.domain', ...required },
  { kind: 'MailDomain', name: 'an upper-case domain', spec: domain({ domain: 'Example.com' }), field: 'spec.domain', says: lowerCase('example.com', 'Example.com') },
  { kind: 'MailDomain', name: 'a trailing-dot domain', spec: domain({ domain: 'example.com.' }), field: 'spec.domain', says: trailingDot('example.com') },
  { kind: 'MailDomain', name: 'a domain that is not a DNS name', spec: domain({ domain: 'exa_mple.com' }), field: 'spec.domain', says: notDns('example.com') },
  { kind: 'MailDomain', name: 'a single-label domain', spec: domain({ domain: 'localhost' }), field: 'spec.domain', says: notDns('example.com') },
  { kind: 'MailDomain', name: 'an IP-literal domain', spec: domain({ domain: '192.0.2.1' }), field: 'spec.domain', says: ipLiteral('example.com') },
  { kind: 'MailDomain', name: 'an upper-case alias', spec: domain({ aliases: ['example.net', 'Example.org'] }), field: 'spec.aliases[1]', says: lowerCase('example.org', 'Example.org') },
  { kind: 'MailDomain', name: 'a trailing-dot alias', spec: domain({ aliases: ['example.org.'] }), field: 'spec.aliases[0]', says: trailingDot('example.org') },
  { kind: 'MailDomain', name: 'an alias that is not a DNS name', spec: domain({ aliases: ['example org'] }), field: 'spec.aliases[0]', says: notDns('example.org') },
  { kind: 'MailDomain', name: 'an IP-literal alias', spec: domain({ aliases: ['192.0.2.1'] }), field: 'spec.aliases[0]', says: ipLiteral('example.org') },
  { kind: 'MailDomain', name: 'an alias equal to the domain', spec: domain({ aliases: ['example.org', 'example.com'] }), field: 'spec.aliases', says: /must not contain spec\.domain: the domain is always served; list only the other domains/ },
  { kind: 'MailDomain', name: 'duplicate aliases', spec: domain({ aliases: ['example.org', 'example.org'] }), field: 'spec.aliases[1]', says: /duplicate alias example\.org: list each alias once/, apiserverSays: /Duplicate value: "example\.org"/ },
  {
    kind: 'MailDomain',
    name: 'more than 100 aliases',
    spec: domain({ aliases: Array.from({ length: 101 }, (_, i) => `d${i}.example.org`) }),
    field: 'spec.aliases',
    says: /<=100 items/,
    apiserverSays: /Too many: 101: must have at most 100 items/,
  },
  {
    kind: 'MailDomain',
    name: 'an autodiscover host outside the domain and its aliases',
    spec: domain({ aliases: ['example.org'], autodiscover: { hosts: ['autodiscover.example.org', 'autodiscover.example.net'] } }),
    // The apiserver's rule sees the whole list; zod names the entry (spec.autodiscover.hosts[1]).
    field: 'spec.autodiscover.hosts',
    says: /must be the domain or an alias, or end with one \(write autodiscover\.example\.com\): Outlook looks for autodiscover under the address’s own domain/,
  },
  { kind: 'MailDomain', name: 'an autodiscover host that ends with the domain without a dot', spec: domain({ autodiscover: { hosts: ['autodiscoverexample.com'] } }), field: 'spec.autodiscover.hosts', says: /must be the domain or an alias, or end with one/ },
  { kind: 'MailDomain', name: 'an IP-literal autodiscover host', spec: domain({ autodiscover: { hosts: ['autodiscover.example.com', '192.0.2.1'] } }), field: 'spec.autodiscover.hosts[1]', says: ipLiteral('autodiscover.example.com') },
  { kind: 'MailDomain', name: 'an upper-case autodiscover host', spec: domain({ autodiscover: { hosts: ['Autodiscover.example.com'] } }), field: 'spec.autodiscover.hosts[0]', says: lowerCase('autodiscover.example.com', 'Autodiscover.example.com') },
  { kind: 'MailDomain', name: 'an unknown autodiscover.require', spec: domain({ autodiscover: { require: 'Most' } }), field: 'spec.autodiscover.require', says: /"Any".*"All"/ },
  // Mailbox
  ...['ken.sanchez', 'ken@', '@example.com', 'ken sanchez@example.com', 'ken@example', 'ken@@example.com'].map(
    (address): Rejection => ({ kind: 'Mailbox', name: `the address "${address}"`, spec: mailboxSpec('ken', { address }), field: 'spec.address', says: /must be an e-mail address such as ken\.sanchez@example\.com/ }),
  ),
  { kind: 'Mailbox', name: 'a domainRef that is not an object name', spec: mailboxSpec('ken', { domainRef: 'Example.com' }), field: 'spec.domainRef', says: /must name a MailDomain object \(its metadata\.name\)/ },
];

/** A 248-character name starting with `prefix` (three characters): room for `h100.` in front. */
const longName = (prefix: string) => `${prefix}${'d'.repeat(60)}.${'e'.repeat(63)}.${'f'.repeat(63)}.${'g'.repeat(48)}.example`;

export interface Acceptance {
  kind: Kind;
  name: string;
  spec: Record<string, unknown>;
}

/** Valid specs, each also showing how the defaults fill in around what is given. */
export const acceptances: Acceptance[] = [
  { kind: 'MapiServer', name: 'the minimal MapiServer', spec: server({}) },
  { kind: 'MapiServer', name: 'port 18080 without the gatekeeper', spec: server({ port: 18080, gatekeeper: { enabled: false } }) },
  ...['30s', '5m', '1h30m', '90s', '0.5m'].map((v): Acceptance => ({ kind: 'MapiServer', name: `checks.interval ${v}`, spec: server({ checks: { interval: v } }) })),
  {
    kind: 'MapiServer',
    name: 'a MapiServer with partial objects (defaults fill the rest)',
    spec: server({
      replicas: 0,
      gate: { mode: 'Warn' },
      checks: { nameservers: ['10.0.0.53', '10.0.0.54:5353', '[2001:db8::53]:53'], caBundle: { secretKeyRef: ref } },
      exposure: { ingress: { className: 'nginx' } },
      tls: { issuerRef: { name: 'corp-ca', kind: 'Issuer' }, secretName: 'mail-tls' },
      env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }],
      resources: { requests: { cpu: '500m' }, limits: { memory: '1Gi' } },
      pod: { nodeSelector: { 'kubernetes.io/os': 'linux' }, imagePullSecrets: [{ name: 'registry' }] },
      gatekeeper: {},
    }),
  },
  { kind: 'MailDomain', name: 'the minimal MailDomain', spec: domain({}) },
  {
    kind: 'MailDomain',
    name: 'a MailDomain with aliases, explicit autodiscover hosts and its own issuer',
    spec: domain({
      aliases: ['example.org', 'example.net'],
      autodiscover: { hosts: ['autodiscover.example.com', 'example.org', 'ad.mail.example.net'] },
      tls: { issuerRef: { name: 'corp-ca', kind: 'Issuer' } },
      mapi: {},
    }),
  },
  { kind: 'MailDomain', name: 'a MailDomain with 100 aliases', spec: domain({ aliases: Array.from({ length: 100 }, (_, i) => `d${i}.example.org`), autodiscover: { require: 'All' } }) },
  {
    // The largest MailDomain the schema allows: the cross-field CEL rule (every host against
    // every alias) must stay within the apiserver's cost budget for it.
    kind: 'MailDomain',
    name: 'the largest MailDomain: 100 long aliases and 101 explicit autodiscover hosts under the last alias',
    spec: domain({
      aliases: Array.from({ length: 100 }, (_, i) => longName(String(i).padStart(3, '0'))),
      autodiscover: { hosts: Array.from({ length: 101 }, (_, i) => `h${i}.${longName('099')}`), require: 'All' },
    }),
  },
  { kind: 'Mailbox', name: 'the minimal Mailbox', spec: mailboxSpec('ken') },
  { kind: 'Mailbox', name: 'a Mailbox with MAPI off and a mixed-case address', spec: mailboxSpec('ken', { address: "Ken.O'Neil+mapi@Example.COM", mapiEnabled: false }) },
];

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const escapeRegExp = esc;

// Candidates for the agreement tests: each is sent to both validators, which must agree on
// every one (RE2 in CEL and JavaScript's RegExp, CEL's duration() and ours). The valid ones
// come first: validCount says how many.
const label63 = 'a'.repeat(63);
export const validCount = { names: 9, addresses: 5, intervals: 7, nameservers: 6 };
export const nameCandidates = [
  'example.org', 'a.b', 'xn--bcher-kva.example', 'mail-1.example.net', '1.2.3.com', 'sub.123abc', 'x1.example.c0m',
  `${label63}.example`, `${label63}.${label63}.${label63}.${'b'.repeat(61)}`,
  '192.0.2.1', 'example.123', `${label63}a.example`, '-a.example', 'a-.example', 'a..example', '.a.example', 'A.example',
  'a.example.', 'a_b.example', 'a b.example', 'ä.example', 'localhost', 'a.example/', '*.example.org', 'example.org:443', '',
  `${label63}.${label63}.${label63}.${'b'.repeat(62)}`,
];
export const addressCandidates = [
  'ken@example.com', "o'neil+tag@example.com", 'Ken.Sanchez@Example.COM', 'a@b.c', 'ken_s@mail-1.example.net',
  'ken', 'ken@', '@example.com', 'ken..s@example.com', '.ken@example.com', 'ken.@example.com', 'ken sanchez@example.com',
  'ken@example', 'ken@-example.com', 'ken@exa_mple.com', 'ken@@example.com', 'ken@example.com.', 'kén@example.com',
];
export const intervalCandidates = ['30s', '30000ms', '0.5m', '1h', '1h30m', '5m0s', '29s1000ms', '29.999s', '29s999ms', '1.5', 's', '', '30', '30S', '-30s', '1d', '+30s', '1m-1s', '30 s'];
export const nameserverCandidates = [
  ['10.0.0.53', '10.0.0.53:5353', '[2001:db8::53]:53', '2001:db8::53', '::1', '127.0.0.1:53'],
  ['dns.example.com', '10.0.0', '10.0.0.53:', 'localhost', '[10.0.0.53]', '10.0.0.53:53:53', ' 10.0.0.53', '[2001:db8::53'],
];
