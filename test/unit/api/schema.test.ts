import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMailDomainSpec, parseMailboxSpec } from '../../../src/api/parse.ts';
import { kinds, customResourceDefinition } from '../../../src/api/crd.ts';

const valid = {
  domain: 'example.com',
  externalHost: 'mail.example.com',
  tls: { issuerRef: { name: 'letsencrypt' } },
  mapi: { image: 'registry.example/bm-mapi:4.1.0' },
};

test('a minimal MailDomain spec is accepted and defaulted like the CRD defaults it', () => {
  const r = parseMailDomainSpec(valid);
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.deepEqual(r.value.aliases, []);
  assert.deepEqual(r.value.autodiscover, { hosts: [] });
  assert.deepEqual(r.value.tls.issuerRef, { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  assert.equal(r.value.mapi.enabled, true);
  assert.equal(r.value.mapi.replicas, 2);
  assert.equal(r.value.mapi.port, 8080);
  assert.deepEqual(r.value.checks, { mode: 'Enforce', require: 'Any', interval: '5m', nameservers: [] });
});

const rejected: { name: string; patch: Record<string, unknown>; field: string; says: RegExp }[] = [
  { name: 'upper-case domain', patch: { domain: 'Example.com' }, field: 'spec.domain', says: /lower-case/ },
  { name: 'trailing-dot domain', patch: { domain: 'example.com.' }, field: 'spec.domain', says: /must not end with a dot/ },
  { name: 'invalid DNS name', patch: { domain: 'exa_mple.com' }, field: 'spec.domain', says: /valid DNS name/ },
  { name: 'single-label domain', patch: { domain: 'localhost' }, field: 'spec.domain', says: /valid DNS name/ },
  { name: 'alias equal to domain', patch: { aliases: ['example.com'] }, field: 'spec.aliases', says: /must not contain spec.domain/ },
  { name: 'duplicate aliases', patch: { aliases: ['example.org', 'example.org'] }, field: 'spec.aliases[1]', says: /duplicate alias/ },
  {
    name: 'more than 100 aliases',
    patch: { aliases: Array.from({ length: 101 }, (_, i) => `d${i}.example.org`) },
    field: 'spec.aliases',
    says: /100/,
  },
  { name: 'missing externalHost', patch: { externalHost: undefined }, field: 'spec.externalHost', says: /./ },
  { name: 'unknown checks.mode', patch: { checks: { mode: 'Block' } }, field: 'spec.checks.mode', says: /Enforce|Warn/ },
  { name: 'unknown checks.require', patch: { checks: { require: 'Most' } }, field: 'spec.checks.require', says: /Any|All/ },
  { name: 'negative replicas', patch: { mapi: { image: 'x', replicas: -1 } }, field: 'spec.mapi.replicas', says: /0/ },
  { name: 'nameserver that is not an address', patch: { checks: { nameservers: ['dns.example.com'] } }, field: 'spec.checks.nameservers[0]', says: /IP address/ },
];

for (const c of rejected) {
  test(`MailDomain rejects ${c.name}, naming ${c.field}`, () => {
    const r = parseMailDomainSpec({ ...valid, ...c.patch });
    assert.equal(r.ok, false);
    if (r.ok) return;
    const hit = r.errors.find((e) => e.startsWith(`${c.field}:`));
    assert.ok(hit, `no error for ${c.field} in: ${r.message}`);
    assert.match(hit, c.says);
  });
}

test('Mailbox: address must be an e-mail address; mapiEnabled defaults to true', () => {
  const ok = parseMailboxSpec({ domainRef: 'example-com', address: 'Ken.Sanchez@example.com' });
  assert.ok(ok.ok);
  assert.equal(ok.value.mapiEnabled, true);
  for (const address of ['ken.sanchez', 'ken@', '@example.com', 'ken sanchez@example.com', 'ken@example']) {
    const r = parseMailboxSpec({ domainRef: 'example-com', address });
    assert.equal(r.ok, false, address);
    if (!r.ok) assert.match(r.message, /^spec\.address: must be an e-mail address/);
  }
});

test('every CEL rule in the generated CRDs carries a message a person can act on', () => {
  const rules: { rule: string; message?: string }[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === 'x-kubernetes-validations') rules.push(...(v as typeof rules));
        else walk(v);
      }
    }
  };
  for (const k of kinds) walk(customResourceDefinition(k));
  assert.ok(rules.length >= 10);
  for (const r of rules) assert.ok(r.message && r.message.length > 10, `rule ${r.rule} has no message`);
});
