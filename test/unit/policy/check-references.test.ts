// Each unusable checks reference gets its own reason naming the field and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caBundleReference, probeCredentialsReference } from '../../../src/policy/check-references.ts';
import { createTestPki } from '../../../src/dev/pki.ts';

const ref = { kind: 'ConfigMap' as const, name: 'test-ca', key: 'ca.crt' };
const reasonOf = (r: ReturnType<typeof caBundleReference>) => ('problem' in r ? `${r.problem.reason}: ${r.problem.message}` : 'usable');

test('caBundle: missing, key missing, no PEM, bad PEM, good', () => {
  const pki = createTestPki('check-references');
  try {
    assert.match(reasonOf(caBundleReference(ref, { found: false })), /^CaBundleNotFound: spec\.checks\.caBundle\.configMapKeyRef: ConfigMap test-ca does not exist.*create it/);
    assert.match(reasonOf(caBundleReference(ref, { found: true, value: undefined })), /^CaBundleKeyMissing: .*no key ca\.crt/);
    assert.match(reasonOf(caBundleReference(ref, { found: true, value: 'just text' })), /^CaBundleNoPem: .*BEGIN CERTIFICATE/);
    assert.match(reasonOf(caBundleReference(ref, { found: true, value: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })), /^CaBundleBadPem: .*not a valid X\.509/);
    assert.deepEqual(caBundleReference(ref, { found: true, value: pki.rootPem }), { pem: pki.rootPem });
    assert.match(reasonOf(caBundleReference({ ...ref, kind: 'Secret' }, { found: false })), /secretKeyRef: Secret test-ca/);
  } finally {
    pki.cleanup();
  }
});

test('probeCredentials: missing Secret, missing keys, complete', () => {
  const absent = { found: false } as const;
  const has = (value: string) => ({ found: true, value }) as const;
  const none = { found: true, value: undefined } as const;
  const r1 = probeCredentialsReference('probe', { username: absent, password: absent, address: absent });
  assert.ok('problem' in r1 && r1.problem.reason === 'ProbeCredentialsNotFound' && /spec\.checks\.probeCredentials\.secretName: Secret probe does not exist/.test(r1.problem.message));
  const r2 = probeCredentialsReference('probe', { username: has('u'), password: none, address: none });
  assert.ok('problem' in r2 && r2.problem.reason === 'ProbeCredentialsIncomplete' && /lacks password, address/.test(r2.problem.message));
  assert.deepEqual(probeCredentialsReference('probe', { username: has('u'), password: has('p'), address: has('u@example.com') }), { credentials: { username: 'u', password: 'p', address: 'u@example.com' } });
});
