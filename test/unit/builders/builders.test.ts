import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { mailDomain } from '../../support/fixtures.ts';
import {
  autodiscoverHosts, servedHosts, desiredCertificate, desiredIngress, desiredService, desiredDeployment,
  desiredPodTemplate, templateHash, desiredObjects, desiredAccessConfigMaps, shardOf, ACCESS_SHARDS,
  TEMPLATE_HASH_ANNOTATION, childNames,
} from '../../../src/builders/index.ts';

test('autodiscover hosts default to autodiscover.<domain> and one per alias', () => {
  const md = mailDomain({ aliases: ['example.org', 'example.net'] });
  assert.deepEqual(autodiscoverHosts(md.spec), [
    { domain: 'example.com', host: 'autodiscover.example.com' },
    { domain: 'example.org', host: 'autodiscover.example.org' },
    { domain: 'example.net', host: 'autodiscover.example.net' },
  ]);
  assert.deepEqual(servedHosts(md.spec), ['mail.example.com', 'autodiscover.example.com', 'autodiscover.example.org', 'autodiscover.example.net']);
});

test('explicit autodiscover hosts replace the defaults and are attributed to their mail domain', () => {
  const md = mailDomain({ aliases: ['example.org'], autodiscover: { hosts: ['ad.example.org', 'autodiscover.mail.example.com'] } });
  assert.deepEqual(autodiscoverHosts(md.spec), [
    { domain: 'example.org', host: 'ad.example.org' },
    { domain: 'example.com', host: 'autodiscover.mail.example.com' },
  ]);
});

test('Certificate: SANs are externalHost and every autodiscover host; follows aliases added and removed', () => {
  const before = mailDomain({ aliases: ['example.org'] });
  const cert = desiredCertificate(before, servedHosts(before.spec));
  assert.deepEqual(cert.spec?.dnsNames, ['mail.example.com', 'autodiscover.example.com', 'autodiscover.example.org']);
  assert.equal(cert.spec?.secretName, 'example-com-tls');
  assert.deepEqual(cert.spec?.issuerRef, { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  assert.equal(cert.metadata?.ownerReferences?.[0]?.uid, 'uid-example-com');
  new Certificate(cert).validate(); // cert-manager's own schema accepts it

  const added = mailDomain({ aliases: ['example.org', 'example.net'] });
  assert.deepEqual(desiredCertificate(added, servedHosts(added.spec)).spec?.dnsNames?.at(-1), 'autodiscover.example.net');
  const removed = mailDomain({ aliases: [] });
  assert.deepEqual(desiredCertificate(removed, servedHosts(removed.spec)).spec?.dnsNames, ['mail.example.com', 'autodiscover.example.com']);
});

test('Certificate honours tls.secretName and a namespaced Issuer', () => {
  const md = mailDomain({ tls: { issuerRef: { name: 'internal-ca', kind: 'Issuer' }, secretName: 'custom-tls' } });
  const cert = desiredCertificate(md, ['mail.example.com']);
  assert.equal(cert.spec?.secretName, 'custom-tls');
  assert.equal(cert.spec?.issuerRef.kind, 'Issuer');
});

test('Ingress: a rule per host with /mapi, /autodiscover, /ews, /oab to the Service; TLS from the Certificate Secret', () => {
  const md = mailDomain({ aliases: ['example.org'] });
  const hosts = servedHosts(md.spec);
  const ing = desiredIngress(md, hosts);
  assert.deepEqual(ing.spec?.rules?.map((r) => r.host), hosts);
  for (const rule of ing.spec?.rules ?? []) {
    assert.deepEqual(rule.http?.paths.map((p) => p.path), ['/mapi', '/autodiscover', '/ews', '/oab']);
    for (const p of rule.http?.paths ?? []) {
      assert.equal(p.backend.service?.name, 'example-com-mapi');
      assert.equal(p.pathType, 'Prefix');
    }
  }
  assert.deepEqual(ing.spec?.tls, [{ hosts, secretName: 'example-com-tls' }]);
  assert.equal(ing.spec?.ingressClassName, undefined);
  assert.equal(ing.metadata?.annotations, undefined);
});

test('Ingress: ingress-nginx gets no buffering and long reads on /mapi; user annotations win and pass through', () => {
  const md = mailDomain({ ingress: { className: 'nginx', annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '900', 'team/owner': 'mail' } } });
  const a = desiredIngress(md, ['mail.example.com']).metadata?.annotations ?? {};
  assert.equal(a['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  assert.equal(a['nginx.ingress.kubernetes.io/proxy-request-buffering'], 'off');
  assert.equal(a['nginx.ingress.kubernetes.io/proxy-read-timeout'], '900');
  assert.ok(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout']) >= 330);
  assert.equal(a['team/owner'], 'mail');
  const other = mailDomain({ ingress: { className: 'traefik', annotations: {} } });
  assert.equal(desiredIngress(other, ['mail.example.com']).metadata?.annotations, undefined);
});

test('mapi.enabled=false: /mapi leaves the Ingress, the other paths and the Certificate stay, Deployment at 0', () => {
  const md = mailDomain({ mapi: { image: 'x:1', enabled: false } });
  const ing = desiredIngress(md, servedHosts(md.spec));
  assert.deepEqual(ing.spec?.rules?.[0]?.http?.paths.map((p) => p.path), ['/autodiscover', '/ews', '/oab']);
  const objs = desiredObjects({ md, hosts: servedHosts(md.spec), deployment: { replicas: 0, template: desiredPodTemplate(md) }, mailboxes: [] });
  assert.ok(objs.some((o) => (o as { kind: string }).kind === 'Certificate'));
});

test('Service targets the MAPI port by name; Deployment carries image, port, env, resources, replicas and the access mount', () => {
  const md = mailDomain({
    mapi: { image: 'registry.example/bm-mapi:4.1.1', port: 8443, replicas: 3, env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }], resources: { limits: { memory: '2Gi' } } },
  });
  const svc = desiredService(md);
  assert.deepEqual(svc.spec?.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  assert.deepEqual(svc.spec?.selector, { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': 'example-com' });
  const template = desiredPodTemplate(md);
  const dep = desiredDeployment(md, { replicas: 3, template });
  assert.equal(dep.spec?.replicas, 3);
  const c = dep.spec?.template.spec?.containers[0];
  assert.equal(c?.image, 'registry.example/bm-mapi:4.1.1');
  assert.equal(c?.ports?.[0]?.containerPort, 8443);
  assert.deepEqual(c?.env, [{ name: 'JAVA_OPTS', value: '-Xmx1g' }]);
  assert.deepEqual(c?.resources, { limits: { memory: '2Gi' } });
  assert.deepEqual(c?.volumeMounts, [{ name: 'mapi-access', mountPath: '/etc/mapi-operator/access', readOnly: true }]);
  const sources = dep.spec?.template.spec?.volumes?.[0]?.projected?.sources ?? [];
  assert.equal(sources.length, 1 + ACCESS_SHARDS);
  assert.equal(sources[0]?.configMap?.name, childNames(md).accessConfigMap);
  assert.deepEqual(dep.spec?.selector.matchLabels, svc.spec?.selector);
});

test('template hash: stable for the same spec, changes with the image, ignores replicas', () => {
  const a = desiredPodTemplate(mailDomain({ mapi: { image: 'x:1', replicas: 1 } }));
  const b = desiredPodTemplate(mailDomain({ mapi: { image: 'x:1', replicas: 5 } }));
  const c = desiredPodTemplate(mailDomain({ mapi: { image: 'x:2' } }));
  assert.equal(a.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION], b.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION]);
  assert.notEqual(a.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION], c.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION]);
  assert.equal(templateHash(a), a.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION]);
});

test('access ConfigMaps: index plus fixed shards; every mailbox in exactly one shard, effective value kept', () => {
  const md = mailDomain();
  const mailboxes = Array.from({ length: 500 }, (_, i) => ({ address: `user${i}@example.com`, mapiEnabled: i % 3 !== 0 }));
  const cms = desiredAccessConfigMaps(md, mailboxes);
  assert.equal(cms.length, 1 + ACCESS_SHARDS);
  const index = JSON.parse(cms[0]!.data!['access.json']!);
  assert.equal(index.format, 'mapi-operator.io/access/v1');
  assert.equal(index.mapiEnabled, true);
  const merged: Record<string, boolean> = {};
  cms.slice(1).forEach((cm, i) => {
    const entries = JSON.parse(Object.values(cm.data!)[0]!) as Record<string, boolean>;
    for (const addr of Object.keys(entries)) assert.equal(shardOf(addr), i);
    Object.assign(merged, entries);
  });
  assert.equal(Object.keys(merged).length, 500);
  assert.equal(merged['user3@example.com'], false);
  assert.equal(merged['user4@example.com'], true);
  const sizes = cms.slice(1).map((cm) => Object.values(cm.data!)[0]!.length);
  assert.ok(Math.min(...sizes) > 0, 'hash spreads addresses over all shards');
});

test('desiredObjects: with every host claimed elsewhere there is no Certificate and no Ingress', () => {
  const md = mailDomain();
  const objs = desiredObjects({ md, hosts: [], deployment: { replicas: 0, template: desiredPodTemplate(md) }, mailboxes: [] }) as { kind: string; spec?: { rules?: unknown[] } }[];
  assert.equal(objs.filter((o) => o.kind === 'Certificate').length, 0);
  assert.equal(objs.filter((o) => o.kind === 'Ingress').length, 0);
  assert.deepEqual(objs.map((o) => o.kind).filter((k) => k !== 'ConfigMap'), ['Service', 'Deployment']);
});
