// The zod schemas of v1alpha2 (MapiServer, MailDomain, Mailbox) against the same table of
// cases the integration test sends to the apiserver: each bad spec is rejected naming the
// same field and the fix, each good one accepted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMapiServerSpec, parseMailDomainSpec, parseMailboxSpec, parseMapiServer, parseMailDomain, parseMailbox, type ParseResult } from '../../../src/api/parse.ts';
import { rejections, acceptances, escapeRegExp, nameCandidates, addressCandidates, intervalCandidates, nameserverCandidates, validCount, type Kind } from '../../support/api-cases.ts';
import { mapiServer, mailDomain, mailbox, mapiServerManifest, mailDomainManifest, mailboxManifest, mapiServerSpec, mailDomainSpec, mailboxSpec } from '../../support/fixtures.ts';

const parsers: Record<Kind, (spec: unknown) => ParseResult<unknown>> = {
  MapiServer: parseMapiServerSpec,
  MailDomain: parseMailDomainSpec,
  Mailbox: parseMailboxSpec,
};

describe('zod rejects what the apiserver rejects, naming the same field', () => {
  for (const c of rejections) {
    test(`${c.kind}: ${c.name} → ${c.field}`, () => {
      const r = parsers[c.kind](c.spec);
      assert.equal(r.ok, false, `${c.name} was accepted`);
      if (r.ok) return;
      // zod may name the entry of a list the apiserver's rule names as a whole (hosts[1]).
      const field = new RegExp(`^${escapeRegExp(c.field)}(\\[\\d+\\])?: `);
      const hit = r.errors.find((e) => field.test(e));
      assert.ok(hit, `no error for ${c.field} in: ${r.message}`);
      assert.match(hit, c.says);
      // One mistake, one message: a person fixes what they read first and is done.
      assert.equal(r.errors.length, 1, `more than one error for one mistake: ${r.message}`);
    });
  }
});

describe('zod accepts the valid specs', () => {
  for (const c of acceptances) {
    test(`${c.kind}: ${c.name}`, () => {
      const r = parsers[c.kind](c.spec);
      assert.ok(r.ok, r.ok ? '' : r.message);
    });
  }
});

test('a minimal MapiServer is defaulted: 2 replicas on 8080, Enforce over All domains, checks every 5m, ClusterIssuer, Ingress, gatekeeper on', () => {
  const r = parseMapiServerSpec(mapiServerManifest().spec);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.value, {
    externalHost: 'mail.example.com',
    image: 'registry.example/bm-mapi:5.3.0',
    replicas: 2,
    port: 8080,
    env: [],
    resources: {},
    pod: {},
    tls: { issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
    exposure: { ingress: { annotations: {} } },
    gate: { mode: 'Enforce', domains: 'All' },
    checks: { interval: '5m', nameservers: [] },
    gatekeeper: { enabled: true },
  });
});

test('partial objects are completed field by field, not replaced by the object default', () => {
  const r = parseMapiServerSpec(mapiServerManifest('mapi', 'mail', { gate: { mode: 'Warn' }, checks: { interval: '30s' }, exposure: { ingress: { className: 'nginx' } } }).spec);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.value.gate, { mode: 'Warn', domains: 'All' });
  assert.deepEqual(r.value.checks, { interval: '30s', nameservers: [] });
  assert.deepEqual(r.value.exposure, { ingress: { className: 'nginx', annotations: {} } });
});

test('a minimal MailDomain is defaulted: no aliases, autodiscover.<domain> for Any, the server’s issuer, MAPI on', () => {
  const r = parseMailDomainSpec(mailDomainManifest().spec);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.value, {
    serverRef: 'mapi',
    domain: 'example.com',
    aliases: [],
    autodiscover: { hosts: [], require: 'Any' },
    tls: {},
    mapi: { enabled: true },
  });
  const own = parseMailDomainSpec(mailDomainManifest('example-com', 'mail', { tls: { issuerRef: { name: 'corp-ca', kind: 'Issuer' } }, autodiscover: { require: 'All' } }).spec);
  assert.ok(own.ok, own.ok ? '' : own.message);
  assert.deepEqual(own.value.tls, { issuerRef: { name: 'corp-ca', kind: 'Issuer', group: 'cert-manager.io' } });
  assert.deepEqual(own.value.autodiscover, { hosts: [], require: 'All' });
});

test('Mailbox: mapiEnabled defaults to true; the address keeps its case (domains compare lower-cased later)', () => {
  const r = parseMailboxSpec({ domainRef: 'example-com', address: 'Ken.Sanchez@Example.com' });
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.value, { domainRef: 'example-com', address: 'Ken.Sanchez@Example.com', mapiEnabled: true });
});

test('an autodiscover host may be the domain or an alias itself, or any name under one', () => {
  for (const hosts of [['example.com'], ['example.org'], ['autodiscover.example.org'], ['a.b.example.com']]) {
    const r = parseMailDomainSpec({ serverRef: 'mapi', domain: 'example.com', aliases: ['example.org'], autodiscover: { hosts } });
    assert.ok(r.ok, `${hosts.join(',')}: ${r.ok ? '' : r.message}`);
  }
  // zod names the entry; the apiserver names the list (its rule sees the list as a whole).
  const r = parseMailDomainSpec({ serverRef: 'mapi', domain: 'example.com', autodiscover: { hosts: ['autodiscover.example.com', 'autodiscover.example.net'] } });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /^spec\.autodiscover\.hosts\[1\]: must be the domain or an alias/);
});

test('unknown fields are errors naming the key (the apiserver rejects them under strict field validation, or prunes them)', () => {
  const top = parseMapiServerSpec({ ...mapiServerManifest().spec, replica: 3 });
  assert.equal(top.ok, false);
  if (!top.ok) assert.deepEqual(top.errors, ['spec: Unrecognized key: "replica"']);
  const nested = parseMailDomainSpec({ ...mailDomainManifest().spec, autodiscover: { host: ['autodiscover.example.com'] } });
  assert.equal(nested.ok, false);
  if (!nested.ok) assert.deepEqual(nested.errors, ['spec.autodiscover: Unrecognized key: "host"']);
  // Pass-through content (resources, env entries, affinity) keeps what it does not know.
  const loose = parseMapiServerSpec({ ...mapiServerManifest().spec, env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], resources: { limits: { cpu: '1' } } });
  assert.ok(loose.ok, loose.ok ? '' : loose.message);
  assert.deepEqual(loose.value.env, [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]);
  assert.deepEqual(loose.value.resources, { limits: { cpu: '1' } });
});

test('whole objects: kind and apiVersion are checked, v1alpha1 is refused with the way out', () => {
  const old = parseMailDomain({ ...mailDomainManifest(), apiVersion: 'mapi-operator.io/v1alpha1' });
  assert.equal(old.ok, false);
  if (!old.ok) assert.match(old.message, /^apiVersion: must be mapi-operator\.io\/v1alpha2 \(got mapi-operator\.io\/v1alpha1\)/);
  const wrongKind = parseMapiServer(mailDomainManifest());
  assert.equal(wrongKind.ok, false);
  if (!wrongKind.ok) assert.equal(wrongKind.message, 'kind: expected MapiServer, got MailDomain');
  const noName = parseMailbox({ ...mailboxManifest('ken'), metadata: {} });
  assert.equal(noName.ok, false);
  if (!noName.ok) assert.equal(noName.message, 'metadata.name: required');
  const ok = parseMailbox(mailboxManifest('ken'));
  assert.ok(ok.ok, ok.ok ? '' : ok.message);
  assert.equal(ok.value.spec.mapiEnabled, true);
});

test('fixtures build valid, defaulted v1alpha2 objects and refuse invalid overrides', () => {
  const s = mapiServer();
  assert.equal(s.apiVersion, 'mapi-operator.io/v1alpha2');
  assert.equal(s.spec.replicas, 2);
  assert.equal(mailDomain('example-org', 'mail', { domain: 'example.org' }).spec.autodiscover.require, 'Any');
  assert.equal(mailbox('ken').spec.address, 'ken@example.com');
  assert.equal(mailDomain('x', 'mail', {}, { creationTimestamp: '2026-03-04T00:00:00Z' }).metadata.creationTimestamp, '2026-03-04T00:00:00Z');
  assert.equal(mapiServerManifest('mapi', 'mail', { image: undefined }).spec.image, undefined);
  assert.throws(() => mapiServer('mapi', 'mail', { externalHost: 'Mail.example.com' }), /spec\.externalHost: must be lower-case/);
});

describe('value by value (the integration test sends the same values to the apiserver and compares)', () => {
  const accepted = (values: string[], ok: (v: string) => boolean) => values.filter(ok);
  test('host and domain names', () => {
    const ok = (v: string) => parseMailDomainSpec(mailDomainSpec({ aliases: [v] })).ok;
    assert.deepEqual(accepted(nameCandidates, ok), nameCandidates.slice(0, validCount.names));
  });
  test('mailbox addresses', () => {
    const ok = (v: string) => parseMailboxSpec(mailboxSpec('ken', { address: v })).ok;
    assert.deepEqual(accepted(addressCandidates, ok), addressCandidates.slice(0, validCount.addresses));
  });
  test('checks.interval', () => {
    const ok = (v: string) => parseMapiServerSpec(mapiServerSpec({ checks: { interval: v } })).ok;
    assert.deepEqual(accepted(intervalCandidates, ok), intervalCandidates.slice(0, validCount.intervals));
  });
  test('nameservers', () => {
    const all = nameserverCandidates.flat();
    const ok = (v: string) => parseMapiServerSpec(mapiServerSpec({ checks: { nameservers: [v] } })).ok;
    assert.deepEqual(accepted(all, ok), all.slice(0, validCount.nameservers));
  });
});

test('parseMailDomain keeps a stored object\'s spec and metadata as they are when the schema passes them unchanged, frozen; a spec it completes is a copy', () => {
  const stored = mailDomainManifest();
  const defaulted = parseMailDomainSpec(stored.spec);
  assert.ok(defaulted.ok);
  // As the apiserver stores it: every default of the CRD's schema applied, a namespace set.
  const asStored = { ...stored, spec: JSON.parse(JSON.stringify(defaulted.value)) as Record<string, unknown> };
  const r = parseMailDomain(asStored);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.value.spec, asStored.spec, 'no copy of a spec the schema passes as it is');
  assert.equal(r.value.metadata, asStored.metadata, 'no copy of metadata that has its namespace');
  assert.ok(Object.isFrozen(asStored.spec) && Object.isFrozen((asStored.spec as { autodiscover: object }).autodiscover), 'read-only all the way down: the cache holds it');
  assert.throws(() => { (r.value.spec.aliases as string[]).push('example.org'); }, TypeError);
  // A spec as written (defaults missing): the parsed copy, the stored object untouched.
  const written = mailDomainManifest();
  const w = parseMailDomain(written);
  assert.ok(w.ok);
  assert.notEqual(w.value.spec, written.spec);
  assert.ok(!Object.isFrozen(written.spec));
  assert.deepEqual(w.value.spec, defaulted.value);
});
