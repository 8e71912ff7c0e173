// A MapiServer or a MailDomain the operator cannot parse (stored before the current CRD's
// validation, here by CRDs whose schema was taken out) is reported through its status and
// never rewritten or deleted, and nothing is created for it; the operator keeps running and
// serves the valid ones next to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import * as yaml from 'js-yaml';
import { startControlPlane, type ControlPlane } from '../../../src/dev/controlplane.ts';
import { ensureCertManagerCrds, repoRoot } from '../../../src/dev/controlplane-assets.ts';
import { kubectlFor, type Kubectl } from '../../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { mailDomainManifest, mapiServerManifest, ISSUER } from '../../support/fixtures.ts';

let cp: ControlPlane;
let k: Kubectl;
let op: OperatorProcess;
const ns = 'lax';

interface Condition { type: string; status: string; reason: string; message: string }
interface Stored { spec: unknown; metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Condition[] } }

/** Our CRD with its validation taken out: what an older, laxer CRD would have stored. */
function laxCrd(file: string): string {
  const crd = yaml.load(readFileSync(path.join(repoRoot, 'crds', file), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  for (const version of crd.spec.versions) {
    version.schema.openAPIV3Schema = {
      type: 'object',
      properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
    };
  }
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'lax-crd-')), file.replace(/\.yaml$/, '.json'));
  writeFileSync(out, JSON.stringify(crd));
  return out;
}

before(async () => {
  cp = await startControlPlane({ kwok: false });
  k = kubectlFor(cp.kubeconfigPath);
  await k.ok(['apply', '--server-side', '-f', await ensureCertManagerCrds()]);
  await k.ok([
    'apply', '--server-side',
    '-f', laxCrd('mapi-operator.io_mapiservers.yaml'), '-f', laxCrd('mapi-operator.io_maildomains.yaml'),
    '-f', path.join(repoRoot, 'crds/mapi-operator.io_mailboxes.yaml'),
  ]);
  await k.ok(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  // The issuer the fixtures name must exist (ClusterIssuerNotFound stalls a server); no
  // cert-manager controller runs here, the object is what the operator looks for.
  await k.apply({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: ISSUER }, spec: { selfSigned: {} } });
  await k.ok(['create', 'namespace', ns]);
  op = await startOperator({ kubeconfig: cp.kubeconfigPath, namespaces: [ns], name: 'lax' });
});

after(async () => {
  await op?.kill9();
  await cp?.stop();
});

async function stalledInvalid(kind: string, name: string): Promise<Condition> {
  const stalled = await waitFor(async () => {
    const o = await k.tryGet<Stored>(kind, ns, name);
    return o?.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  }, { describe: `${kind} ${name}: Stalled` });
  assert.equal(stalled.reason, 'InvalidSpec', stalled.message);
  return stalled;
}

async function assertUntouched(kind: string, name: string, spec: unknown): Promise<void> {
  const stored = await k.json<Stored>(['get', kind, '-n', ns, name]);
  assert.deepEqual(stored.spec, spec, `${kind} ${name}: the spec is never rewritten`);
  assert.equal(stored.metadata.generation, 1);
  assert.equal(stored.status?.observedGeneration, 1);
  const ready = stored.status?.conditions?.find((c) => c.type === 'Ready');
  assert.deepEqual([ready?.status, ready?.reason], ['False', 'InvalidSpec']);
}

const checks = { nameservers: ['127.0.0.1:9'] };

test('an unparseable MapiServer and MailDomain: Stalled/InvalidSpec naming the fields, spec untouched, no children; valid ones still served', async () => {
  const badServer = {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'bad', namespace: ns },
    spec: { externalHost: 'Mail.Example.COM.', image: 'x:1', replicas: -3, port: 0, tls: { issuerRef: { name: 'x' } }, gate: { mode: 'Block' } },
  };
  const badDomain = {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: 'bad-domain', namespace: ns },
    // It names the valid server: an unreadable domain must not stop its server from serving the others.
    spec: { serverRef: 'good', domain: 'Example.COM.', aliases: ['Example.COM.'], autodiscover: { require: 'Most' } },
  };
  await k.apply(badServer);
  await k.apply(badDomain);
  await k.apply(mapiServerManifest('good', ns, { externalHost: 'mail.good.example', checks }));
  await k.apply(mailDomainManifest('good-domain', ns, { serverRef: 'good', domain: 'good.example' }));
  // A valid MailDomain naming the invalid server: it waits, and gets nothing.
  await k.apply(mailDomainManifest('orphan', ns, { serverRef: 'bad', domain: 'orphan.example' }));

  const server = await stalledInvalid('mapiserver', 'bad');
  assert.match(server.message, /spec\.externalHost: must be lower-case/);
  assert.match(server.message, /spec\.replicas/);
  assert.match(server.message, /spec\.port/);
  assert.match(server.message, /spec\.gate\.mode/);
  assert.match(server.message, /fix the MapiServer and apply it again/);
  const domain = await stalledInvalid('maildomain', 'bad-domain');
  assert.match(domain.message, /spec\.domain: must be lower-case/);
  assert.match(domain.message, /spec\.aliases\[0\]/);
  assert.match(domain.message, /spec\.autodiscover\.require/);
  assert.match(domain.message, /fix the MailDomain and apply it again/);

  await waitFor(async () => (await k.tryGet('deployment', ns, 'good-mapi')) !== undefined, { describe: 'the valid MapiServer is served' });
  await waitFor(async () => (await k.tryGet('ingress', ns, 'good-domain-autodiscover')) !== undefined, { describe: 'the valid MailDomain is served' });
  const orphanReady = await waitFor(async () => (await k.tryGet<Stored>('maildomain', ns, 'orphan'))?.status?.conditions?.find((x) => x.type === 'Ready'), { describe: 'the MailDomain of the invalid server has a status' });
  assert.equal(orphanReady.status, 'False', 'a MailDomain of an unreadable server is not Ready');
  // The server exists: the message points at it, not at creating one.
  assert.match(orphanReady.message, new RegExp(`spec\\.serverRef: MapiServer bad in namespace ${ns} has a spec the operator cannot read \\(see its Stalled condition\\); fix that MapiServer`));
  // The valid server counts only its valid domain as accepted.
  await waitFor(async () => {
    const domains = (await k.tryGet<{ status?: { domains?: { accepted?: number } } }>('mapiserver', ns, 'good'))?.status?.domains;
    return domains?.accepted === 1;
  }, { describe: 'the valid server accepts its one valid domain' });

  await assertUntouched('mapiserver', 'bad', badServer.spec);
  await assertUntouched('maildomain', 'bad-domain', badDomain.spec);
  for (const [kind, name] of [
    ['deployment', 'bad-mapi'], ['service', 'bad-mapi'], ['ingress', 'bad-mapi'], ['certificate', 'bad-mapi'], ['poddisruptionbudget', 'bad-mapi'], ['configmap', 'bad-mapi-access'],
    ['ingress', 'bad-domain-autodiscover'], ['certificate', 'bad-domain-autodiscover'], ['ingress', 'orphan-autodiscover'], ['certificate', 'orphan-autodiscover'],
  ]) {
    assert.equal(await k.tryGet(kind!, ns, name!), undefined, `no ${kind} ${name} for an invalid spec`);
  }
  const children = await k.json<{ items: { kind: string; metadata: { name: string } }[] }>(['get', 'deployments,services,ingresses,certificates,poddisruptionbudgets,configmaps', '-n', ns, '-l', 'app.kubernetes.io/managed-by=mapi-operator']);
  assert.deepEqual(children.items.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'Certificate/good-domain-autodiscover', 'Certificate/good-mapi', 'ConfigMap/good-mapi-access', 'Deployment/good-mapi',
    'Ingress/good-domain-autodiscover', 'Ingress/good-mapi', 'PodDisruptionBudget/good-mapi', 'Service/good-mapi',
  ], 'only the valid server and its valid domain have children');
  assert.equal(op.child.exitCode, null, 'the operator keeps running');
});
