// The chart's RBAC for v1alpha2 is no more than needed: `kubectl auth can-i --list` as the
// chart's ServiceAccount shows exactly the expected rule set, for every namespace and the
// cluster-wide and watchNamespaces shapes (rbac-operator.test.ts proves it is enough).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { one, releaseNs, render, rulesOf } from './helm.ts';
import { applyRbac, cleanUp, clusterNs, freshNamespaces, k, outside, watchedA, watchedB } from './rbac-support.ts';

before(freshNamespaces);
after(cleanUp);

const saOf = (release: string): string => `system:serviceaccount:${releaseNs}:${release === 'mapi-operator' ? 'mapi-operator' : `${release}-mapi-operator`}`;

/** `kubectl auth can-i --list` in a namespace: "resource[/name] verb" pairs, without the
 *  self-review and discovery rules every authenticated user has. */
async function ruleList(release: string, namespace: string): Promise<string[]> {
  const out = await k.ok(['auth', 'can-i', '--list', `--as=${saOf(release)}`, '-n', namespace]);
  const pairs = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S+)\s+(?:\[[^\]]*\]\s+)?\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/.exec(line.trim());
    if (!m) continue;
    const [, resource, names, verbs] = m;
    if (resource!.startsWith('[')) continue;
    if (/^selfsubject\w+\.authorization\.k8s\.io$|^selfsubjectreviews\.authentication\.k8s\.io$/.test(resource!)) continue;
    for (const v of verbs!.split(/\s+/).filter(Boolean)) for (const n of names ? names.split(/\s+/) : ['']) pairs.add(`${resource}${n ? `/${n}` : ''} ${v}`);
  }
  return [...pairs].sort();
}

const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const read = ['get', 'list', 'watch'];
const ours = ['mapiservers', 'maildomains', 'mailboxes'].map((r) => `${r}.mapi-operator.io`);
/** The rule set of the brief, as `can-i --list` spells it, in a namespace the operator serves. */
const workloadRules = (withSecrets: boolean): string[] => [
  ...ours.flatMap((r) => read.map((v) => `${r} ${v}`)),
  ...ours.flatMap((r) => ['get', 'update', 'patch'].map((v) => `${r}/status ${v}`)),
  'mapiservers.mapi-operator.io/finalizers update', 'maildomains.mapi-operator.io/finalizers update',
  ...['services', 'configmaps', 'deployments.apps', 'poddisruptionbudgets.policy', 'ingresses.networking.k8s.io', 'certificates.cert-manager.io'].flatMap((r) => all.map((v) => `${r} ${v}`)),
  ...(withSecrets ? read.map((v) => `secrets ${v}`) : []),
  'events create', 'events patch', 'events.events.k8s.io create', 'events.events.k8s.io patch',
  ...read.map((v) => `issuers.cert-manager.io ${v}`),
  ...['httproutes', 'listenersets'].flatMap((r) => all.map((v) => `${r}.gateway.networking.k8s.io ${v}`)),
];
/** Cluster-wide, whatever the shape: host ownership across namespaces, grants, ClusterIssuers. */
const reader = (clusterIssuers: boolean): string[] => [
  ...['mapiservers.mapi-operator.io', 'maildomains.mapi-operator.io', 'maildomaingrants.mapi-operator.io'].flatMap((r) => read.map((v) => `${r} ${v}`)),
  ...(clusterIssuers ? read.map((v) => `clusterissuers.cert-manager.io ${v}`) : []),
  ...read.map((v) => `gateways.gateway.networking.k8s.io ${v}`),
];
const lease = (name: string) => ['leases.coordination.k8s.io create', `leases.coordination.k8s.io/${name} get`, `leases.coordination.k8s.io/${name} update`];
const sorted = (xs: string[]) => [...new Set(xs)].sort();

describe('RBAC is no more than needed: kubectl auth can-i as the ServiceAccount', () => {
  before(async () => {
    await applyRbac('mapi-operator', {});
    await applyRbac('mapi-scoped', { watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false } });
    await applyRbac('mapi-nosecrets', { rbac: { readSecrets: false }, allowClusterIssuers: false });
  });

  test('the full rule list per namespace is exactly the v1alpha2 rule set', async () => {
    assert.deepEqual(await ruleList('mapi-operator', clusterNs), sorted([...workloadRules(true), ...reader(true)]));
    assert.deepEqual(await ruleList('mapi-operator', releaseNs), sorted([...workloadRules(true), ...reader(true), ...lease('mapi-operator-leader')]));
    assert.deepEqual(await ruleList('mapi-nosecrets', clusterNs), sorted([...workloadRules(false), ...reader(false)]));
    assert.deepEqual(await ruleList('mapi-scoped', watchedA), sorted([...workloadRules(false), ...reader(true)]));
    assert.deepEqual(await ruleList('mapi-scoped', watchedB), sorted([...workloadRules(false), ...reader(true)]));
    assert.deepEqual(await ruleList('mapi-scoped', outside), sorted(reader(true)));
    assert.deepEqual(await ruleList('mapi-scoped', releaseNs), sorted([...reader(true), ...lease('mapi-scoped-mapi-operator-leader')]));
  });

  test('the two shapes carry the same namespaced rules; no wildcards; readSecrets=false names no Secret', async () => {
    const cluster = await render({});
    const scoped = await render({ watchNamespaces: [watchedA, watchedB, watchedA] });
    assert.deepEqual(scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'mapi-operator').map((o) => o.metadata.namespace), [watchedA, watchedB]);
    for (const role of scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'mapi-operator')) assert.deepEqual(role.rules, one(cluster, 'ClusterRole', 'mapi-operator').rules);
    assert.ok(!rulesOf(cluster).some((r) => r.verbs.includes('*') || r.resources?.includes('*') || r.apiGroups?.includes('*')), 'no wildcards');
    assert.ok(!rulesOf(await render({ rbac: { readSecrets: false } })).some((r) => r.resources?.includes('secrets')));
    assert.ok(!rulesOf(await render({ rbac: { gatewayAPI: false } })).some((r) => r.apiGroups?.includes('gateway.networking.k8s.io')), 'rbac.gatewayAPI=false: no Gateway API rule');
    const none = await render({ rbac: { create: false }, serviceAccount: { create: false, name: 'platform-mapi' } });
    assert.deepEqual(none.filter((o) => /Role|ServiceAccount/.test(o.kind)).map((o) => o.kind), []);
  });

  test('never: write our own kinds, pods, nodes, CRDs, RBAC, namespaces, other Leases; no impersonation or tokens', async () => {
    const no: [string, string, string | undefined, ...string[]][] = [];
    for (const r of ours) for (const v of ['create', 'update', 'patch', 'delete', 'deletecollection']) no.push([v, r, clusterNs]);
    for (const v of ['create', 'update', 'patch', 'delete']) {
      no.push([v, 'pods', clusterNs], [v, 'nodes', undefined], [v, 'customresourcedefinitions.apiextensions.k8s.io', undefined],
        [v, 'clusterroles.rbac.authorization.k8s.io', undefined], [v, 'roles.rbac.authorization.k8s.io', clusterNs], [v, 'namespaces', undefined], [v, 'serviceaccounts', clusterNs],
        [v, 'issuers.cert-manager.io', clusterNs], [v, 'clusterissuers.cert-manager.io', undefined]);
    }
    no.push(['escalate', 'clusterroles.rbac.authorization.k8s.io', undefined], ['bind', 'clusterroles.rbac.authorization.k8s.io', undefined],
      ['impersonate', 'users', undefined], ['create', 'serviceaccounts', releaseNs, '--subresource=token'], ['create', 'pods', clusterNs, '--subresource=exec'],
      ['update', 'leases.coordination.k8s.io/someone-else', releaseNs], ['delete', 'leases.coordination.k8s.io', releaseNs], ['create', 'leases.coordination.k8s.io', 'kube-system']);
    await expectCan('mapi-operator', no, false);
    await expectCan('mapi-nosecrets', read.map((v): [string, string, string | undefined] => [v, 'secrets', clusterNs]), false);
    await expectCan('mapi-scoped', [...all.map((v): [string, string, string | undefined] => [v, 'configmaps', outside]), ['list', 'deployments.apps', undefined]], false);
  });
});

async function can(release: string, verb: string, resource: string, namespace?: string, extra: string[] = []): Promise<boolean> {
  const scope = namespace === undefined ? ['--all-namespaces'] : ['-n', namespace];
  const r = await k(['auth', 'can-i', verb, resource, `--as=${saOf(release)}`, ...scope, ...extra]);
  const answer = r.stdout.trim();
  assert.ok(answer === 'yes' || answer === 'no', `kubectl auth can-i ${verb} ${resource}: ${r.stdout}${r.stderr}`);
  return answer === 'yes';
}

async function expectCan(release: string, cases: [verb: string, resource: string, namespace: string | undefined, ...extra: string[]][], expected: boolean): Promise<void> {
  const wrong: string[] = [];
  for (let i = 0; i < cases.length; i += 8) {
    await Promise.all(cases.slice(i, i + 8).map(async ([verb, resource, ns, ...extra]) => {
      if ((await can(release, verb, resource, ns, extra)) !== expected) wrong.push(`${verb} ${resource} ${extra.join(' ')} in ${ns ?? 'all namespaces'}`);
    }));
  }
  assert.deepEqual(wrong.sort(), [], `${release} ${expected ? 'must be able to' : 'must not be able to'}:`);
}

