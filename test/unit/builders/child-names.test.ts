// Child names and label values for every valid resource name: a MapiServer or MailDomain may be
// named with any DNS subdomain (253 characters, dots, a leading digit); its Service,
// Deployment, Certificate, Ingress and ConfigMaps must still get names the apiserver accepts,
// and its labels values of at most 63 characters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessShardName, childName, commonLabels, domainChildNames, labelValue, selectorLabels, serverChildNames } from '../../../src/builders/names.ts';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const long = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
const names = ['mapi', 'a', '1abc', 'mail.example.com', 'x'.repeat(58), 'x'.repeat(59), 'x'.repeat(63), long, 'a-b.c-d', '0.0'];

const server = (name: string) => ({ metadata: { name, namespace: 'ns', uid: 'u' }, spec: { tls: { issuerRef: { name: 'i', kind: 'Issuer' as const } } } });
const domain = (name: string) => ({ metadata: { name, namespace: 'ns', uid: 'u' }, spec: { serverRef: long, tls: { issuerRef: { name: 'i', kind: 'Issuer' as const } } } });

test('short plain names keep the readable form they always had', () => {
  assert.deepEqual(serverChildNames(server('mapi') as never), {
    certificate: 'mapi-mapi', tlsSecret: 'mapi-mapi-tls', ingress: 'mapi-mapi', service: 'mapi-mapi', deployment: 'mapi-mapi', pdb: 'mapi-mapi', accessConfigMap: 'mapi-mapi-access',
  });
  assert.equal(accessShardName(server('mapi') as never, 3), 'mapi-mapi-access-3');
  assert.deepEqual(domainChildNames(domain('example') as never), { certificate: 'example-autodiscover', tlsSecret: 'example-autodiscover-tls', ingress: 'example-autodiscover' });
});

test('every child name is a DNS-1035 label of at most 63 characters, for every valid owner name', () => {
  for (const n of names) {
    const all = [...Object.values(serverChildNames(server(n) as never)), accessShardName(server(n) as never, 15), ...Object.values(domainChildNames(domain(n) as never))];
    for (const child of all) {
      assert.ok(child.length <= 63, `${child} (${child.length}) from ${n}`);
      assert.match(child, DNS_LABEL, `${child} from ${n}`);
    }
  }
});

test('shortened names are stable and tell apart names that share their first 50 characters', () => {
  assert.equal(childName(long, 'mapi'), childName(long, 'mapi'));
  assert.notEqual(childName(`${'x'.repeat(60)}a`, 'mapi'), childName(`${'x'.repeat(60)}b`, 'mapi'));
  assert.notEqual(childName('a.b', 'mapi'), childName('a-b', 'mapi'), 'a dotted name does not collide with its dashed twin');
  assert.equal(childName('a-b', 'mapi'), 'a-b-mapi');
});

test('label values fit 63 characters and stay valid', () => {
  for (const n of names) {
    const values = [labelValue(n), ...Object.values(selectorLabels(server(n) as never)), ...Object.values(commonLabels({ kind: 'MailDomain', ...domain(n) } as never))];
    for (const v of values) {
      assert.ok(v.length <= 63, `${v} from ${n}`);
      assert.match(v, LABEL_VALUE, `${v} from ${n}`);
    }
  }
  assert.equal(labelValue('mapi'), 'mapi');
  assert.notEqual(labelValue(`${'y'.repeat(64)}a`), labelValue(`${'y'.repeat(64)}b`));
});
