import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { applyObject, applyStatus, applyStatusIfChanged, patchStatus } from '../../../src/kube/apply.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { createNamespace, deleteNamespace, ensureWidgetCrd, sharedClient, widgets } from './helpers.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('server-side apply', () => {
  let client: KubeClient;
  let ns: string;
  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'apply');
    await ensureWidgetCrd(client);
  });
  after(async () => {
    await deleteNamespace(client, ns);
  });

  it('creates and updates with our field manager, and drops fields we stop applying', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns, labels: { app: 'x' } }, data: { a: '1', b: '2' } };
    const created = await applyObject<ConfigMap>(client, cm);
    assert.deepEqual(created.data, { a: '1', b: '2' });
    const updated = await applyObject<ConfigMap>(client, { ...cm, data: { a: '3' } });
    assert.deepEqual(updated.data, { a: '3' }, 'b is gone: we owned it and no longer apply it');
    const entries = updated.metadata.managedFields ?? [];
    const ours = entries.find((m) => m.manager === 'mapi-operator');
    assert.ok(ours, `managedFields: ${JSON.stringify(entries.map((m) => m.manager))}`);
    assert.equal(ours.operation, 'Apply');
    assert.ok(JSON.stringify(ours.fieldsV1).includes('f:a'), 'we own data.a');
  });

  it('leaves fields of other managers alone and takes over conflicting ones with force', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: ns }, data: { ours: '1' } };
    await applyObject(client, cm);
    await applyObject(client, { ...cm, data: { theirs: 'x', ours: 'theirs-value' } }, { fieldManager: 'someone-else' });
    const after = await applyObject<ConfigMap>(client, cm);
    assert.equal(after.data?.theirs, 'x', 'another manager’s field stays');
    assert.equal(after.data?.ours, '1', 'force takes our field back');
  });

  it('names the object and the field when the apiserver rejects an apply', async () => {
    await assert.rejects(
      applyObject(client, { apiVersion: widgets.group + '/v1', kind: 'Widget', metadata: { name: 'bad', namespace: ns }, spec: { size: 0 } }),
      (err: unknown) => {
        assert.ok(err instanceof KubeApiError, String(err));
        assert.equal(err.statusCode, 422);
        assert.match(err.message, new RegExp(`Widget ${ns}/bad`));
        assert.match(err.message, /spec\.size/);
        assert.ok(err.causes.some((c) => c.field === 'spec.size'), JSON.stringify(err.causes));
        return true;
      },
    );
  });

  it('writes status through the status subresource, only when it changed', async () => {
    const widget = await applyObject(client, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 1 } });
    const cond = (status: string, time: string) => ({ type: 'Ready', status, reason: 'Tested', message: 'm', lastTransitionTime: time });
    const first = await applyStatus(client, widget, { observedGeneration: 1, conditions: [cond('True', '2026-01-01T00:00:00Z')] });
    assert.equal((first.status as { conditions: Array<{ status: string }> }).conditions[0]?.status, 'True');
    assert.equal(first.metadata.generation, widget.metadata.generation, 'a status write does not bump generation');

    const same = await applyStatusIfChanged(client, first, { observedGeneration: 1, conditions: [cond('True', '2026-06-01T00:00:00Z')] });
    assert.equal(same.written, false, 'a fresh lastTransitionTime alone is no change');
    assert.equal(same.object.metadata.resourceVersion, first.metadata.resourceVersion);

    const flipped = await applyStatusIfChanged(client, first, { observedGeneration: 1, conditions: [cond('False', '2026-06-01T00:00:00Z')] });
    assert.equal(flipped.written, true);
    const conds = (flipped.object.status as { conditions: Array<{ status: string; lastTransitionTime: string }> }).conditions;
    assert.deepEqual([conds[0]?.status, conds[0]?.lastTransitionTime], ['False', '2026-06-01T00:00:00Z']);

    const patched = await patchStatus(client, widgets, ns, 'w1', { extra: 'merged' }, { resourceVersion: flipped.object.metadata.resourceVersion });
    assert.equal((patched.status as { extra: string; observedGeneration: number }).extra, 'merged');
    assert.equal((patched.status as { observedGeneration: number }).observedGeneration, 1, 'a merge patch keeps other fields');
    await assert.rejects(
      patchStatus(client, widgets, ns, 'w1', { extra: 'stale' }, { resourceVersion: flipped.object.metadata.resourceVersion }),
      (err: unknown) => err instanceof KubeApiError && err.statusCode === 409,
      'a stale resourceVersion conflicts',
    );
  });
});
