// applyPlan against a fake apiserver (pure logic: which requests, in how many sequential round
// trips). The same safety on the real control plane is test/security/ownership.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlan, type PlanToApply } from '../../../src/controllers/apply-plan.ts';
import { withAppliedHash } from '../../../src/controllers/drift.ts';
import { KubeApiError } from '../../../src/kube/errors.ts';
import type { Informer, KubeObject, Manager, ReconcileContext, RequestOptions } from '../../../src/kube/index.ts';

const NS = 'mail';
const OWNER_UID = 'uid-example';
const owner: KubeObject = { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: 'example', namespace: NS, uid: OWNER_UID, generation: 1 }, status: {} };
const ownerRef = { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', name: 'example', uid: OWNER_UID, controller: true };

const certificate = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'example-autodiscover', namespace: NS, ownerReferences: [ownerRef] }, spec: { secretName: 'example-autodiscover-tls', dnsNames: ['autodiscover.example.com'] } };
const ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'example-autodiscover', namespace: NS, ownerReferences: [ownerRef] }, spec: { tls: [{ secretName: 'example-autodiscover-tls', hosts: ['autodiscover.example.com'] }] } };
const plan = (): PlanToApply => ({
  apply: [ingress, certificate], prune: [], events: [],
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Pending', message: 'on its way', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
});

const PLURALS: Record<string, string> = { Certificate: 'certificates', Ingress: 'ingresses', Secret: 'secrets', MailDomain: 'maildomains', ConfigMap: 'configmaps', Deployment: 'deployments' };

/**
 * A fake apiserver that answers each request a moment later and counts round trips: a request
 * that starts while none is in flight opens a new one (requests sent together share one).
 */
function fakeApiserver(objects: Record<string, KubeObject> = {}, failing: (method: string, path: string) => boolean = () => false) {
  const requests: Array<{ method: string; path: string; roundTrip: number; body?: unknown }> = [];
  let inFlight = 0;
  let roundTrips = 0;
  const client = {
    async resourceFor(apiVersion: string, kind: string) {
      const slash = apiVersion.indexOf('/');
      return { group: slash < 0 ? '' : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), plural: PLURALS[kind]!, namespaced: true, kind };
    },
    async request<T>(opts: RequestOptions): Promise<T> {
      if (inFlight === 0) roundTrips++;
      inFlight++;
      const method = opts.method ?? 'GET';
      requests.push({ method, path: opts.path, roundTrip: roundTrips, body: opts.body });
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      if (failing(method, opts.path)) throw new KubeApiError({ statusCode: 500, request: `${method} ${opts.path}`, body: '' });
      if (method !== 'GET') return {} as T;
      const found = objects[opts.path];
      if (!found) throw new KubeApiError({ statusCode: 404, request: `GET ${opts.path}`, body: '' });
      return found as T;
    },
  };
  const events: string[] = [];
  const manager = { client, events: { record: async (_o: KubeObject, _t: string, reason: string) => { events.push(reason); } } } as unknown as Manager;
  return { manager, requests, events, roundTrips: () => roundTrips };
}

const noCache = (): Informer<KubeObject> | undefined => undefined;
const ctx = (): ReconcileContext => ({ log: { warn() {}, debug() {} } as unknown as ReconcileContext['log'], signal: new AbortController().signal });
const path = (plural: string, name: string, group = '') => `${group ? `/apis/${group}` : '/api/v1'}/namespaces/${NS}/${plural}/${name}`;

describe('applyPlan', () => {
  it('a new MailDomain\'s children take two round trips: the reads together, then the applies and its status together', async () => {
    const api = fakeApiserver();
    const result = await applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() });
    assert.equal(result.applied, 2);
    assert.equal(result.statusWritten, true);
    const byTrip = (n: number) => api.requests.filter((r) => r.roundTrip === n).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`).sort();
    assert.deepEqual(byTrip(1), ['GET certificates/example-autodiscover', 'GET ingresses/example-autodiscover', 'GET secrets/example-autodiscover-tls']);
    assert.deepEqual(byTrip(2), ['PATCH certificates/example-autodiscover', 'PATCH example/status', 'PATCH ingresses/example-autodiscover']);
    assert.equal(api.roundTrips(), 2, 'was 6: GET, GET Secret, PATCH per Certificate, then GET, PATCH per Ingress, then the status; then 3 with the status after the applies');
  });

  it('a new child whose apply fails: the status that went out with the applies is written again with the problem, and the error goes back to the queue', async () => {
    const api = fakeApiserver({}, (method, p) => method === 'PATCH' && p.includes('/ingresses/'));
    await assert.rejects(applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() }), /500|ingresses/);
    const statusWrites = api.requests.filter((r) => r.path.endsWith('/status'));
    assert.equal(statusWrites.length, 2);
    const conditions = (r: { body?: unknown }) => ((r.body as { status?: { conditions?: Array<{ type: string; status: string; message: string }> } }).status?.conditions ?? []);
    assert.equal(conditions(statusWrites[0]!).find((c) => c.type === 'Reconciling'), undefined, 'the early write: the plan\'s status');
    const reconciling = conditions(statusWrites[1]!).find((c) => c.type === 'Reconciling');
    assert.equal(reconciling?.status, 'True');
    assert.match(reconciling!.message, /applying Ingress example-autodiscover failed/);
    assert.ok(statusWrites[1]!.roundTrip > statusWrites[0]!.roundTrip, 'after the first, never beside it');
  });

  it('children that exist and changed: the status only after the applies (it must not run ahead of an update)', async () => {
    const live = new Map<string, KubeObject>();
    for (const o of [certificate, ingress] as KubeObject[]) live.set(o.kind!, { ...o, spec: { ...(o.spec as object), changed: true } });
    const cache = (kind: string) => ({ get: () => live.get(kind) }) as unknown as Informer<KubeObject>;
    const api = fakeApiserver();
    const result = await applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: cache, ctx: ctx() });
    assert.equal(result.applied, 2);
    const applyTrip = Math.max(...api.requests.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status')).map((r) => r.roundTrip));
    const statusTrip = api.requests.find((r) => r.path.endsWith('/status'))!.roundTrip;
    assert.ok(statusTrip > applyTrip, `status in round trip ${statusTrip}, applies in ${applyTrip}`);
  });

  it('the user\'s own Secret under tls.secretName: SecretInUse, and neither the Certificate nor the Ingress serving it goes out', async () => {
    const userSecret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'example-autodiscover-tls', namespace: NS } };
    const api = fakeApiserver({ [path('secrets', 'example-autodiscover-tls')]: userSecret });
    const result = await applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() });
    assert.equal(result.applied, 0);
    assert.deepEqual(api.requests.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status')), []);
    assert.deepEqual(api.events, ['SecretInUse']);
  });

  it('a Secret cert-manager issued for this Certificate is ours to keep renewing', async () => {
    const issued: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'example-autodiscover-tls', namespace: NS, annotations: { 'cert-manager.io/certificate-name': 'example-autodiscover' } } };
    const api = fakeApiserver({ [path('secrets', 'example-autodiscover-tls')]: issued });
    assert.equal((await applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() })).applied, 2);
  });

  it('an object of a child\'s name that is not ours (only visible to a GET): NameInUse, left alone; the other child still goes out', async () => {
    const foreign: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'example-autodiscover', namespace: NS } };
    const api = fakeApiserver({ [path('ingresses', 'example-autodiscover', 'networking.k8s.io/v1')]: foreign });
    const result = await applyPlan({ manager: api.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() });
    assert.equal(result.applied, 1);
    assert.deepEqual(api.requests.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status')).map((r) => r.path), [path('certificates', 'example-autodiscover', 'cert-manager.io/v1')]);
    assert.deepEqual(api.events, ['NameInUse']);
  });

  it('a server\'s access list goes out first and one ConfigMap at a time in the plan\'s order (its shards before its index), the Deployment after it', async () => {
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, ownerReferences: [ownerRef] }, data: {} });
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mapi', namespace: NS, ownerReferences: [ownerRef] }, spec: {} };
    const api = fakeApiserver();
    await applyPlan({ manager: api.manager, owner, plan: { ...plan(), apply: [cm('s0-mapi-access-0'), cm('s0-mapi-access-1'), cm('s0-mapi-access'), deployment] }, liveOf: noCache, ctx: ctx() });
    const patches = api.requests.filter((r) => r.method === 'PATCH' && !r.path.endsWith('/status'));
    assert.deepEqual(patches.map((r) => r.path.split('/').pop()), ['s0-mapi-access-0', 's0-mapi-access-1', 's0-mapi-access', 'mapi']);
    assert.deepEqual(patches.map((r) => r.roundTrip), [2, 3, 4, 5], 'each in a round trip of its own, after the reads');
  });

  it('children the caches hold unchanged: no read, no apply, and an unchanged status is not written', async () => {
    const first = fakeApiserver();
    await applyPlan({ manager: first.manager, owner, plan: plan(), liveOf: noCache, ctx: ctx() });
    // What the first run applied, as the informers would now hold it.
    const applied = new Map<string, KubeObject>();
    for (const o of [certificate, ingress] as KubeObject[]) applied.set(o.kind!, withAppliedHash(o));
    const cache = (kind: string) => ({ get: () => applied.get(kind) }) as unknown as Informer<KubeObject>;
    const settled = { ...owner, status: plan().status };
    const api = fakeApiserver();
    const result = await applyPlan({ manager: api.manager, owner: settled, plan: plan(), liveOf: cache, ctx: ctx() });
    assert.deepEqual(result, { applied: 0, pruned: 0, statusWritten: false });
    assert.deepEqual(api.requests, []);
  });
});
