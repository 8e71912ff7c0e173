import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate, type ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { V1Ingress } from '@kubernetes/client-node';
import { desiredDomainObjects, autodiscoverHosts } from '../../../src/builders/index.ts';
import { mapiServer, mailDomain } from './fixtures.ts';

type Obj = { kind: string; metadata: { name: string; labels: Record<string, string>; ownerReferences: { kind: string; name: string }[] } };

test('MailDomain children: one Certificate for its hosts (issuer: its own, else the server’s) and /autodiscover to the server’s Service', () => {
  const cases = [
    { md: mailDomain({ aliases: ['example.org'] }), issuer: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' }, secret: 'example-com-autodiscover-tls' },
    {
      md: mailDomain({ aliases: ['example.org'], tls: { issuerRef: { name: 'tenant-ca', kind: 'Issuer' }, secretName: 'ad-tls' } }),
      issuer: { name: 'tenant-ca', kind: 'Issuer', group: 'cert-manager.io' },
      secret: 'ad-tls',
    },
  ];
  const server = mapiServer({ exposure: { ingress: { className: 'nginx', annotations: { 'team/owner': 'mail' } } } });
  for (const { md, issuer, secret } of cases) {
    const hosts = autodiscoverHosts(md.spec).map((h) => h.host);
    const objects = desiredDomainObjects({ md, server, hosts }) as Obj[];
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Certificate/example-com-autodiscover', 'Ingress/example-com-autodiscover']);
    for (const o of objects) {
      assert.deepEqual(o.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}`), ['MailDomain/example-com']);
      assert.equal(o.metadata.labels['mapi-operator.io/mapiserver'], 'bluemind');
      assert.equal(o.metadata.labels['mapi-operator.io/maildomain'], 'example-com');
    }
    const cert = objects[0] as unknown as ICertificate;
    assert.deepEqual(cert.spec?.dnsNames, ['autodiscover.example.com', 'autodiscover.example.org']);
    assert.deepEqual(cert.spec?.issuerRef, issuer);
    assert.equal(cert.spec?.secretName, secret);
    new Certificate(cert).validate();
    const ing = objects[1] as unknown as V1Ingress;
    assert.deepEqual(ing.spec?.tls, [{ hosts, secretName: secret }]);
    assert.deepEqual(ing.spec?.rules?.map((r) => r.host), hosts);
    for (const rule of ing.spec?.rules ?? []) {
      assert.deepEqual(rule.http?.paths.map((p) => [p.path, p.backend.service?.name, p.backend.service?.port?.name]), [['/autodiscover', 'bluemind-mapi', 'http']]);
    }
    assert.equal(ing.spec?.ingressClassName, 'nginx', 'the server’s exposure settings');
    assert.equal(ing.metadata?.annotations?.['team/owner'], 'mail');
    assert.equal(ing.metadata?.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  }
});

test('only the hosts it owns; none owned → no objects', () => {
  const md = mailDomain({ aliases: ['example.org'] });
  const cases = [
    { hosts: ['autodiscover.example.org'], kinds: ['Certificate', 'Ingress'] },
    { hosts: [], kinds: [] },
  ];
  for (const { hosts, kinds } of cases) {
    const objects = desiredDomainObjects({ md, server: mapiServer(), hosts }) as Obj[];
    assert.deepEqual(objects.map((o) => o.kind), kinds);
    if (hosts.length) assert.deepEqual((objects[0] as unknown as ICertificate).spec?.dnsNames, hosts);
  }
});

test('a MailDomain built against a server it does not name is refused', () => {
  const cases = [
    { md: mailDomain({ serverRef: 'gromox' }), server: mapiServer() },
    { md: mailDomain({}, 'example-com', 'other-ns'), server: mapiServer() },
  ];
  for (const { md, server } of cases) {
    assert.throws(() => desiredDomainObjects({ md, server, hosts: ['autodiscover.example.com'] }), /names spec.serverRef .* build its children with the server it names/);
  }
});
