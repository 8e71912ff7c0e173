// Every example is accepted by a real kube-apiserver (server-side dry run, so the CRDs'
// OpenAPI schemas and CEL rules judge our kinds), and the GitOps ones by the upstream CRDs of
// Argo CD and Flux, fetched from their Go modules (the Go module proxy is the one source
// reachable here). Cross-references are checked too: every path an Application or a Flux
// object points at exists, and every Flux healthCheck names an object the overlay creates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { load, loadAll } from 'js-yaml';
import { repoRoot } from '../../../src/dev/controlplane-assets.ts';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { waitFor } from '../../../src/dev/wait.ts';

const k = kubectlFor(sharedKubeconfigPath());
const examples = path.join(repoRoot, 'examples');

/** Upstream CRDs, by Go module and path inside it. Versions the proxy serves to this Go. */
const upstream = [
  { module: 'github.com/argoproj/argo-cd/v3@v3.1.0', file: 'manifests/crds/application-crd.yaml' },
  { module: 'github.com/fluxcd/helm-controller@v1.4.0', file: 'config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml' },
  { module: 'github.com/fluxcd/kustomize-controller@v1.6.0', file: 'config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml' },
  { module: 'github.com/fluxcd/source-controller@v1.7.0', file: 'config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml' },
];
let upstreamCrds: string[] = [];

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> }

function goModDir(module: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('go', ['mod', 'download', '-json', module], { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, GOFLAGS: '-mod=mod' } }, (err, stdout) => {
      const info = (() => { try { return JSON.parse(stdout) as { Dir?: string; Error?: string }; } catch { return {}; } })();
      if (info.Dir) resolve(info.Dir);
      else reject(new Error(`go mod download ${module}: ${info.Error ?? err?.message}`));
    });
  });
}

async function dryRun(manifests: string, what: string): Promise<string[]> {
  const r = await k(['apply', '--server-side', '--dry-run=server', '--field-manager=examples-test', '-f', '-'], manifests);
  assert.equal(r.code, 0, `${what}: the apiserver refused:\n${r.stderr}`);
  return r.stdout.split('\n').filter((l) => /serverside-applied \(server dry run\)|\(server dry run\)/.test(l));
}

const filesIn = async (dir: string): Promise<string> => (await k.ok(['create', '--dry-run=client', '-o', 'yaml', '-f', dir])).toString();
const objectsOf = (yaml: string): Obj[] => (loadAll(yaml) as (Obj & { items?: Obj[] } | null)[]).flatMap((o) => (o?.kind === 'List' ? o.items ?? [] : o ? [o] : []));

before(async () => {
  for (const ns of ['mail', 'mail-production', 'argocd', 'flux-system']) await freshNamespace(k, ns);
  upstreamCrds = [];
  for (const u of upstream) {
    const file = path.join(await goModDir(u.module), u.file);
    const crd = load(readFileSync(file, 'utf8')) as Obj;
    await k.ok(['apply', '--server-side', '--force-conflicts', '-f', file]);
    upstreamCrds.push(crd.metadata.name);
  }
  for (const name of upstreamCrds) {
    await waitFor(async () => (await k(['wait', '--for=condition=Established', `crd/${name}`, '--timeout=5s'])).code === 0, { timeoutMs: 60_000, describe: `CRD ${name} Established` });
  }
});

after(async () => {
  for (const name of upstreamCrds) await k(['delete', 'crd', name, '--wait=false']);
  for (const ns of ['mail', 'mail-production', 'argocd', 'flux-system']) await k(['delete', 'namespace', ns, '--wait=false']);
});

describe('examples/', () => {
  test('plain/: every object is accepted, it holds each kind, and its kustomization.yaml lists every file', async () => {
    const listed = (load(readFileSync(path.join(examples, 'plain/kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
    assert.deepEqual([...listed].sort(), readdirSync(path.join(examples, 'plain')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
    const objects = objectsOf(await k.ok(['kustomize', path.join(examples, 'plain')]));
    assert.deepEqual([...new Set(objects.map((o) => o.kind))].sort(), ['Issuer', 'MailDomain', 'MailDomainGrant', 'Mailbox', 'MapiServer', 'Namespace']);
    const accepted = await dryRun(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }), 'examples/plain');
    assert.equal(accepted.length, objects.length, accepted.join('\n'));
  });

  test('kustomize/overlays/production builds with kubectl kustomize and is accepted; the patches landed', async () => {
    const built = await k.ok(['kustomize', path.join(examples, 'kustomize/overlays/production')]);
    const objects = objectsOf(built);
    const server = objects.find((o) => o.kind === 'MapiServer')!;
    assert.equal(server.metadata.namespace, 'mail-production');
    assert.equal((server.spec as { replicas: number }).replicas, 3);
    assert.match((server.spec as { image: string }).image, /@sha256:[0-9a-f]{64}$/);
    for (const o of objects.filter((x) => x.kind !== 'Namespace' && x.kind !== 'MailDomainGrant')) assert.equal(o.metadata.namespace, 'mail-production', `${o.kind}/${o.metadata.name}`);
    const grant = objects.find((o) => o.kind === 'MailDomainGrant')!;
    assert.deepEqual((grant.spec as { namespaces: string[] }).namespaces, ['mail-production'], 'the grant names the overlay namespace');
    const accepted = await dryRun(built, 'the production overlay');
    assert.equal(accepted.length, objects.length);
  });

  test('argocd/: the Applications are valid against Argo CD’s CRD and point at folders that exist', async () => {
    const objects = objectsOf(await filesIn(path.join(examples, 'argocd')));
    assert.deepEqual(objects.map((o) => o.kind), ['Application', 'Application']);
    await dryRun(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }), 'examples/argocd');
    for (const app of objects) {
      const p = (app.spec as { source: { path: string } }).source.path;
      assert.ok(existsSync(path.join(repoRoot, p)), `${app.metadata.name}: ${p} exists in this repository`);
    }
    // And the health check they rely on is where the README says.
    assert.ok(readdirSync(path.join(repoRoot, 'deploy/argocd')).includes('argocd-cm.yaml'));
  });

  test('flux/: GitRepository, HelmRelease and Kustomizations are valid against Flux’s CRDs; healthChecks name objects the overlay creates', async () => {
    const objects = objectsOf(await filesIn(path.join(examples, 'flux')));
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['GitRepository', 'HelmRelease', 'Kustomization', 'Kustomization']);
    await dryRun(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.filter((o) => o.apiVersion !== 'kustomize.config.k8s.io/v1beta1') }), 'examples/flux');
    const release = objects.find((o) => o.kind === 'HelmRelease')!;
    assert.ok(existsSync(path.join(repoRoot, (release.spec as { chart: { spec: { chart: string } } }).chart.spec.chart, 'Chart.yaml')), 'the HelmRelease chart path is the chart');
    const overlay = objectsOf(await k.ok(['kustomize', path.join(examples, 'kustomize/overlays/production')]));
    const mail = objects.find((o) => o.kind === 'Kustomization' && o.metadata.name === 'hosted-mail')!;
    const spec = mail.spec as { path: string; healthChecks: { apiVersion: string; kind: string; name: string; namespace: string }[] };
    assert.ok(existsSync(path.join(repoRoot, spec.path, 'kustomization.yaml')));
    assert.ok(spec.healthChecks.some((h) => h.kind === 'MapiServer'), 'the MapiServer is health-checked');
    for (const h of spec.healthChecks) {
      assert.ok(overlay.some((o) => o.apiVersion === h.apiVersion && o.kind === h.kind && o.metadata.name === h.name && o.metadata.namespace === h.namespace), `healthCheck ${h.kind} ${h.namespace}/${h.name} is in the overlay`);
    }
  });
});
