// The Helm chart against the shared control plane. It lints; it renders for every shape of
// values we support; the apiserver accepts every rendered object; the operator's Deployment
// is locked down and passes the right flags. Its RBAC is enough: the real operator,
// authenticated with a token of the chart's ServiceAccount and started with the chart's
// own arguments, converges a MailDomain (children, status, events, Lease) with no 403 — for
// the cluster-wide shape and for watchNamespaces. And no more: `kubectl auth can-i` and the
// full rule list per namespace show nothing beyond what the operator uses.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { dump, load, loadAll } from 'js-yaml';
import { testIssuerRef } from '../../../src/dev/cert-manager/issuer.ts';
import { controlPlaneVersions, repoRoot } from '../../../src/dev/controlplane-assets.ts';
import { sharedKubeconfigPath, startControlPlane } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';

const chartDir = path.join(repoRoot, 'charts/mapi-operator');
const releaseNs = 'mapi-system';
const run = randomBytes(3).toString('hex');
// Namespaces of the watchNamespaces variant, and one outside it.
const watchedA = 'chart-watch-a';
const watchedB = 'chart-watch-b';
const outside = 'chart-outside';
// The cluster-wide variant's MailDomain lives here.
const clusterNs = 'chart-cluster';
// Where `helm install` puts a release of its own (kwok nodes run its pods).
const helmNs = 'chart-helm-system';
// The cluster-wide operator reconciles only this run's MailDomains (other test files leave
// theirs behind in namespaces being deleted); the selector does not change the RBAC.
const runLabel = 'chart-test.mapi-operator.io/run';

const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mapi-chart-test-'));
let helmBin = '';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; labels?: Record<string, string>; ownerReferences?: { uid: string; controller?: boolean }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}
interface Rule { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }
interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; seccompProfile?: { type: string } };
  containers: Container[];
}
type Values = Record<string, unknown>;

function exec(bin: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0 });
    });
  });
}

/** tools/controlplane/build-helm.sh in a process group of its own, so a time-out (or this
 *  process exiting) ends `go` and its compilers too, not just bash. */
function buildHelm(timeoutMs: number): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(repoRoot, 'tools/controlplane/build-helm.sh')], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', killGroup);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; process.stderr.write(c); });
    const timer = setTimeout(killGroup, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
      resolve({ stdout, stderr, code: code ?? 1 });
    });
  });
}

async function helm(args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return exec(helmBin, args, timeoutMs);
}

/** `helm template` with these values, parsed (js-yaml refuses duplicated keys, so two
 *  objects run together by a missing `---` fail here). */
async function render(values: Values, release = 'mapi-operator'): Promise<Obj[]> {
  const file = path.join(tmp, `values-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(values));
  const r = await helm(['template', release, chartDir, '--namespace', releaseNs, '--values', file, '--kube-version', controlPlaneVersions().KUBERNETES_VERSION]);
  assert.equal(r.code, 0, `helm template ${JSON.stringify(values)} failed: ${r.stderr}`);
  const objects = (loadAll(r.stdout) as unknown[]).filter((o): o is Obj => o !== null && o !== undefined);
  const ids = objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'no object is rendered twice');
  for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, `a complete object: ${JSON.stringify(o).slice(0, 200)}`);
  return objects;
}

const one = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0]!;
};
const podSpec = (objects: Obj[]): PodSpec => (one(objects, 'Deployment').spec as { template: { spec: PodSpec } }).template.spec;
const operatorContainer = (objects: Obj[]): Container => {
  const c = podSpec(objects).containers.find((x) => x.name === 'operator');
  assert.ok(c, 'the Deployment has a container named operator');
  return c;
};
const asList = (items: Obj[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const rulesOf = (objects: Obj[]): Rule[] => objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o.rules ?? []);

/** Server-side dry-run of every object: admission, schema and RBAC validation of the real apiserver. */
async function dryRunApply(objects: Obj[]): Promise<void> {
  const r = await k(['apply', '--dry-run=server', '-f', '-'], asList(objects));
  assert.equal(r.code, 0, `kubectl apply --dry-run=server: ${r.stderr}`);
  const accepted = r.stdout.split('\n').filter((l) => /\(server dry run\)/.test(l));
  assert.equal(accepted.length, objects.length, `every object accepted:\n${r.stdout}`);
}

const variants: Record<string, Values> = {
  'default values': {},
  'watchNamespaces: [a, b]': { watchNamespaces: [watchedA, watchedB] },
  'rbac.readSecrets=false': { rbac: { readSecrets: false } },
  'leaderElection.enabled=false': { leaderElection: { enabled: false } },
  'metrics.serviceMonitor.enabled=false': { metrics: { serviceMonitor: { enabled: false } } },
  'all of them, and a label selector': {
    watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false }, leaderElection: { enabled: false },
    metrics: { serviceMonitor: { enabled: false } }, labelSelector: 'shard in (eu, us)',
  },
};

before(async () => {
  // Builds helm from its Go module the first time (minutes); later runs reuse the binary.
  const built = await buildHelm(30 * 60_000);
  assert.equal(built.code, 0, `tools/controlplane/build-helm.sh failed: ${built.stderr}`);
  helmBin = built.stdout.trim().split('\n').pop()!.trim();
  for (const ns of [releaseNs, watchedA, watchedB, outside, clusterNs, helmNs]) await freshNamespace(k, ns);
});

after(async () => {
  await k(['delete', 'clusterrole,clusterrolebinding', '-l', 'app.kubernetes.io/instance in (mapi-operator,mapi-scoped,mapi-nosecrets,mapi-helm)', '--wait=false']);
  for (const ns of [releaseNs, watchedA, watchedB, outside, clusterNs, helmNs]) await k(['delete', 'namespace', ns, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('helm lint and template', () => {
  test('helm lint --strict passes with default values and with each variant', async () => {
    const version = await helm(['version', '--short']);
    assert.match(version.stdout, /^v3\.19\.\d+/, `helm v3.19.x from tools/controlplane/build-helm.sh: ${version.stdout}${version.stderr}`);
    for (const [name, values] of Object.entries(variants)) {
      const file = path.join(tmp, 'lint-values.json');
      writeFileSync(file, JSON.stringify(values));
      const r = await helm(['lint', '--strict', chartDir, '--values', file, '--kube-version', controlPlaneVersions().KUBERNETES_VERSION]);
      assert.equal(r.code, 0, `helm lint --strict (${name}):\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, values] of Object.entries(variants)) {
    test(`${name}: renders, and the apiserver accepts every object (server-side dry run)`, async () => {
      const objects = await render(values);
      assert.deepEqual(objects.filter((o) => o.kind === 'ServiceMonitor'), [], 'no ServiceMonitor unless asked for');
      for (const o of objects) {
        const clusterScoped = o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding';
        if (!clusterScoped) assert.ok(o.metadata.namespace, `${o.kind}/${o.metadata.name} names its namespace`);
      }
      await dryRunApply(objects);
    });
  }

  test('metrics.serviceMonitor.enabled=true adds a ServiceMonitor on the metrics port (its CRD is not installed here, so it alone is not sent)', async () => {
    const objects = await render({ metrics: { serviceMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } } } });
    const sm = one(objects, 'ServiceMonitor');
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(sm.metadata.labels?.release, 'prometheus');
    assert.deepEqual((sm.spec as { endpoints: unknown[] }).endpoints, [{ port: 'metrics', path: '/metrics', interval: '15s' }]);
    const svc = one(objects, 'Service');
    assert.deepEqual((sm.spec as { selector: { matchLabels: unknown } }).selector.matchLabels, (svc.spec as { selector: unknown }).selector);
    assert.deepEqual((svc.spec as { ports: { name: string }[] }).ports.map((p) => p.name), ['metrics']);
    await dryRunApply(objects.filter((o) => o.kind !== 'ServiceMonitor'));
  });

  test('more than one replica without leader election is refused with a reason', async () => {
    const file = path.join(tmp, 'two-leaders.json');
    writeFileSync(file, JSON.stringify({ leaderElection: { enabled: false }, replicaCount: 2 }));
    const r = await helm(['template', 'mapi-operator', chartDir, '--namespace', releaseNs, '--values', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /replicaCount=2 needs leaderElection\.enabled=true/);
  });
});

describe('the operator Deployment', () => {
  test('runs as non-root 65532 with a read-only root filesystem, no privilege escalation and no capabilities', async () => {
    const objects = await render({});
    const pod = podSpec(objects);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 65532);
    assert.equal(pod.securityContext?.runAsGroup, 65532);
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const sc = operatorContainer(objects).securityContext;
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    assert.equal(sc?.capabilities?.add, undefined);
    assert.equal(pod.serviceAccountName, one(objects, 'ServiceAccount').metadata.name);
  });

  test('liveness on /healthz and readiness on /readyz, on the port the operator serves health on', async () => {
    const c = operatorContainer(await render({ health: { port: 9441 } }));
    assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'health' });
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'health' });
    assert.equal(c.ports?.find((p) => p.name === 'health')?.containerPort, 9441);
    assert.ok(c.args?.includes('--health-addr=:9441'), `--health-addr follows health.port: ${c.args?.join(' ')}`);
  });

  test('default: leader election on a Lease of its own in the release namespace, every namespace, 2 replicas and a PDB', async () => {
    const objects = await render({});
    const args = operatorContainer(objects).args ?? [];
    assert.equal(args[0], 'run');
    for (const a of ['--leader-elect', `--leader-election-namespace=${releaseNs}`, '--leader-election-id=mapi-operator-leader']) assert.ok(args.includes(a), `${a} in ${args.join(' ')}`);
    assert.deepEqual(args.filter((a) => a.startsWith('--namespace') || a.startsWith('--label-selector')), []);
    assert.equal((one(objects, 'Deployment').spec as { replicas: number }).replicas, 2);
    one(objects, 'PodDisruptionBudget');
    const lease = one(objects, 'Role', 'mapi-operator-leader-election');
    assert.deepEqual(lease.rules, [
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['mapi-operator-leader'], verbs: ['get', 'update'] },
    ]);
  });

  test('watchNamespaces and labelSelector become --namespace and --label-selector; no leader election: no flag, no Lease rights, 1 replica, no PDB', async () => {
    const objects = await render(variants['all of them, and a label selector']!);
    const args = operatorContainer(objects).args ?? [];
    assert.deepEqual(args.filter((a) => a.startsWith('--namespace')), [`--namespace=${watchedA}`, `--namespace=${watchedB}`]);
    assert.deepEqual(args.filter((a) => a.startsWith('--label-selector')), ['--label-selector=shard in (eu, us)']);
    assert.deepEqual(args.filter((a) => a.startsWith('--leader-elect')), []);
    assert.equal((one(objects, 'Deployment').spec as { replicas: number }).replicas, 1);
    assert.deepEqual(objects.filter((o) => o.kind === 'PodDisruptionBudget'), []);
    assert.ok(!rulesOf(objects).some((r) => r.resources?.includes('leases')), 'no Lease rights without leader election');
  });

  test('the RBAC shapes: one ClusterRole for every namespace, or a Role per watched namespace plus the cluster-wide MailDomain reader', async () => {
    const cluster = await render({});
    assert.deepEqual(cluster.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name).sort(), ['mapi-operator', 'mapi-operator-maildomain-reader']);
    assert.deepEqual(one(cluster, 'ClusterRole', 'mapi-operator-maildomain-reader').rules, [{ apiGroups: ['mapi-operator.io'], resources: ['maildomains'], verbs: ['get', 'list', 'watch'] }]);
    const scoped = await render({ watchNamespaces: [watchedA, watchedB, watchedA] });
    assert.deepEqual(scoped.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name), ['mapi-operator-maildomain-reader']);
    assert.deepEqual(scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'mapi-operator').map((o) => o.metadata.namespace), [watchedA, watchedB]);
    assert.deepEqual(scoped.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'mapi-operator').map((o) => o.metadata.namespace), [watchedA, watchedB]);
    // The namespaced rules are the same in both shapes.
    for (const role of scoped.filter((o) => o.kind === 'Role' && o.metadata.name === 'mapi-operator')) {
      assert.deepEqual(role.rules, one(cluster, 'ClusterRole', 'mapi-operator').rules, `Role in ${role.metadata.namespace}`);
    }
    const noSecrets = await render({ rbac: { readSecrets: false } });
    assert.ok(rulesOf(cluster).some((r) => r.resources?.includes('secrets')), 'secrets are readable by default');
    assert.ok(!rulesOf(noSecrets).some((r) => r.resources?.includes('secrets')), 'rbac.readSecrets=false: no rule names secrets');
    assert.ok(!rulesOf(cluster).some((r) => r.verbs.includes('*') || r.resources?.includes('*') || r.apiGroups?.includes('*')), 'no wildcards');
  });

  test('rbac.create=false and serviceAccount.create=false: no RBAC objects and no ServiceAccount; the pod uses the named one', async () => {
    const objects = await render({ rbac: { create: false }, serviceAccount: { create: false, name: 'platform-mapi' } });
    assert.deepEqual(objects.filter((o) => /Role|ServiceAccount/.test(o.kind)).map((o) => o.kind), []);
    assert.equal(podSpec(objects).serviceAccountName, 'platform-mapi');
  });
});

describe('helm install, upgrade and uninstall against the control plane', () => {
  test('installs and becomes available, upgrades to watchNamespaces, uninstalls without leaving RBAC behind or touching the CRDs', { timeout: 6 * 60_000 }, async () => {
    const common = ['--kubeconfig', kubeconfig, '--namespace', helmNs];
    const cluster = 'app.kubernetes.io/instance=mapi-helm';
    const install = await helm(['install', 'mapi-helm', chartDir, ...common, '--wait', '--timeout', '150s'], 180_000);
    assert.equal(install.code, 0, `helm install: ${install.stdout}${install.stderr}`);
    const dep = await k.json<{ status: { availableReplicas?: number } }>(['get', 'deployment', '-n', helmNs, 'mapi-helm-mapi-operator']);
    assert.equal(dep.status.availableReplicas, 2, 'both replicas available (on kwok nodes)');
    const names = async (kinds: string, ns?: string) => (await k.ok(['get', kinds, '-l', cluster, '-o', 'name', ...(ns ? ['-n', ns] : [])])).split('\n').filter(Boolean).sort();
    assert.deepEqual(await names('clusterrole,clusterrolebinding'), [
      'clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator', 'clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator-maildomain-reader',
      'clusterrolebinding.rbac.authorization.k8s.io/mapi-helm-mapi-operator', 'clusterrolebinding.rbac.authorization.k8s.io/mapi-helm-mapi-operator-maildomain-reader',
    ]);

    const upgrade = await helm(['upgrade', 'mapi-helm', chartDir, ...common, '--set', `watchNamespaces={${watchedA}}`, '--wait', '--timeout', '150s'], 180_000);
    assert.equal(upgrade.code, 0, `helm upgrade: ${upgrade.stdout}${upgrade.stderr}`);
    assert.deepEqual(await names('clusterrole'), ['clusterrole.rbac.authorization.k8s.io/mapi-helm-mapi-operator-maildomain-reader'], 'the all-namespaces ClusterRole is gone');
    assert.deepEqual(await names('role,rolebinding', watchedA), ['role.rbac.authorization.k8s.io/mapi-helm-mapi-operator', 'rolebinding.rbac.authorization.k8s.io/mapi-helm-mapi-operator']);
    const args = (await k.json<{ spec: { template: { spec: PodSpec } } }>(['get', 'deployment', '-n', helmNs, 'mapi-helm-mapi-operator'])).spec.template.spec.containers[0]!.args ?? [];
    assert.ok(args.includes(`--namespace=${watchedA}`), args.join(' '));

    const uninstall = await helm(['uninstall', 'mapi-helm', '--kubeconfig', kubeconfig, '--namespace', helmNs, '--wait', '--timeout', '120s'], 150_000);
    assert.equal(uninstall.code, 0, `helm uninstall: ${uninstall.stdout}${uninstall.stderr}`);
    assert.deepEqual(await names('clusterrole,clusterrolebinding'), []);
    assert.deepEqual(await names('role,rolebinding', watchedA), []);
    for (const crd of ['maildomains.mapi-operator.io', 'mailboxes.mapi-operator.io']) await k.ok(['get', 'crd', crd]);
  });
});

// --- RBAC, for real ------------------------------------------------------------------

/** Applies the chart's ServiceAccount, Roles and bindings (nothing else) for a release. */
async function applyRbac(release: string, values: Values): Promise<Obj[]> {
  const objects = await render(values, release);
  const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  await k.ok(['apply', '-f', '-'], asList(rbac));
  return objects;
}

/** A kubeconfig with a token of the ServiceAccount: same server and CA as the shared one. */
async function serviceAccountKubeconfig(sa: string): Promise<string> {
  const admin = load(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = admin.clusters[0]!.cluster;
  const token = (await k.ok(['create', 'token', sa, '-n', releaseNs, '--duration=1h'])).trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
  const file = path.join(tmp, `${sa}.kubeconfig`);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'mapi-test', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'mapi-test', user: sa } }],
    'current-context': sa,
  }), { mode: 0o600 });
  const who = await kubectlFor(file).json<{ status: { userInfo: { username: string } } }>(['auth', 'whoami']);
  assert.equal(who.status.userInfo.username, `system:serviceaccount:${releaseNs}:${sa}`);
  return file;
}

/** The Deployment's arguments, minus the addresses and log level startOperator sets itself. */
function chartArgs(objects: Obj[]): string[] {
  const args = operatorContainer(objects).args ?? [];
  assert.equal(args[0], 'run');
  return args.slice(1).filter((a) => !/^--(metrics-addr|health-addr|log-level)=/.test(a));
}

/** The Deployment's environment as the kubelet would resolve it in the release namespace. */
function chartEnv(objects: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of operatorContainer(objects).env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = releaseNs;
    else assert.fail(`env ${e.name}: the test does not know how to resolve ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

const forbidden = /forbidden|→ 403\b|"statusCode":\s*403\b|\b403 Forbidden\b/i;
const forbiddenLines = (log: string): string[] => log.split('\n').filter((l) => forbidden.test(l));

async function stopOperator(op: OperatorProcess): Promise<number | null> {
  const code = await Promise.race([op.stop(), delay(45_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    await op.kill9();
    assert.fail(`the operator did not exit within 45 s of SIGTERM (log ${op.logFile})`);
  }
  return code;
}

function mailDomain(name: string, namespace: string, domain: string, checks: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain',
    metadata: { name, namespace, labels: { [runLabel]: run } },
    spec: {
      domain, externalHost: `mail.${domain}`,
      tls: { issuerRef: testIssuerRef },
      ingress: { className: 'nginx' },
      mapi: { image: 'registry.example/bm-mapi:4.1.0', replicas: 1 },
      // A nameserver that refuses: the checks fail fast and the rollout stays held.
      checks: { nameservers: ['127.0.0.1:9'], interval: '1m', ...checks },
    },
  };
}

interface Condition { type: string; status: string; reason: string }
type MailDomainStatus = { observedGeneration?: number; conditions?: Condition[]; checks?: { name: string }[] };

/**
 * Waits until the operator has done everything a MailDomain asks of it, each step through a
 * permission of its own: informers synced (list/watch), children applied (create/patch),
 * status written (maildomains/status patch), cert-manager's verdict seen (watch on
 * Certificates), checks run (and with probeCredentials the Secret read), an Event recorded,
 * the Mailbox's status written, the Lease held.
 */
async function proveConverged(op: OperatorProcess, namespace: string, name: string, lease: string): Promise<void> {
  await waitFor(async () => (await fetchText(`${op.healthUrl()}/readyz`)).status === 200, { timeoutMs: 60_000, describe: `/readyz 200 (informers synced; log ${op.logFile})` });
  const held = await waitFor(async () => (await k.tryGet<{ spec?: { holderIdentity?: string } }>('lease', releaseNs, lease))?.spec?.holderIdentity || undefined, { timeoutMs: 60_000, describe: `Lease ${releaseNs}/${lease} held` });
  const identity = /"identity":"([^"]+)"/.exec(op.logs())?.[1];
  assert.equal(held, identity, 'this operator holds the Lease');

  const md = await waitFor(async () => {
    const o = await k.tryGet<Obj>('maildomain', namespace, name);
    const s = o?.status as MailDomainStatus | undefined;
    return o && s?.observedGeneration === o.metadata.generation ? o : undefined;
  }, { timeoutMs: 60_000, describe: `MailDomain ${namespace}/${name} status.observedGeneration = generation (log ${op.logFile})` });
  for (const [kind, child] of [['certificate', name], ['ingress', name], ['service', `${name}-mapi`], ['deployment', `${name}-mapi`], ['configmap', `${name}-mapi-access`]] as const) {
    const obj = await waitFor(() => k.tryGet<Obj>(kind, namespace, child), { timeoutMs: 30_000, describe: `${kind} ${namespace}/${child}` });
    assert.equal(obj.metadata.ownerReferences?.find((r) => r.controller)?.uid, md.metadata.uid, `${kind} ${child} is owned by the MailDomain`);
  }
  const status = await waitFor(async () => {
    const s = (await k.tryGet<Obj>('maildomain', namespace, name))?.status as MailDomainStatus | undefined;
    const certReady = s?.conditions?.find((c) => c.type === 'CertificateReady')?.status === 'True';
    return certReady && (s?.checks?.length ?? 0) > 0 ? s : undefined;
  }, { timeoutMs: 90_000, describe: `MailDomain ${namespace}/${name}: CertificateReady=True and check rows in status` });
  assert.ok(status.checks!.some((c) => c.name === `dns/autodiscover.${(md.spec as { domain: string }).domain}`), `a dns/ check row: ${JSON.stringify(status.checks)}`);
  assert.equal(status.conditions?.find((c) => c.type === 'RolloutHeld')?.status, 'True', 'held: the checks fail against 127.0.0.1:9');

  await waitFor(async () => {
    const events = await k.json<{ items: { regarding?: { name?: string; kind?: string }; reportingController?: string }[] }>(['get', 'events.events.k8s.io', '-n', namespace]);
    return events.items.some((e) => e.regarding?.kind === 'MailDomain' && e.regarding.name === name && e.reportingController === 'mapi-operator');
  }, { timeoutMs: 30_000, describe: `an Event about MailDomain ${namespace}/${name} from mapi-operator` });
  await waitFor(async () => {
    const mbx = await k.tryGet<Obj>('mailbox', namespace, 'ken');
    return typeof (mbx?.status as { mapiEnabled?: unknown } | undefined)?.mapiEnabled === 'boolean';
  }, { timeoutMs: 30_000, describe: `Mailbox ${namespace}/ken status.mapiEnabled` });
}

function mailbox(namespace: string, domainRef: string, domain: string): Obj {
  return { apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name: 'ken', namespace }, spec: { domainRef, address: `ken.sanchez@${domain}` } };
}

async function assertReleased(lease: string): Promise<void> {
  const l = await k.tryGet<{ spec?: { holderIdentity?: string } }>('lease', releaseNs, lease);
  assert.equal(l?.spec?.holderIdentity ?? '', '', 'the Lease was handed back on SIGTERM (get + update on it)');
}

describe('RBAC is enough: the real operator as the chart ServiceAccount', () => {
  test('default (ClusterRole): a MailDomain converges, the Lease is acquired in mapi-system, and no request is forbidden', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-operator', { labelSelector: `${runLabel}=${run}` });
    const sa = one(objects, 'ServiceAccount').metadata.name;
    const saKubeconfig = await serviceAccountKubeconfig(sa);
    const args = chartArgs(objects);
    assert.deepEqual(args.filter((a) => a.startsWith('--leader-elect')), ['--leader-elect', `--leader-election-namespace=${releaseNs}`, '--leader-election-id=mapi-operator-leader']);

    const domain = `cl-${run}.example`;
    // probeCredentials: every check run reads this Secret (rbac.readSecrets=true).
    await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-creds', namespace: clusterNs }, stringData: { username: 'probe', password: 'secret', address: `probe@${domain}` } });
    const op = await startOperator({ kubeconfig: saKubeconfig, args, env: chartEnv(objects), name: 'chart-cluster' });
    try {
      await k.apply(mailDomain('mail', clusterNs, domain, { probeCredentials: { secretName: 'probe-creds' } }));
      await k.apply(mailbox(clusterNs, 'mail', domain));
      await proveConverged(op, clusterNs, 'mail', 'mapi-operator-leader');
      assert.doesNotMatch(op.logs(), /check run failed/, 'every check run read the Secret');
    } finally {
      const code = await stopOperator(op);
      assert.equal(code, 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    await assertReleased('mapi-operator-leader');
    assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
  });

  test('watchNamespaces (Roles in the listed namespaces + the MailDomain reader): converges with no 403; rbac.readSecrets=false really withholds Secrets', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-scoped', { watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false } });
    const sa = one(objects, 'ServiceAccount').metadata.name;
    const lease = 'mapi-scoped-mapi-operator-leader';
    const saKubeconfig = await serviceAccountKubeconfig(sa);
    const args = chartArgs(objects);
    assert.deepEqual(args.filter((a) => a.startsWith('--namespace')), [`--namespace=${watchedA}`, `--namespace=${watchedB}`]);
    assert.ok(args.includes(`--leader-election-id=${lease}`));

    const domain = `sc-${run}.example`;
    // A MailDomain outside the watched namespaces: readable (host ownership), never touched.
    await k.apply(mailDomain('elsewhere', outside, `out-${run}.example`));
    const op = await startOperator({ kubeconfig: saKubeconfig, args, env: chartEnv(objects), name: 'chart-scoped' });
    try {
      await k.apply(mailDomain('mail', watchedA, domain));
      await k.apply(mailbox(watchedA, 'mail', domain));
      await proveConverged(op, watchedA, 'mail', lease);
      assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
      assert.equal((await k.tryGet<Obj>('maildomain', outside, 'elsewhere'))?.status, undefined, 'the MailDomain outside watchNamespaces has no status');
      assert.equal(await k.tryGet('certificate', outside, 'elsewhere'), undefined, 'and no children');

      // The detector is not blind, and the chart really withheld Secrets: a MailDomain that
      // asks for probe credentials gets a 403 on that Secret, and nothing else does.
      await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-creds', namespace: watchedA }, stringData: { username: 'probe', password: 'secret', address: `probe@${domain}` } });
      await k.apply(mailDomain('mail', watchedA, domain, { probeCredentials: { secretName: 'probe-creds' } }));
      await waitFor(() => forbiddenLines(op.logs()).length > 0, { timeoutMs: 150_000, intervalMs: 1_000, describe: `a 403 on Secret probe-creds in the log (${op.logFile})` });
    } finally {
      const code = await stopOperator(op);
      assert.equal(code, 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    await assertReleased(lease);
    for (const line of forbiddenLines(op.logs())) assert.match(line, new RegExp(`GET /api/v1/namespaces/${watchedA}/secrets/probe-creds`), 'the only 403s are the withheld Secret');
  });
});

// --- RBAC, no more than needed ---------------------------------------------------------

const saOf = (release: string): string => `system:serviceaccount:${releaseNs}:${release === 'mapi-operator' ? 'mapi-operator' : `${release}-mapi-operator`}`;

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

/** `kubectl auth can-i --list` in a namespace: "resource[/name] verb" pairs, without the
 *  self-review and discovery rules every authenticated user has (system:basic-user,
 *  system:discovery, system:public-info-viewer). */
async function ruleList(release: string, namespace: string): Promise<string[]> {
  const out = await k.ok(['auth', 'can-i', '--list', `--as=${saOf(release)}`, '-n', namespace]);
  const pairs = new Set<string>();
  for (const line of out.split('\n').slice(1)) {
    const m = /^(\S+)\s+(?:\[[^\]]*\]\s+)?\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/.exec(line.trim());
    if (!m) continue;
    const [, resource, names, verbs] = m;
    // Non-resource URLs (/api, /healthz, /version...) come from the default discovery roles.
    if (resource!.startsWith('[')) continue;
    if (/^selfsubject\w+\.authorization\.k8s\.io$|^selfsubjectreviews\.authentication\.k8s\.io$/.test(resource!)) continue;
    for (const v of verbs!.split(/\s+/).filter(Boolean)) for (const n of names ? names.split(/\s+/) : ['']) pairs.add(`${resource}${n ? `/${n}` : ''} ${v}`);
  }
  return [...pairs].sort();
}

const workloadRules = (withSecrets: boolean): string[] => [
  ...['certificates.cert-manager.io', 'configmaps', 'deployments.apps', 'ingresses.networking.k8s.io', 'services']
    .flatMap((r) => ['create', 'delete', 'get', 'list', 'patch', 'watch'].map((v) => `${r} ${v}`)),
  'events.events.k8s.io create', 'events.events.k8s.io patch',
  'issuers.cert-manager.io get', 'issuers.cert-manager.io list', 'issuers.cert-manager.io watch',
  'mailboxes.mapi-operator.io get', 'mailboxes.mapi-operator.io list', 'mailboxes.mapi-operator.io watch',
  'mailboxes.mapi-operator.io/status patch',
  'maildomains.mapi-operator.io get', 'maildomains.mapi-operator.io list', 'maildomains.mapi-operator.io watch',
  'maildomains.mapi-operator.io/finalizers update', 'maildomains.mapi-operator.io/status patch',
  ...(withSecrets ? ['secrets get'] : []),
];
const reader = ['maildomains.mapi-operator.io get', 'maildomains.mapi-operator.io list', 'maildomains.mapi-operator.io watch'];

describe('RBAC is no more than needed: kubectl auth can-i as the ServiceAccount', () => {
  before(async () => {
    // Idempotent: the same objects the tests above applied, plus a cluster-wide release without Secrets.
    await applyRbac('mapi-operator', {});
    await applyRbac('mapi-scoped', { watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false } });
    await applyRbac('mapi-nosecrets', { rbac: { readSecrets: false } });
  });

  test('the full rule list per namespace is exactly what the operator uses', async () => {
    const lease = (name: string) => ['leases.coordination.k8s.io create', `leases.coordination.k8s.io/${name} get`, `leases.coordination.k8s.io/${name} update`];
    const expectSorted = (xs: string[]) => [...new Set(xs)].sort();
    assert.deepEqual(await ruleList('mapi-operator', clusterNs), expectSorted(workloadRules(true)));
    assert.deepEqual(await ruleList('mapi-operator', releaseNs), expectSorted([...workloadRules(true), ...lease('mapi-operator-leader')]));
    assert.deepEqual(await ruleList('mapi-nosecrets', clusterNs), expectSorted(workloadRules(false)));
    assert.deepEqual(await ruleList('mapi-scoped', watchedA), expectSorted(workloadRules(false)));
    assert.deepEqual(await ruleList('mapi-scoped', watchedB), expectSorted(workloadRules(false)));
    assert.deepEqual(await ruleList('mapi-scoped', outside), expectSorted(reader));
    assert.deepEqual(await ruleList('mapi-scoped', releaseNs), expectSorted([...reader, ...lease('mapi-scoped-mapi-operator-leader')]));
  });

  test('it can do what it needs', async () => {
    const children = ['certificates.cert-manager.io', 'deployments.apps', 'services', 'configmaps', 'ingresses.networking.k8s.io'];
    const needs = (ns: string | undefined): [string, string, string | undefined, ...string[]][] => [
      ['list', 'maildomains.mapi-operator.io', ns], ['watch', 'maildomains.mapi-operator.io', ns],
      ['list', 'mailboxes.mapi-operator.io', ns], ['watch', 'mailboxes.mapi-operator.io', ns],
      ['patch', 'maildomains.mapi-operator.io', ns, '--subresource=status'], ['patch', 'mailboxes.mapi-operator.io', ns, '--subresource=status'],
      ['update', 'maildomains.mapi-operator.io', ns, '--subresource=finalizers'],
      ['list', 'issuers.cert-manager.io', ns], ['watch', 'issuers.cert-manager.io', ns],
      ['create', 'events.events.k8s.io', ns], ['patch', 'events.events.k8s.io', ns],
      ...children.flatMap((r): [string, string, string | undefined][] => ['list', 'watch', 'create', 'patch', 'delete'].map((v) => [v, r, ns])),
    ];
    await expectCan('mapi-operator', [...needs(undefined), ['get', 'secrets', clusterNs], ['get', 'configmaps', clusterNs],
      ['create', 'leases.coordination.k8s.io', releaseNs], ['get', 'leases.coordination.k8s.io/mapi-operator-leader', releaseNs], ['update', 'leases.coordination.k8s.io/mapi-operator-leader', releaseNs]], true);
    await expectCan('mapi-scoped', [...needs(watchedA), ...needs(watchedB), ['list', 'maildomains.mapi-operator.io', undefined], ['watch', 'maildomains.mapi-operator.io', undefined],
      ['create', 'leases.coordination.k8s.io', releaseNs], ['update', 'leases.coordination.k8s.io/mapi-scoped-mapi-operator-leader', releaseNs]], true);
  });

  test('rbac.readSecrets=false: no Secret access anywhere; with it, get by name only (no list or watch)', async () => {
    const secretVerbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    await expectCan('mapi-nosecrets', secretVerbs.flatMap((v): [string, string, string | undefined][] => [[v, 'secrets', clusterNs], [v, 'secrets', releaseNs], [v, 'secrets', undefined]]), false);
    await expectCan('mapi-scoped', secretVerbs.flatMap((v): [string, string, string | undefined][] => [[v, 'secrets', watchedA], [v, 'secrets', outside]]), false);
    await expectCan('mapi-operator', ['list', 'watch', 'create', 'update', 'patch', 'delete'].map((v): [string, string, string | undefined] => [v, 'secrets', clusterNs]), false);
  });

  test('watchNamespaces: nothing in a namespace outside the list except reading MailDomains', async () => {
    const kinds = ['configmaps', 'services', 'secrets', 'deployments.apps', 'ingresses.networking.k8s.io', 'certificates.cert-manager.io', 'issuers.cert-manager.io', 'mailboxes.mapi-operator.io', 'events.events.k8s.io', 'events', 'pods', 'leases.coordination.k8s.io'];
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    await expectCan('mapi-scoped', [
      ...kinds.flatMap((r) => verbs.map((v): [string, string, string | undefined] => [v, r, outside])),
      ...['create', 'update', 'patch', 'delete'].map((v): [string, string, string | undefined] => [v, 'maildomains.mapi-operator.io', outside]),
      ['patch', 'maildomains.mapi-operator.io', outside, '--subresource=status'],
      // Nor across all namespaces, for anything but MailDomains.
      ...['configmaps', 'deployments.apps', 'mailboxes.mapi-operator.io', 'certificates.cert-manager.io'].map((r): [string, string, string | undefined] => ['list', r, undefined]),
    ], false);
    await expectCan('mapi-scoped', [['get', 'maildomains.mapi-operator.io', outside], ['list', 'maildomains.mapi-operator.io', outside], ['watch', 'maildomains.mapi-operator.io', outside]], true);
  });

  test('never: delete or change MailDomains and Mailboxes, write pods, nodes, CRDs, RBAC, namespaces, other Leases; no impersonation or tokens', async () => {
    for (const release of ['mapi-operator', 'mapi-scoped']) {
      const ns = release === 'mapi-operator' ? clusterNs : watchedA;
      await expectCan(release, [
        ['delete', 'maildomains.mapi-operator.io', ns], ['delete', 'mailboxes.mapi-operator.io', ns],
        ['deletecollection', 'maildomains.mapi-operator.io', ns], ['deletecollection', 'mailboxes.mapi-operator.io', ns],
        ['create', 'maildomains.mapi-operator.io', ns], ['update', 'maildomains.mapi-operator.io', ns], ['patch', 'maildomains.mapi-operator.io', ns],
        ['create', 'mailboxes.mapi-operator.io', ns], ['update', 'mailboxes.mapi-operator.io', ns], ['patch', 'mailboxes.mapi-operator.io', ns],
        ['update', 'maildomains.mapi-operator.io', ns, '--subresource=status'],
        ...['create', 'update', 'patch', 'delete'].map((v): [string, string, string | undefined] => [v, 'pods', ns]),
        ['create', 'pods', ns, '--subresource=exec'], ['get', 'pods', ns, '--subresource=log'],
        ...['create', 'update', 'patch', 'delete'].flatMap((v): [string, string, string | undefined][] => [
          [v, 'nodes', undefined], [v, 'customresourcedefinitions.apiextensions.k8s.io', undefined],
          [v, 'clusterroles.rbac.authorization.k8s.io', undefined], [v, 'clusterrolebindings.rbac.authorization.k8s.io', undefined],
          [v, 'roles.rbac.authorization.k8s.io', ns], [v, 'rolebindings.rbac.authorization.k8s.io', ns],
          [v, 'namespaces', undefined], [v, 'serviceaccounts', ns],
        ]),
        ['escalate', 'clusterroles.rbac.authorization.k8s.io', undefined], ['bind', 'clusterroles.rbac.authorization.k8s.io', undefined],
        ['impersonate', 'users', undefined], ['impersonate', 'serviceaccounts', ns], ['create', 'serviceaccounts', releaseNs, '--subresource=token'],
        ['update', 'deployments.apps', ns], ['update', 'services', ns], ['deletecollection', 'configmaps', ns],
        ['update', 'leases.coordination.k8s.io/someone-else', releaseNs], ['get', 'leases.coordination.k8s.io/someone-else', releaseNs],
        ['delete', 'leases.coordination.k8s.io', releaseNs], ['create', 'leases.coordination.k8s.io', 'kube-system'],
        ['create', 'events', ns], ['update', 'events.events.k8s.io', ns],
        ['update', 'mutatingwebhookconfigurations.admissionregistration.k8s.io', undefined],
        ['create', 'clusterissuers.cert-manager.io', undefined], ['create', 'issuers.cert-manager.io', ns],
      ], false);
    }
  });
});

describe('CRD upgrades (README): helm leaves crds/ alone; kubectl apply --server-side --force-conflicts upgrades them', () => {
  test('on a private control plane: helm install creates the CRDs, helm upgrade does not change them, the README command does', { timeout: 5 * 60_000 }, async () => {
    const cp = await startControlPlane({ kwok: false });
    try {
      const pk = kubectlFor(cp.kubeconfigPath);
      const install = await helm(['install', 'mapi-operator', chartDir, '--kubeconfig', cp.kubeconfigPath, '--namespace', releaseNs, '--create-namespace'], 120_000);
      assert.equal(install.code, 0, `helm install: ${install.stdout}${install.stderr}`);
      const description = async () => (await pk.json<{ spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] } }>(['get', 'crd', 'maildomains.mapi-operator.io'])).spec.versions[0]!.schema.openAPIV3Schema.description;
      const installed = await description();
      assert.ok(installed, 'helm install created the MailDomain CRD from crds/');

      // The next chart version, whose CRD changed (here: its description).
      const next = path.join(tmp, 'next-chart');
      cpSync(chartDir, next, { recursive: true });
      const crdFile = path.join(next, 'crds', readdirSync(path.join(next, 'crds')).find((f) => f.includes('maildomains'))!);
      const crd = load(readFileSync(crdFile, 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: { description?: string } } }[] } };
      crd.spec.versions[0]!.schema.openAPIV3Schema.description = `${installed} (next version)`;
      writeFileSync(crdFile, dump(crd));

      const upgrade = await helm(['upgrade', 'mapi-operator', next, '--kubeconfig', cp.kubeconfigPath, '--namespace', releaseNs], 120_000);
      assert.equal(upgrade.code, 0, `helm upgrade: ${upgrade.stdout}${upgrade.stderr}`);
      assert.equal(await description(), installed, 'helm upgrade leaves the CRD as it was');

      // Without --force-conflicts the apply stops at fields helm's create owns.
      const plain = await pk(['apply', '--server-side', '-f', path.join(next, 'crds')]);
      assert.notEqual(plain.code, 0, 'a plain server-side apply conflicts with the fields helm created');
      assert.match(plain.stderr, /conflict/i);
      await pk.ok(['apply', '--server-side', '--force-conflicts', '-f', path.join(next, 'crds')]);
      assert.equal(await description(), `${installed} (next version)`, 'the README command upgraded the CRD');
      const again = await helm(['upgrade', 'mapi-operator', next, '--kubeconfig', cp.kubeconfigPath, '--namespace', releaseNs], 120_000);
      assert.equal(again.code, 0, `helm upgrade after the CRD upgrade: ${again.stderr}`);
      assert.equal(await description(), `${installed} (next version)`);
    } finally {
      await cp.stop();
    }
  });
});
