// How the Mailbox controller reads its server's access list: each shard ConfigMap once per
// version, its entries as a Map (a parsed 100,000-key object took ~30 % more heap), a
// hand-edited shard as empty (the operator rewrites it), the shard count from the index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMapiServerSpec } from '../../../src/api/parse.ts';
import { desiredAccessConfigMaps } from '../../../src/builders/access.ts';
import { readAccessConfigMap } from '../../../src/controllers/mailbox/controller.ts';
import type { KubeObject } from '../../../src/kube/index.ts';

const spec = parseMapiServerSpec({ externalHost: 'mail.example.com', image: 'bm-mapi:5', tls: { issuerRef: { name: 'ca' } } });
if (!spec.ok) throw new Error(spec.message);
const server = { apiVersion: 'mapi-operator.io/v1alpha2' as const, kind: 'MapiServer' as const, metadata: { name: 's0', namespace: 'mail', uid: 'u' }, spec: spec.value };

describe('readAccessConfigMap', () => {
  it('the entries of the shard a ConfigMap holds, by lower-cased address, and the count from the index', () => {
    const [cm] = desiredAccessConfigMaps(server, { domains: [{ name: 'd', domains: ['example.com'], mapiEnabled: true }], mailboxes: [{ address: 'Ken@Example.com', mapiEnabled: true }, { address: 'pilar@example.com', mapiEnabled: false }] });
    const read = readAccessConfigMap(cm as unknown as KubeObject);
    assert.equal(read.count, 1);
    assert.deepEqual([...read.entries], [['ken@example.com', true], ['pilar@example.com', false]]);
    assert.equal(readAccessConfigMap(cm as unknown as KubeObject), read, 'read once per object version');
  });

  it('keys the entries by the string `canonical` gives for each address (the one the cache holds)', () => {
    const [cm] = desiredAccessConfigMaps(server, { domains: [{ name: 'd', domains: ['example.com'], mapiEnabled: true }], mailboxes: [{ address: 'ken@example.com', mapiEnabled: true }, { address: 'pilar@example.com', mapiEnabled: false }] });
    const asked: string[] = [];
    const read = readAccessConfigMap(cm as unknown as KubeObject, (a) => { asked.push(a); return a === 'ken@example.com' ? 'ken@example.com' : a; });
    assert.deepEqual(asked.sort(), ['ken@example.com', 'pilar@example.com'], 'asked once per address');
    assert.deepEqual([...read.entries], [['ken@example.com', true], ['pilar@example.com', false]]);
  });

  it('a hand-edited shard that is no JSON reads as empty; no ConfigMap, empty', () => {
    const broken = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's0-mapi-access', namespace: 'mail' }, data: { 'access.json': '{"shards":{"count":1}}', 'mailboxes-0.json': '{"ken@example.com":tr' } } as unknown as KubeObject;
    assert.equal(readAccessConfigMap(broken).entries.size, 0);
    assert.equal(readAccessConfigMap(undefined).entries.size, 0);
  });
});
