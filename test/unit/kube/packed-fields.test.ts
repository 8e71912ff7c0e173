// A field kept packed (a MailDomain's status; a Certificate's or Ingress's spec and status)
// reads back as it came, through every way the operator reads a cached object (a property
// read, a spread, JSON, a deep comparison, a parse), stays packed across versions, and costs a
// fraction of the object it replaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { FieldPacker } from '../../../src/kube/index.ts';
import { isPacked, keepPackedBytes } from '../../../src/kube/packed-fields.ts';
import { keepUnchangedParts } from '../../../src/kube/informer.ts';
import { requestTransform } from '../../../src/kube/manager.ts';
import type { KubeObject } from '../../../src/kube/index.ts';
import { certificatePacker, ingressPacker } from '../../../src/controllers/packed-children.ts';
import { autodiscoverCertificate, autodiscoverIngress } from '../../../bench/memory/fixtures.ts';
import { mailDomainStatusPacker } from '../../../src/controllers/maildomain/packed-status.ts';
import { parseMailDomain } from '../../../src/api/parse.ts';
import { settledHeap } from '../../support/gc.ts';

const readyStatus = (i: number) => {
  const host = `autodiscover.d${i}.hoster.example`;
  const at = `2026-12-0${1 + (i % 9)}T10:${String(i % 60).padStart(2, '0')}:00Z`;
  return {
    autodiscoverURLs: [`https://${host}/autodiscover/autodiscover.xml`],
    checks: [
      { lastTransitionTime: at, message: 'Certificate is up to date and has not expired', name: 'certificate', reason: 'Ready', status: 'Passed' },
      { lastTransitionTime: at, message: `${host} resolves to 192.0.2.10, the address of mail.hoster.example`, name: `dns/${host}`, reason: 'AddressOfExternalHost', status: 'Passed' },
      { lastTransitionTime: at, message: `${host}: trusted certificate for ${host}, valid until 2027-03-01T00:00:00.000Z`, name: `tls/${host}`, reason: 'CertificateValid', status: 'Passed' },
    ],
    conditions: ['Accepted', 'CertificateReady', 'AutodiscoverPublished', 'ChecksPassed', 'Ready'].map((type) => ({ lastTransitionTime: at, message: `${type} for d${i}.hoster.example (require: Any)`, observedGeneration: 1, reason: type, status: 'True', type })),
    observedGeneration: 1,
  };
};
const mailDomain = (i: number) => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain',
  metadata: { name: `d${i}`, namespace: 'hosted', generation: 1, resourceVersion: String(100 + i) },
  spec: { domain: `d${i}.hoster.example`, serverRef: 'mapi', aliases: [], autodiscover: { hosts: [], require: 'Any' }, mapi: { enabled: true }, tls: {} },
});

test('a packed status reads back as it came: property, spread, JSON, deep comparison', () => {
  const status = readyStatus(7);
  const obj = mailDomainStatusPacker.attach(mailDomain(7), { status: structuredClone(status) });
  assert.ok(isPacked(obj, 'status'));
  assert.deepEqual(obj.status, status);
  assert.notEqual(obj.status, obj.status, 'each read builds its own copy: a reader cannot change the cache');
  assert.deepEqual({ ...obj }.status, status);
  assert.deepEqual(JSON.parse(JSON.stringify(obj)), { ...mailDomain(7), status });
  assert.ok(isDeepStrictEqual(obj, { ...mailDomain(7), status }), 'the bytes are not an enumerable property');
  assert.deepEqual(Object.keys(obj), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
});

test('assigning a status replaces the packed one', () => {
  const obj = mailDomainStatusPacker.attach(mailDomain(1), { status: readyStatus(1) as unknown });
  obj.status = { observedGeneration: 2 };
  assert.deepEqual(obj.status, { observedGeneration: 2 });
  assert.equal(isPacked(obj, 'status'), false);
});

test('a parse of a packed object keeps the status packed, and reads it back', () => {
  const status = readyStatus(3);
  const parsed = parseMailDomain(mailDomainStatusPacker.attach(mailDomain(3), { status: structuredClone(status) }));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
  assert.ok(isPacked(parsed.value, 'status'), 'the parse holds the bytes, not a status object');
  assert.deepEqual(parsed.value.status, status);
  assert.equal(parsed.value.spec.domain, 'd3.hoster.example');
});

test('any JSON value packs and reads back, with any dictionary', () => {
  const packer = new FieldPacker('test', ['status'], 'unrelated words');
  const large = { message: Array.from({ length: 4_000 }, (_, i) => `row ${i} of a status larger than zlib's output chunks`).join('; ') };
  for (const value of [{}, [], null, 0, 'text', { nested: { list: [1, 'two', { three: true }] } }, { unicode: 'é 中 🙂' }, large]) {
    assert.deepEqual(packer.unpack(packer.pack(value)), value);
  }
});

test('5,000 packed statuses hold under a quarter of what the status objects held', () => {
  const n = 5_000;
  // The statuses as the informer holds them otherwise: parsed from JSON, every string its own.
  const base = settledHeap();
  const plain = Array.from({ length: n }, (_, i) => JSON.parse(JSON.stringify(readyStatus(i))) as unknown);
  const plainBytes = settledHeap() - base;
  const packed = Array.from({ length: n }, (_, i) => mailDomainStatusPacker.pack(plain[i]));
  plain.length = 0;
  const packedBytes = settledHeap() - base;
  assert.equal(packed.length, n);
  assert.ok(packedBytes < plainBytes / 4, `packed ${packedBytes} B against ${plainBytes} B as objects`);
});

test('a Certificate and an Ingress as the informers keep them: spec and status packed, metadata as it came, the same content', () => {
  for (const [make, packer] of [[autodiscoverCertificate, certificatePacker], [autodiscoverIngress, ingressPacker]] as const) {
    const served = make(12);
    const cached = requestTransform({ pack: packer })(JSON.parse(JSON.stringify(served)) as KubeObject);
    assert.ok(isPacked(cached, 'spec') && isPacked(cached, 'status'), `${served.kind}: both packed`);
    assert.equal(isPacked(cached, 'metadata'), false);
    assert.deepEqual(cached, served, `${served.kind}: reads back as served`);
    assert.deepEqual(Object.keys(cached), Object.keys(served), `${served.kind}: the same fields, in order`);
  }
});

test('a new version with the same spec keeps it packed, as the old version\'s bytes; a changed spec is its own', () => {
  const transform = requestTransform({ pack: certificatePacker });
  const parse = (o: KubeObject) => transform(JSON.parse(JSON.stringify(o)) as KubeObject);
  const old = parse(autodiscoverCertificate(5));
  // A status write: the same spec, another status and resourceVersion.
  const next = autodiscoverCertificate(5) as KubeObject & { status: { revision: number } };
  next.status.revision = 2;
  next.metadata.resourceVersion = '999999';
  const kept = keepUnchangedParts(old, parse(next));
  assert.ok(isPacked(kept, 'spec'), 'not unpacked by sharing');
  assert.ok(keepPackedBytes(old, kept, 'spec'), 'the same bytes');
  assert.deepEqual((kept as { spec?: unknown }).spec, autodiscoverCertificate(5).spec);
  assert.equal((kept as unknown as typeof next).status.revision, 2);
  // A spec change is kept as received.
  const renamed = autodiscoverCertificate(5) as KubeObject & { spec: { secretName: string } };
  renamed.spec.secretName = 'other-tls';
  const changed = keepUnchangedParts(old, parse(renamed));
  assert.equal(keepPackedBytes(old, changed, 'spec'), false);
  assert.equal((changed as unknown as typeof renamed).spec.secretName, 'other-tls');
});

test('a packer refuses a field it was not made for', () => {
  assert.throws(() => mailDomainStatusPacker.attach({}, { spec: {} }), /spec is not one of its fields \(status\)/);
});
