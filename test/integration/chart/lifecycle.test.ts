// helm install, upgrade and uninstall for real. On the shared control plane (kwok nodes run
// the pods): the operator becomes available, an upgrade changes its RBAC shape, uninstall
// leaves no RBAC behind. On a private control plane (the chart owns the CRDs there): install
// creates the CRDs, an upgrade whose CRD changed changes them (they are templates, not crds/),
// uninstall keeps them (crds.keep), and with crds.keep=false uninstall removes them.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sharedKubeconfigPath, startControlPlane } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { chartDir, crdNames, helm, tmp, type PodSpec } from './helm.ts';

interface CrdState {
  metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);
const helmNs = 'chart-helm-system';
const watched = 'chart-helm-watched';

before(async () => {
  for (const ns of [helmNs, watched]) await freshNamespace(k, ns);
});
after(async () => {
  await k(['delete', 'clusterrole,clusterrolebinding', '-l', 'app.kubernetes.io/instance=mapi-helm', '--wait=false']);
  for (const ns of [helmNs, watched]) await k(['delete', 'namespace', ns, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('on the shared control plane (its CRDs are not the chart’s: crds.enabled=false)', () => {
  test('installs and becomes available, upgrades to watchNamespaces, uninstalls without leaving RBAC behind', { timeout: 6 * 60_000 }, async () => {
    const common = ['--kubeconfig', kubeconfig, '--namespace', helmNs, '--set', 'crds.enabled=false'];
    const byRelease = 'app.kubernetes.io/instance=mapi-helm';
    const names = async (kinds: string, ns?: string) => (await k.ok(['get', kinds, '-l', byRelease, '-o', 'name', ...(ns ? ['-n', ns] : [])])).split('\n').filter(Boolean).sort();

    const install = await helm(['install', 'mapi-helm', chartDir, ...common, '--wait', '--timeout', '150s'], 180_000);
    assert.equal(install.code, 0, `helm install: ${install.stdout}${install.stderr}`);
    assert.match(install.stdout, /kubectl get mapi -A/, 'NOTES.txt is shown');
    const dep = await k.json<{ status: { availableReplicas?: number } }>(['get', 'deployment', '-n', helmNs, 'mapi-helm-mapi-operator']);
    assert.equal(dep.status.availableReplicas, 2, 'both replicas available (on kwok nodes)');
    assert.deepEqual(await names('clusterrole'), ['clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator', 'clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator-maildomain-reader']);

    const upgrade = await helm(['upgrade', 'mapi-helm', chartDir, ...common, '--set', `watchNamespaces={${watched}}`, '--wait', '--timeout', '150s'], 180_000);
    assert.equal(upgrade.code, 0, `helm upgrade: ${upgrade.stdout}${upgrade.stderr}`);
    assert.deepEqual(await names('clusterrole'), ['clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator-maildomain-reader'], 'the all-namespaces ClusterRole is gone');
    assert.deepEqual(await names('role,rolebinding', watched), ['role.rbac.authorization.k8s.io/mapi-helm-mapi-operator', 'rolebinding.rbac.authorization.k8s.io/mapi-helm-mapi-operator']);
    const args = (await k.json<{ spec: { template: { spec: PodSpec } } }>(['get', 'deployment', '-n', helmNs, 'mapi-helm-mapi-operator'])).spec.template.spec.containers[0]!.args ?? [];
    assert.ok(args.includes(`--namespace=${watched}`), args.join(' '));

    const uninstall = await helm(['uninstall', 'mapi-helm', '--kubeconfig', kubeconfig, '--namespace', helmNs, '--wait', '--timeout', '120s'], 150_000);
    assert.equal(uninstall.code, 0, `helm uninstall: ${uninstall.stdout}${uninstall.stderr}`);
    assert.deepEqual(await names('clusterrole,clusterrolebinding'), []);
    assert.deepEqual(await names('role,rolebinding', watched), []);
    for (const crd of crdNames()) await k.ok(['get', 'crd', crd]);
  });
});

describe('on a private control plane: the chart owns the CRDs', () => {
  test('install creates them, an upgrade with a changed CRD changes it, uninstall keeps them; crds.keep=false removes them', { timeout: 9 * 60_000 }, async (t) => {
    const cp = await startControlPlane({ kwok: false });
    try {
      const pk = kubectlFor(cp.kubeconfigPath);
      const common = ['--kubeconfig', cp.kubeconfigPath, '--namespace', 'mapi-system'];
      const categories = async () => (await pk.json<{ spec: { names: { categories?: string[] } } }>(['get', 'crd', 'maildomains.mapi-operator.io'])).spec.names.categories;
      const present = async () => (await pk.ok(['get', 'crd', '-o', 'name'])).split('\n').filter((l) => l.includes('mapi-operator.io')).map((l) => l.replace(/^.*\//, '')).sort();
      // What a CRD that is not gone yet is waiting for: its finalizers and the apiserver's conditions.
      const mapiCrds = async () => (await pk.json<{ items: CrdState[] }>(['get', 'crd', '-o', 'json'])).items
        .filter((c) => c.metadata.name.endsWith('.mapi-operator.io'))
        .map((c) => ({ name: c.metadata.name, deletionTimestamp: c.metadata.deletionTimestamp, finalizers: c.metadata.finalizers, conditions: c.status?.conditions?.map((x) => `${x.type}=${x.status} ${x.reason ?? ''}: ${x.message ?? ''}`) }));

      const install = await helm(['install', 'mapi-operator', chartDir, ...common, '--create-namespace'], 120_000);
      assert.equal(install.code, 0, `helm install: ${install.stdout}${install.stderr}`);
      assert.deepEqual(await present(), crdNames());
      assert.deepEqual(await categories(), ['mapi']);

      // The next chart version, whose MailDomain CRD changed (here: one more category).
      const next = path.join(tmp, 'next-chart');
      cpSync(chartDir, next, { recursive: true });
      const crdDir = path.join(next, 'templates/crds');
      const file = path.join(crdDir, readdirSync(crdDir).find((f) => f.includes('maildomains'))!);
      const text = readFileSync(file, 'utf8');
      const changed = text.replace('    categories:\n      - mapi\n', '    categories:\n      - mapi\n      - mapi-next\n');
      assert.notEqual(changed, text, 'the test found the categories to change');
      writeFileSync(file, changed);

      const upgrade = await helm(['upgrade', 'mapi-operator', next, ...common], 120_000);
      assert.equal(upgrade.code, 0, `helm upgrade: ${upgrade.stdout}${upgrade.stderr}`);
      assert.deepEqual(await categories(), ['mapi', 'mapi-next'], 'helm upgrade upgraded the CRD');

      const uninstall = await helm(['uninstall', 'mapi-operator', ...common], 120_000);
      assert.equal(uninstall.code, 0, `helm uninstall: ${uninstall.stderr}`);
      assert.match(uninstall.stdout + uninstall.stderr, /kept due to the resource policy/);
      assert.deepEqual(await present(), crdNames(), 'crds.keep: uninstall leaves the CRDs (and every MapiServer) in place');

      const again = await helm(['install', 'mapi-operator', next, ...common, '--set', 'crds.keep=false'], 120_000);
      assert.equal(again.code, 0, `helm install over kept CRDs adopts them: ${again.stderr}`);
      // The CRDs' deletion is the apiserver's (its finalizer deletes every stored object first),
      // so it is awaited here rather than by helm's --wait: a slow finalizer then shows as the
      // state it was stuck in (CI once saw helm's 150 s --wait run out without saying on what).
      const removed = await helm(['uninstall', 'mapi-operator', ...common], 120_000);
      assert.equal(removed.code, 0, removed.stderr);
      const deleting = Date.now();
      await waitFor(async () => {
        const left = await mapiCrds();
        if (left.length === 0) return true;
        throw new Error(`still there: ${JSON.stringify(left)}`);
      }, { describe: 'crds.keep=false: uninstall removes the CRDs', timeoutMs: 5 * 60_000, intervalMs: 1_000 });
      t.diagnostic(`the CRDs were gone ${Date.now() - deleting} ms after helm uninstall returned`);
    } finally {
      await cp.stop();
    }
  });
});
