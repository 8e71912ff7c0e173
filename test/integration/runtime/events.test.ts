import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from '../../../src/kube/events.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';
import { createConfigMap, createNamespace, deleteNamespace, sharedClient, testLogger } from './helpers.ts';

interface K8sEvent {
  metadata: { name: string };
  reason: string;
  note: string;
  type: string;
  action: string;
  reportingController: string;
  reportingInstance: string;
  regarding: { kind: string; name: string; namespace: string; uid: string };
  series?: { count: number; lastObservedTime: string };
}

describe('event recorder', () => {
  let client: KubeClient;
  let ns: string;
  let cm: KubeObject;
  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'events');
    await createConfigMap(client, ns, 'subject');
    cm = { apiVersion: 'v1', kind: 'ConfigMap', ...(await client.request<KubeObject>({ path: `/api/v1/namespaces/${ns}/configmaps/subject` })) };
  });
  after(async () => {
    await deleteNamespace(client, ns);
  });

  const listEvents = async () =>
    (await client.request<{ items: K8sEvent[] }>({ path: `/apis/events.k8s.io/v1/namespaces/${ns}/events` })).items;

  it('writes an events.k8s.io/v1 Event about the object and aggregates repeats into a series', async () => {
    const recorder = new EventRecorder({ client, instance: 'test-instance', logger: testLogger, seriesUpdateMs: 0 });
    await recorder.warning(cm, 'AutodiscoverNotPublished', 'autodiscover.example.org has no record', 'CheckDNS');
    await recorder.warning(cm, 'AutodiscoverNotPublished', 'autodiscover.example.org has no record', 'CheckDNS');
    await recorder.warning(cm, 'AutodiscoverNotPublished', 'autodiscover.example.org has no record', 'CheckDNS');
    await recorder.normal(cm, 'Applied', 'applied 3 objects');
    await recorder.flush();
    const events = await listEvents();
    const warnings = events.filter((e) => e.reason === 'AutodiscoverNotPublished');
    assert.equal(warnings.length, 1, 'three repeats make one Event, not three');
    const w = warnings[0] as K8sEvent;
    assert.equal(w.type, 'Warning');
    assert.equal(w.action, 'CheckDNS');
    assert.equal(w.note, 'autodiscover.example.org has no record');
    assert.equal(w.reportingController, 'mapi-operator');
    assert.equal(w.reportingInstance, 'test-instance');
    assert.deepEqual([w.regarding.kind, w.regarding.name, w.regarding.namespace, w.regarding.uid], ['ConfigMap', 'subject', ns, cm.metadata.uid]);
    assert.equal(w.series?.count, 3);
    assert.equal(events.filter((e) => e.reason === 'Applied').length, 1);
  });

  it('never throws into the caller, even for a bad reason or an unreachable object', async () => {
    const recorder = new EventRecorder({ client, instance: 'test-instance', logger: testLogger.child({}, { level: 'silent' }) });
    await recorder.normal(cm, 'not camel case', 'x');
    await recorder.normal({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'no-such-namespace-zz' } }, 'Orphan', 'x');
  });
});
