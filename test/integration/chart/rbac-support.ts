// Shared by the chart's RBAC tests (rbac.test.ts: no more than needed; rbac-operator.test.ts:
// enough): the namespaces they use, and the chart's RBAC objects applied for a release.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { asList, releaseNs, render, tmp, type Obj, type Values } from './helm.ts';

export const run = randomBytes(3).toString('hex');
export const watchedA = 'chart-watch-a';
export const watchedB = 'chart-watch-b';
export const outside = 'chart-outside';
export const clusterNs = 'chart-cluster';
// The cluster-wide operator reconciles only this run's objects (other test files leave
// theirs behind in namespaces being deleted); the selector does not change the RBAC.
export const runLabel = 'chart-test.mapi-operator.io/run';

export const kubeconfig = sharedKubeconfigPath();
export const k = kubectlFor(kubeconfig);

export async function freshNamespaces(): Promise<void> {
  for (const ns of [releaseNs, watchedA, watchedB, outside, clusterNs]) await freshNamespace(k, ns);
}

export async function cleanUp(): Promise<void> {
  await k(['delete', 'clusterrole,clusterrolebinding', '-l', 'app.kubernetes.io/instance in (mapi-operator,mapi-scoped,mapi-nosecrets)', '--wait=false']);
  await k(['delete', 'maildomaingrants', '-l', `${runLabel}=${run}`, '--wait=false']);
  for (const ns of [watchedA, watchedB, outside, clusterNs]) await k(['delete', 'namespace', ns, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
}

/** Applies the chart's ServiceAccount, Roles and bindings (nothing else) for a release. */
export async function applyRbac(release: string, values: Values): Promise<Obj[]> {
  const objects = await render(values, release);
  const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  await k.ok(['apply', '-f', '-'], asList(rbac));
  return objects;
}
