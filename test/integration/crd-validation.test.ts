// The CRDs on the real apiserver: `kubectl apply` rejects bad input before the operator sees
// it, each time with a message that names the field; a valid MailDomain is accepted and
// defaulted; `kubectl get md` / `mbx` / `mapi` work with the printer columns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedKubeconfigPath } from '../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../src/dev/kube.ts';

const ns = 'crd-validation';
const k = kubectlFor(sharedKubeconfigPath());

const valid = () => ({
  domain: 'example.com',
  externalHost: 'mail.example.com',
  tls: { issuerRef: { name: 'letsencrypt' } },
  mapi: { image: 'registry.example/bm-mapi:4.1.0' },
});

function mailDomain(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', metadata: { name, namespace: ns }, spec };
}

/** Creates the object server-side (dry run) and returns the apiserver's error text, or '' when accepted. */
async function rejection(obj: object): Promise<string> {
  const r = await k(['create', '--dry-run=server', '-f', '-'], JSON.stringify(obj));
  return r.code === 0 ? '' : r.stderr;
}

before(async () => {
  await freshNamespace(k, ns);
});

after(async () => {
  await k(['delete', 'namespace', ns, '--wait=false']);
});

describe('MailDomain CRD validation on the apiserver', () => {
  const cases: { name: string; spec: (s: Record<string, unknown>) => Record<string, unknown>; says: RegExp }[] = [
    { name: 'an upper-case domain', spec: (s) => ({ ...s, domain: 'Example.com' }), says: /spec\.domain: Invalid value: .*must be lower-case \(write example\.com, not Example\.com\)/ },
    { name: 'a trailing-dot domain', spec: (s) => ({ ...s, domain: 'example.com.' }), says: /spec\.domain: Invalid value: .*must not end with a dot/ },
    { name: 'a domain that is not a DNS name', spec: (s) => ({ ...s, domain: 'exa_mple.com' }), says: /spec\.domain: Invalid value: .*must be a valid DNS name such as example\.com/ },
    { name: 'an alias equal to the domain', spec: (s) => ({ ...s, aliases: ['example.com'] }), says: /spec\.aliases: Invalid value: .*must not contain spec\.domain/ },
    { name: 'duplicate aliases', spec: (s) => ({ ...s, aliases: ['example.org', 'example.org'] }), says: /spec\.aliases\[1\]: Duplicate value: "example\.org"/ },
    { name: 'more than 100 aliases', spec: (s) => ({ ...s, aliases: Array.from({ length: 101 }, (_, i) => `d${i}.example.org`) }), says: /spec\.aliases: Too many: 101: must have at most 100 items/ },
    { name: 'a missing externalHost', spec: ({ externalHost: _drop, ...s }) => s, says: /spec\.externalHost: Required value/ },
    { name: 'an unknown checks.mode', spec: (s) => ({ ...s, checks: { mode: 'Block' } }), says: /spec\.checks\.mode: Unsupported value: "Block": supported values: "Enforce", "Warn"/ },
    { name: 'an unknown checks.require', spec: (s) => ({ ...s, checks: { require: 'Most' } }), says: /spec\.checks\.require: Unsupported value: "Most": supported values: "Any", "All"/ },
    { name: 'negative replicas', spec: (s) => ({ ...s, mapi: { image: 'x:1', replicas: -1 } }), says: /spec\.mapi\.replicas: Invalid value: -1: spec\.mapi\.replicas in body should be greater than or equal to 0/ },
    { name: 'an upper-case alias', spec: (s) => ({ ...s, aliases: ['Example.org'] }), says: /spec\.aliases\[0\]: Invalid value: .*must be lower-case/ },
    { name: 'a nameserver that is not an address', spec: (s) => ({ ...s, checks: { nameservers: ['dns.example.com'] } }), says: /spec\.checks\.nameservers\[0\]: Invalid value: "dns\.example\.com"/ },
    { name: 'both caBundle sources', spec: (s) => ({ ...s, checks: { caBundle: { configMapKeyRef: { name: 'a', key: 'b' }, secretKeyRef: { name: 'a', key: 'b' } } } }), says: /spec\.checks\.caBundle: Invalid value: .*set either configMapKeyRef or secretKeyRef, not both/ },
  ];
  for (const c of cases) {
    test(`rejects ${c.name}, naming the field`, async () => {
      const err = await rejection(mailDomain('bad', c.spec(valid())));
      assert.match(err, c.says);
    });
  }

  test('a valid MailDomain is accepted and defaulted', async () => {
    await k.apply(mailDomain('example-com', valid()));
    const stored = await k.json<{ spec: Record<string, unknown> }>(['get', 'maildomain', '-n', ns, 'example-com']);
    assert.deepEqual(stored.spec, {
      domain: 'example.com',
      externalHost: 'mail.example.com',
      aliases: [],
      autodiscover: { hosts: [] },
      tls: { issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
      ingress: { annotations: {} },
      mapi: { image: 'registry.example/bm-mapi:4.1.0', enabled: true, replicas: 2, port: 8080, env: [], resources: {} },
      checks: { mode: 'Enforce', require: 'Any', interval: '5m', nameservers: [] },
    });
  });

  test('kubectl get md, mbx and the mapi category print the columns', async () => {
    await k.apply({ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name: 'ken', namespace: ns }, spec: { domainRef: 'example-com', address: 'ken.sanchez@example.com' } });
    assert.match(await k.ok(['get', 'md', '-n', ns]), /^NAME\s+DOMAIN\s+EXTERNAL\s+READY\s+ROLLOUT\s+AGE\nexample-com\s+example\.com\s+mail\.example\.com\s/);
    assert.match(await k.ok(['get', 'mbx', '-n', ns]), /^NAME\s+ADDRESS\s+DOMAIN\s+MAPI\s+READY\s+AGE\nken\s+ken\.sanchez@example\.com\s+example-com\s/);
    const all = await k.ok(['get', 'mapi', '-n', ns, '-o', 'name']);
    assert.match(all, /maildomain\.mapi-operator\.io\/example-com/);
    assert.match(all, /mailbox\.mapi-operator\.io\/ken/);
  });
});

describe('Mailbox CRD validation on the apiserver', () => {
  for (const address of ['ken.sanchez', 'ken@', '@example.com', 'ken sanchez@example.com']) {
    test(`rejects the address "${address}", naming spec.address`, async () => {
      const err = await rejection({ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name: 'bad', namespace: ns }, spec: { domainRef: 'example-com', address } });
      assert.match(err, /spec\.address: Invalid value: .*must be an e-mail address such as ken\.sanchez@example\.com/);
    });
  }

  test('mapiEnabled defaults to true', async () => {
    await k.apply({ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name: 'pilar', namespace: ns }, spec: { domainRef: 'example-com', address: 'pilar@example.com' } });
    const stored = await k.json<{ spec: { mapiEnabled: boolean } }>(['get', 'mailbox', '-n', ns, 'pilar']);
    assert.equal(stored.spec.mapiEnabled, true);
  });
});
