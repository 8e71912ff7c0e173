import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  serverChildNames, domainChildNames, accessShardName, commonLabels, selectorLabels, ownerReference, childMetadata,
  FIELD_MANAGER, TEMPLATE_HASH_ANNOTATION, ACCESS_MOUNT_PATH,
} from '../../../src/builders/names.ts';
import { mapiServer, mailDomain } from './fixtures.ts';

test('server child names: <name>-mapi everywhere, the TLS Secret overridable, shards numbered', () => {
  const cases = [
    { server: mapiServer(), tlsSecret: 'bluemind-mapi-tls' },
    { server: mapiServer({ tls: { issuerRef: { name: 'ca' }, secretName: 'own-tls' } }), tlsSecret: 'own-tls' },
  ];
  for (const { server, tlsSecret } of cases) {
    assert.deepEqual(serverChildNames(server), {
      certificate: 'bluemind-mapi', tlsSecret, ingress: 'bluemind-mapi', service: 'bluemind-mapi',
      deployment: 'bluemind-mapi', pdb: 'bluemind-mapi', accessConfigMap: 'bluemind-mapi-access',
    });
  }
  assert.equal(accessShardName(mapiServer(), 0), 'bluemind-mapi-access-0');
  assert.equal(accessShardName(mapiServer(), 63), 'bluemind-mapi-access-63');
});

test('MailDomain child names: <name>-autodiscover, the TLS Secret overridable', () => {
  const cases = [
    { md: mailDomain(), tlsSecret: 'example-com-autodiscover-tls' },
    { md: mailDomain({ tls: { secretName: 'ad-tls' } }), tlsSecret: 'ad-tls' },
  ];
  for (const { md, tlsSecret } of cases) {
    assert.deepEqual(domainChildNames(md), { certificate: 'example-com-autodiscover', tlsSecret, ingress: 'example-com-autodiscover' });
  }
});

test('labels: the server label on children of the server and of its MailDomains, the MailDomain label on its own', () => {
  const common = { 'app.kubernetes.io/managed-by': 'mapi-operator', 'app.kubernetes.io/part-of': 'mapi-operator', 'mapi-operator.io/mapiserver': 'bluemind' };
  const cases = [
    { owner: mapiServer(), labels: common },
    { owner: mailDomain(), labels: { ...common, 'mapi-operator.io/maildomain': 'example-com' } },
    { owner: mailDomain({ serverRef: 'gromox' }, 'other'), labels: { ...common, 'mapi-operator.io/mapiserver': 'gromox', 'mapi-operator.io/maildomain': 'other' } },
  ];
  for (const { owner, labels } of cases) assert.deepEqual(commonLabels(owner), labels);
  assert.deepEqual(selectorLabels(mapiServer()), { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': 'bluemind' });
});

test('owner references: either kind, controller and blockOwnerDeletion; a clear error without uid', () => {
  const cases = [
    { owner: mapiServer(), kind: 'MapiServer', name: 'bluemind' },
    { owner: mailDomain(), kind: 'MailDomain', name: 'example-com' },
  ];
  for (const { owner, kind, name } of cases) {
    assert.deepEqual(ownerReference(owner), { apiVersion: 'mapi-operator.io/v1alpha2', kind, name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true });
    const noUid = { ...owner, metadata: { ...owner.metadata, uid: undefined } };
    assert.throws(() => ownerReference(noUid), new RegExp(`^Error: ${kind} mail/${name} has no metadata.uid: build children only from an object read from the apiserver`));
  }
  const meta = childMetadata(mailDomain(), 'x', {});
  assert.equal(meta.namespace, 'mail');
  assert.equal(meta.annotations, undefined, 'no empty annotations map');
  assert.deepEqual(childMetadata(mapiServer(), 'x', { a: 'b' }).annotations, { a: 'b' });
});

test('exports the callers rely on keep their values', () => {
  assert.equal(FIELD_MANAGER, 'mapi-operator');
  assert.equal(TEMPLATE_HASH_ANNOTATION, 'mapi-operator.io/template-hash');
  assert.equal(ACCESS_MOUNT_PATH, '/etc/mapi-operator/access');
});
