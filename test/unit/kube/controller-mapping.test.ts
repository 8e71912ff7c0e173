import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { meaningfulUpdate, ownerKeys } from '../../../src/kube/controller.ts';
import type { KubeObject } from '../../../src/kube/client.ts';

const owned = (refs: Array<{ apiVersion: string; kind: string; name: string }>, namespace = 'mail'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace, ownerReferences: refs.map((r) => ({ ...r, uid: `uid-${r.name}` })) },
});

describe('ownerKeys', () => {
  const cases = [
    { name: 'maps an owner of the primary kind to its key', refs: [{ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', name: 'example-com' }], want: ['mail/example-com'] },
    { name: 'matches the group whatever the version', refs: [{ apiVersion: 'mapi-operator.io/v1beta1', kind: 'MailDomain', name: 'a' }], want: ['mail/a'] },
    { name: 'ignores owners of another kind', refs: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs' }], want: [] },
    { name: 'ignores the same kind in another group', refs: [{ apiVersion: 'other.io/v1', kind: 'MailDomain', name: 'a' }], want: [] },
    { name: 'keeps every matching owner', refs: [{ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', name: 'a' }, { apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', name: 'b' }], want: ['mail/a', 'mail/b'] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(ownerKeys(owned(c.refs), 'mapi-operator.io/v1alpha1', 'MailDomain'), c.want));
  }
  it('maps to a bare name for a cluster-scoped primary kind', () => {
    assert.deepEqual(ownerKeys(owned([{ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', name: 'a' }]), 'mapi-operator.io/v1alpha1', 'MailDomain', false), ['a']);
  });
});

describe('meaningfulUpdate', () => {
  const base: KubeObject = { metadata: { name: 'a', generation: 1, resourceVersion: '1', labels: { a: '1' } } };
  const cases: Array<{ name: string; next: KubeObject; want: boolean }> = [
    { name: 'status-only change (same generation) is not', next: { ...base, metadata: { ...base.metadata, resourceVersion: '2' }, status: { x: 1 } }, want: false },
    { name: 'spec change (new generation) is', next: { ...base, metadata: { ...base.metadata, generation: 2, resourceVersion: '2' } }, want: true },
    { name: 'label change is', next: { ...base, metadata: { ...base.metadata, labels: { a: '2' }, resourceVersion: '2' } }, want: true },
    { name: 'deletion is', next: { ...base, metadata: { ...base.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '2' } }, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(meaningfulUpdate(base, c.next), c.want));
  it('any change counts for kinds without a generation', () => {
    const cm: KubeObject = { metadata: { name: 'cm', resourceVersion: '1' } };
    assert.equal(meaningfulUpdate(cm, { metadata: { name: 'cm', resourceVersion: '2' } }), true);
    assert.equal(meaningfulUpdate(cm, cm), false);
  });
});
