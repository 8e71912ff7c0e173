// The chart's RBAC for v1alpha2, against the shared control plane. No more than needed:
// `kubectl auth can-i --list` as the chart's ServiceAccount shows exactly the expected rule
// set, for every namespace and the cluster-wide and watchNamespaces shapes. Enough: the real
// operator, authenticated with a token of that ServiceAccount and started with the chart's own
// arguments and environment, converges a MapiServer, a MailDomain and a Mailbox (status,
// children, Events, Lease) with no 403 in its log.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { testIssuerRef } from '../../../src/dev/cert-manager/issuer.ts';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { asList, one, operatorContainer, releaseNs, render, rulesOf, tmp, type Obj, type Values } from './helm.ts';

const run = randomBytes(3).toString('hex');
const watchedA = 'chart-watch-a';
const watchedB = 'chart-watch-b';
const outside = 'chart-outside';
const clusterNs = 'chart-cluster';
// The cluster-wide operator reconciles only this run's objects (other test files leave
// theirs behind in namespaces being deleted); the selector does not change the RBAC.
const runLabel = 'chart-test.mapi-operator.io/run';

const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);

before(async () => {
  for (const ns of [releaseNs, watchedA, watchedB, outside, clusterNs]) await freshNamespace(k, ns);
});
after(async () => {
  await k(['delete', 'clusterrole,clusterrolebinding', '-l', 'app.kubernetes.io/instance in (mapi-operator,mapi-scoped,mapi-nosecrets)', '--wait=false']);
  await k(['delete', 'maildomaingrants', '-l', `${runLabel}=${run}`, '--wait=false']);
  for (const ns of [watchedA, watchedB, outside, clusterNs]) await k(['delete', 'namespace', ns, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
});

/** Applies the chart's ServiceAccount, Roles and bindings (nothing else) for a release. */
async function applyRbac(release: string, values: Values): Promise<Obj[]> {
  const objects = await render(values, release);
  const rbac = objects.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
  await k.ok(['apply', '-f', '-'], asList(rbac));
  return objects;
}

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

// --- RBAC is enough: the real operator --------------------------------------------------

async function serviceAccountKubeconfig(sa: string): Promise<string> {
  const admin = load(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = admin.clusters[0]!.cluster;
  const token = (await k.ok(['create', 'token', sa, '-n', releaseNs, '--duration=1h'])).trim();
  const file = path.join(tmp, `${sa}.kubeconfig`);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'mapi-test', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'mapi-test', user: sa } }],
    'current-context': sa,
  }), { mode: 0o600 });
  return file;
}

/** The Deployment's arguments, minus the addresses and log level startOperator sets itself. */
function chartArgs(objects: Obj[]): string[] {
  const args = operatorContainer(objects).args ?? [];
  assert.equal(args[0], 'run');
  return args.slice(1).filter((a) => !/^--(metrics-addr|health-addr|log-level|log-format)=/.test(a));
}

function chartEnv(objects: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of operatorContainer(objects).env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = releaseNs;
    else assert.fail(`env ${e.name}: the test does not know how to resolve ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

const forbiddenLines = (log: string): string[] => log.split('\n').filter((l) => /forbidden|→ 403\b|"statusCode":\s*403\b|\b403 Forbidden\b/i.test(l));

async function stopOperator(op: OperatorProcess): Promise<number | null> {
  const code = await Promise.race([op.stop(), delay(45_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    await op.kill9();
    assert.fail(`the operator did not exit within 45 s of SIGTERM (log ${op.logFile})`);
  }
  return code;
}

const labels = { [runLabel]: run };
/** tenancy=Granted (the chart default): the platform team's grant for a namespace's hosts. */
const grant = (namespace: string, domain: string): Obj => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomainGrant', metadata: { name: `chart-${namespace}-${run}`, labels },
  spec: { namespaces: [namespace], domains: [domain], hostSuffixes: [`mail.${domain}`] },
} as Obj);
function mapiServer(namespace: string, host: string, checks: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'bluemind', namespace, labels },
    spec: {
      externalHost: host, image: 'registry.example/bm-mapi:5.3.0', replicas: 1,
      tls: { issuerRef: testIssuerRef }, exposure: { ingress: { className: 'nginx' } },
      // A nameserver that refuses: the checks fail fast and the rollout stays held.
      checks: { nameservers: ['127.0.0.1:9'], interval: '1m', ...checks },
    },
  };
}
const mailDomain = (namespace: string, domain: string): Obj => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: 'example', namespace, labels }, spec: { serverRef: 'bluemind', domain } });
const mailbox = (namespace: string, domain: string): Obj => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { name: 'ken', namespace, labels }, spec: { domainRef: 'example', address: `ken.sanchez@${domain}` } });

const observed = async (kind: string, ns: string, name: string): Promise<Obj | undefined> => {
  const o = await k.tryGet<Obj>(kind, ns, name);
  return o && (o.status as { observedGeneration?: number } | undefined)?.observedGeneration === o.metadata.generation ? o : undefined;
};

/** Everything the operator does for the three kinds, each through a permission of its own. */
async function proveConverged(op: OperatorProcess, ns: string, leaseName: string): Promise<void> {
  await waitFor(async () => (await fetchText(`${op.healthUrl()}/readyz`)).status === 200, { timeoutMs: 60_000, describe: `/readyz 200 (log ${op.logFile})` });
  await waitFor(async () => (await k.tryGet<{ spec?: { holderIdentity?: string } }>('lease', releaseNs, leaseName))?.spec?.holderIdentity || undefined, { timeoutMs: 60_000, describe: `Lease ${releaseNs}/${leaseName} held` });
  const server = await waitFor(() => observed('mapiserver', ns, 'bluemind'), { timeoutMs: 90_000, describe: `MapiServer ${ns}/bluemind status for its generation (log ${op.logFile})` });
  await waitFor(() => observed('maildomain', ns, 'example'), { timeoutMs: 60_000, describe: `MailDomain ${ns}/example status (log ${op.logFile})` });
  await waitFor(async () => typeof ((await k.tryGet<Obj>('mailbox', ns, 'ken'))?.status as { mapiEnabled?: unknown } | undefined)?.mapiEnabled === 'boolean', { timeoutMs: 60_000, describe: `Mailbox ${ns}/ken status.mapiEnabled` });
  for (const kind of ['deployments', 'services', 'certificates.cert-manager.io']) {
    await waitFor(async () => {
      const list = await k.json<{ items: Obj[] }>(['get', kind, '-n', ns]);
      return list.items.some((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === server.metadata.uid));
    }, { timeoutMs: 60_000, describe: `a ${kind} owned by the MapiServer in ${ns}` });
  }
  await waitFor(async () => {
    const events = await k.json<{ items: { regarding?: { kind?: string }; reportingController?: string }[] }>(['get', 'events.events.k8s.io', '-n', ns]);
    return events.items.some((e) => e.reportingController === 'mapi-operator');
  }, { timeoutMs: 60_000, describe: `an Event from mapi-operator in ${ns}` });
}

describe('RBAC is enough: the real operator as the chart ServiceAccount', () => {
  test('default (ClusterRole): MapiServer, MailDomain and Mailbox converge and no request is forbidden', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-operator', { labelSelector: `${runLabel}=${run}` });
    const op = await startOperator({ kubeconfig: await serviceAccountKubeconfig(one(objects, 'ServiceAccount').metadata.name), args: chartArgs(objects), env: chartEnv(objects), name: 'chart-cluster' });
    try {
      const domain = `cl-${run}.example`;
      await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-creds', namespace: clusterNs }, stringData: { username: 'probe', password: 'secret', address: `probe@${domain}` } });
      await k.apply(grant(clusterNs, domain));
      await k.apply(mapiServer(clusterNs, `mail.${domain}`, { probeCredentials: { secretName: 'probe-creds' } }));
      await k.apply(mailDomain(clusterNs, domain));
      await k.apply(mailbox(clusterNs, domain));
      await proveConverged(op, clusterNs, 'mapi-operator-leader');
    } finally {
      assert.equal(await stopOperator(op), 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
  });

  test('watchNamespaces + rbac.readSecrets=false: converges with no 403 and leaves other namespaces alone', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-scoped', { watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false } });
    const op = await startOperator({ kubeconfig: await serviceAccountKubeconfig(one(objects, 'ServiceAccount').metadata.name), args: chartArgs(objects), env: chartEnv(objects), name: 'chart-scoped' });
    try {
      const domain = `sc-${run}.example`;
      await k.apply(mapiServer(outside, `mail.out-${run}.example`));
      await k.apply(grant(watchedA, domain));
      await k.apply(mapiServer(watchedA, `mail.${domain}`));
      await k.apply(mailDomain(watchedA, domain));
      await k.apply(mailbox(watchedA, domain));
      await proveConverged(op, watchedA, 'mapi-scoped-mapi-operator-leader');
      assert.equal((await k.tryGet<Obj>('mapiserver', outside, 'bluemind'))?.status, undefined, 'the MapiServer outside watchNamespaces has no status');
    } finally {
      assert.equal(await stopOperator(op), 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
  });
});
