// Gateway API discovery against the real apiserver (Gateway API standard CRDs installed by the
// global setup): served and granted for the admin; a ServiceAccount without the rules is told
// which ones it lacks (the operator then leaves Gateway API off instead of failing its cache
// sync); with exactly the rules the chart should grant, it is on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { KubeClient, loadKubeConfig } from '../../../src/kube/index.ts';
import { discoverGatewayApi, gatewayApiRules } from '../../../src/exposure/discovery.ts';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';

const ns = 'it-gateway-discovery';
const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);

/** A client authenticated as ServiceAccount `name` in `ns` (a bound token, 10 minutes). */
async function clientAs(name: string): Promise<KubeClient> {
  const token = (await k.ok(['create', 'token', name, '-n', ns, '--duration=10m'])).trim();
  const admin = loadKubeConfig(kubeconfig);
  const cluster = admin.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [cluster], users: [{ name, token }], contexts: [{ name, cluster: cluster.name, user: name }], currentContext: name });
  return new KubeClient(kc);
}

before(async () => {
  await freshNamespace(k, ns);
  for (const sa of ['bare', 'granted']) await k.ok(['create', 'serviceaccount', sa, '-n', ns]);
  // The rules gatewayApiRules asks for, granted to "granted": Gateways everywhere, routes and
  // ListenerSets in this namespace only.
  await k.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'it-gateway-reader' },
    rules: [{ apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: ['get', 'list', 'watch'] }],
  });
  await k.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'it-gateway-reader' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'it-gateway-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'granted', namespace: ns }],
  });
  await k.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'routes', namespace: ns },
    rules: [{ apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes', 'listenersets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }],
  });
  await k.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'routes', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'routes' },
    subjects: [{ kind: 'ServiceAccount', name: 'granted', namespace: ns }],
  });
});

after(async () => {
  await k(['delete', 'clusterrolebinding,clusterrole', 'it-gateway-reader', '--ignore-not-found']);
  await k(['delete', 'namespace', ns, '--wait=false']);
});

describe('discoverGatewayApi', () => {
  test('the admin: Gateway, HTTPRoute and ListenerSet served and every rule granted', async () => {
    assert.deepEqual(await discoverGatewayApi(new KubeClient(loadKubeConfig(kubeconfig))), { served: true, missing: [], forbidden: [] });
  });

  test('a ServiceAccount without rules: off, naming every rule it lacks', async () => {
    const r = await discoverGatewayApi(await clientAs('bare'), { namespaces: [ns] });
    assert.equal(r.served, false);
    assert.deepEqual(r.missing, []);
    assert.equal(r.forbidden.length, gatewayApiRules([ns]).length);
    assert.ok(r.forbidden.includes('watch gateways.gateway.networking.k8s.io (all namespaces)'));
    assert.ok(r.forbidden.includes(`create httproutes.gateway.networking.k8s.io in ${ns}`));
  });

  test('exactly the rules for its namespaces: on; for every namespace: the namespaced rules are missing', async () => {
    const granted = await clientAs('granted');
    assert.deepEqual(await discoverGatewayApi(granted, { namespaces: [ns] }), { served: true, missing: [], forbidden: [] });
    const everywhere = await discoverGatewayApi(granted);
    assert.equal(everywhere.served, false);
    assert.ok(everywhere.forbidden.every((f) => /(httproutes|listenersets)\..* \(all namespaces\)$/.test(f)), everywhere.forbidden.join('; '));
  });
});
