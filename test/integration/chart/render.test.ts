// The chart renders what a platform engineer asks for, and nothing a typo asks for: `helm
// lint --strict`, `helm template` over several value sets (each accepted by the real
// apiserver in a server-side dry run), values.schema.json refusing each class of mistake with
// the key named, the operator Deployment's shape, the PrometheusRule and NOTES.txt.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rmSync } from 'node:fs';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import {
  asList, chartDir, crdNames, helm, kubeVersion, one, operatorContainer, podSpec, releaseNs, render, template, tmp, valuesFile, withoutPrometheus, type Obj, type Values,
} from './helm.ts';

const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);
const watchedA = 'chart-render-a';
const watchedB = 'chart-render-b';

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
  'rbac.readSecrets=false, no ClusterIssuers': { rbac: { readSecrets: false }, allowClusterIssuers: false },
  'leaderElection.enabled=false': { leaderElection: { enabled: false } },
  'crds.enabled=false': { crds: { enabled: false } },
  'everything a platform team sets': {
    fullnameOverride: 'mapi', image: { repository: 'registry.example/mapi-operator', tag: '0.2.0', digest: `sha256:${'a'.repeat(64)}` },
    gatekeeper: { image: 'registry.example/gatekeeper:1' }, extraArgs: ['--log-level=debug'], extraEnv: [{ name: 'TZ', value: 'UTC' }],
    podLabels: { team: 'mail' }, podAnnotations: { 'example.com/owner': 'mail' }, logFormat: 'text', probePrivateNetworks: true, tenancy: 'Open',
    leaderElection: { leaseDuration: '30s', renewDeadline: '20s', retryPeriod: '4s' }, concurrency: 8, mailboxConcurrency: 32,
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }],
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } }, prometheusRule: { enabled: true, labels: { release: 'prometheus' } } },
    watchNamespaces: [watchedA], labelSelector: 'shard in (eu, us)', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
  },
};

before(async () => {
  for (const ns of [releaseNs, watchedA, watchedB]) await freshNamespace(k, ns);
});
after(async () => {
  for (const ns of [watchedA, watchedB]) await k(['delete', 'namespace', ns, '--wait=false']);
  rmSync(tmp, { recursive: true, force: true });
});

describe('helm lint and template', () => {
  test('helm lint --strict passes with default values and with each variant', async () => {
    const version = await helm(['version', '--short']);
    assert.match(version.stdout, /^v3\.19\.\d+/, `helm v3.19.x from tools/controlplane/build-helm.sh: ${version.stdout}${version.stderr}`);
    for (const [name, values] of Object.entries(variants)) {
      const r = await helm(['lint', '--strict', chartDir, '--values', valuesFile(values), '--kube-version', kubeVersion()]);
      assert.equal(r.code, 0, `helm lint --strict (${name}):\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const [name, values] of Object.entries(variants)) {
    test(`${name}: renders, and the apiserver accepts every object (server-side dry run)`, async () => {
      const objects = await render(values);
      for (const o of objects) {
        const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(o.kind);
        if (!clusterScoped) assert.ok(o.metadata.namespace, `${o.kind}/${o.metadata.name} names its namespace`);
      }
      await dryRunApply(withoutPrometheus(objects));
    });
  }
});

describe('values.schema.json refuses each class of mistake, naming the key', () => {
  const refused: [string, Values, RegExp][] = [
    ['an unknown top-level key', { replicas: 2 }, /additional properties 'replicas' not allowed/],
    ['an unknown key one level down', { image: { tags: 'v1' } }, /image.*additional properties 'tags' not allowed/],
    ['an unknown key three levels down', { metrics: { serviceMonitor: { intervall: '1m' } } }, /metrics\/serviceMonitor.*additional properties 'intervall' not allowed/],
    ['an unknown key in a Kubernetes object', { securityContext: { readOnlyRootFileSystem: true } }, /securityContext.*additional properties 'readOnlyRootFileSystem' not allowed/],
    ['a log level outside the enum', { logLevel: 'verbose' }, /logLevel.*(value must be one of|must be one of)/],
    ['a log format outside the enum', { logFormat: 'yaml' }, /logFormat/],
    ['a tenancy outside the enum', { tenancy: 'Shared' }, /tenancy/],
    ['a duration in words', { progressDeadline: '10 minutes' }, /progressDeadline.*does not match pattern/],
    ['a lease duration without a unit', { leaderElection: { leaseDuration: '15' } }, /leaderElection\/leaseDuration.*does not match pattern/],
    ['a quantity with a wrong suffix', { resources: { requests: { memory: '96MB' } } }, /resources\/requests\/memory/],
    ['a number as a string', { concurrency: '4' }, /concurrency.*got string, want integer/],
    ['a port out of range', { metrics: { port: 70000 } }, /metrics\/port.*maximum/],
    ['a digest that is not sha256', { image: { digest: 'latest' } }, /image\/digest.*does not match pattern/],
    ['a namespace that is not a DNS label', { watchNamespaces: ['Mail_EU'] }, /watchNamespaces\/0.*does not match pattern/],
    ['an extra argument without --', { extraArgs: ['log-level=debug'] }, /extraArgs\/0.*does not match pattern/],
    ['an env var without a name', { extraEnv: [{ value: 'x' }] }, /extraEnv\/0.*missing property 'name'/],
  ];
  for (const [what, values, message] of refused) {
    test(what, async () => {
      const r = await template(values);
      assert.notEqual(r.code, 0, `helm template accepted ${JSON.stringify(values)}`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, message);
    });
  }

  test('more than one replica without leader election is refused with a reason', async () => {
    const r = await template({ leaderElection: { enabled: false }, replicaCount: 2 });
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
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    const sc = operatorContainer(objects).securityContext;
    assert.equal(sc?.readOnlyRootFilesystem, true);
    assert.equal(sc?.allowPrivilegeEscalation, false);
    assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
    assert.equal(pod.serviceAccountName, one(objects, 'ServiceAccount').metadata.name);
  });

  test('defaults: the appVersion tag, the same image for the access gate, 2 replicas spread across nodes, leader election with client-go timings', async () => {
    const objects = await render({});
    const c = operatorContainer(objects);
    assert.equal(c.image, 'ghcr.io/mapi-operator/mapi-operator:0.1.0');
    assert.deepEqual(c.env?.find((e) => e.name === 'MAPI_OPERATOR_GATEKEEPER_IMAGE'), { name: 'MAPI_OPERATOR_GATEKEEPER_IMAGE', value: c.image });
    const args = c.args ?? [];
    for (const a of ['--tenancy=Granted', '--leader-elect', `--leader-election-namespace=${releaseNs}`, '--leader-election-id=mapi-operator-leader', '--leader-elect-lease-duration=15s', '--leader-elect-renew-deadline=10s', '--leader-elect-retry-period=2s', '--log-format=json', '--concurrency=4', '--mailbox-concurrency=16']) {
      assert.ok(args.includes(a), `${a} in ${args.join(' ')}`);
    }
    assert.ok(!args.includes('--probe-private-networks'), 'private networks are not probed by default');
    assert.equal((one(objects, 'Deployment').spec as { replicas: number }).replicas, 2);
    one(objects, 'PodDisruptionBudget');
    assert.deepEqual(podSpec(objects).topologySpreadConstraints, [{
      maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'mapi-operator', 'app.kubernetes.io/instance': 'mapi-operator' } },
    }]);
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.deepEqual(crds.map((o) => o.metadata.name).sort(), crdNames());
    for (const crd of crds) assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  });

  test('everything a platform team sets lands where it should', async () => {
    const objects = await render(variants['everything a platform team sets']!);
    for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition' && !x.kind.startsWith('Cluster'))) assert.match(o.metadata.name, /^mapi(-|$)/, `fullnameOverride names ${o.kind}/${o.metadata.name}`);
    const c = operatorContainer(objects);
    assert.equal(c.image, `registry.example/mapi-operator:0.2.0@sha256:${'a'.repeat(64)}`);
    assert.equal(c.env?.find((e) => e.name === 'MAPI_OPERATOR_GATEKEEPER_IMAGE')?.value, 'registry.example/gatekeeper:1');
    assert.deepEqual(c.env?.find((e) => e.name === 'TZ'), { name: 'TZ', value: 'UTC' });
    const args = c.args ?? [];
    assert.equal(args.at(-1), '--log-level=debug', 'extraArgs come last (they win over the chart’s own)');
    for (const a of ['--tenancy=Open', '--probe-private-networks', '--log-format=text', '--leader-elect-lease-duration=30s', '--leader-elect-renew-deadline=20s', '--leader-elect-retry-period=4s', `--namespace=${watchedA}`, '--label-selector=shard in (eu, us)', '--concurrency=8', '--mailbox-concurrency=32']) assert.ok(args.includes(a), `${a} in ${args.join(' ')}`);
    const tpl = (one(objects, 'Deployment').spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } }).template.metadata;
    assert.equal(tpl.labels.team, 'mail');
    assert.equal(tpl.labels['app.kubernetes.io/name'], 'mapi-operator', 'podLabels never replace the selector labels');
    assert.equal(tpl.annotations['example.com/owner'], 'mail');
    assert.deepEqual(podSpec(objects).topologySpreadConstraints, [{
      maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'mapi-operator', 'app.kubernetes.io/instance': 'mapi-operator' } },
    }], 'a given constraint gets the pod selector filled in');
    const sm = one(objects, 'ServiceMonitor');
    assert.equal(sm.metadata.labels?.release, 'prometheus');
    assert.deepEqual((sm.spec as { endpoints: unknown[] }).endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
  });

  test('image.digest without a tag pulls by digest alone; topologySpreadConstraints: [] turns spreading off', async () => {
    const objects = await render({ image: { digest: `sha256:${'b'.repeat(64)}` }, topologySpreadConstraints: [] });
    assert.equal(operatorContainer(objects).image, `ghcr.io/mapi-operator/mapi-operator@sha256:${'b'.repeat(64)}`);
    assert.equal(podSpec(objects).topologySpreadConstraints, undefined);
  });

  test('crds.keep=false: no resource-policy, so helm uninstall deletes the CRDs; crds.enabled=false: no CRDs', async () => {
    const loose = await render({ crds: { keep: false } });
    for (const crd of loose.filter((o) => o.kind === 'CustomResourceDefinition')) assert.equal(crd.metadata.annotations, undefined);
    assert.deepEqual((await render({ crds: { enabled: false } })).filter((o) => o.kind === 'CustomResourceDefinition'), []);
  });
});

describe('PrometheusRule', () => {
  test('one alert per runbook section, scoped to this release, with its thresholds from values', async () => {
    const objects = await render({ metrics: { prometheusRule: { enabled: true, gateClosedFor: '2h', certificateExpiryWarning: '72h' } } });
    const rule = one(objects, 'PrometheusRule');
    const rules = (rule.spec as { groups: { rules: { alert: string; expr: string; for?: string; annotations: Record<string, string> }[] }[] }).groups[0]!.rules;
    assert.deepEqual(rules.map((r) => r.alert), ['MapiGateClosed', 'MapiCertificateExpiring', 'MapiRolledBack', 'MapiOperatorNoLeader', 'MapiOperatorNotReconciling', 'MapiOperatorReconcileErrors']);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    assert.equal(byName.MapiGateClosed!.for, '2h');
    assert.match(byName.MapiCertificateExpiring!.expr, /< 259200$/);
    for (const r of rules) {
      assert.match(r.expr, new RegExp(`job="mapi-operator-metrics", namespace="${releaseNs}"`), `${r.alert} is scoped to this release`);
      assert.match(r.annotations.runbook_url!, new RegExp(`docs/metrics-and-alerts\\.md#${r.alert.toLowerCase()}$`));
    }
  });
});

describe('NOTES.txt', () => {
  test('names the next steps: an Issuer, a MapiServer, kubectl get mapi', async () => {
    const r = await helm(['install', 'mapi-operator', chartDir, '--dry-run=client', '--kubeconfig', kubeconfig, '--namespace', releaseNs, '--values', valuesFile({ watchNamespaces: ['mail'], crds: { enabled: false } })]);
    // (crds.enabled=false: the shared control plane's CRDs are not this release's to adopt.)
    assert.equal(r.code, 0, r.stderr);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    assert.match(notes, /watching mail\./);
    assert.match(notes, /Issuer/);
    assert.match(notes, /kind: MapiServer/);
    assert.match(notes, /tenancy=Granted: also give the namespace its hosts/);
    assert.match(notes, /kind: MailDomainGrant/);
    assert.match(notes, /kubectl get mapi -A/);
    assert.match(notes, /lease\/mapi-operator-leader/);
    assert.match(notes, /did not install the CRDs \(crds\.enabled=false\)\. Apply them first:\n\s+kubectl apply --server-side -f /);
  });
});
