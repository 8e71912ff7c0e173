// A MailDomain the operator cannot parse (stored before the current CRD's validation, here by
// a CRD without a schema) is reported through its status and never rewritten or deleted, and
// nothing is created for it; the operator keeps running and serves the valid ones.
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

let cp: ControlPlane;
let k: Kubectl;
let op: OperatorProcess;

before(async () => {
  cp = await startControlPlane({ kwok: false });
  k = kubectlFor(cp.kubeconfigPath);
  await k.ok(['apply', '--server-side', '-f', await ensureCertManagerCrds()]);
  // Our CRD with its validation taken out: what an older, laxer CRD would have stored.
  const crd = yaml.load(readFileSync(path.join(repoRoot, 'crds/mapi-operator.io_maildomains.yaml'), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  crd.spec.versions[0]!.schema.openAPIV3Schema = {
    type: 'object',
    properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
  };
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'lax-crd-')), 'crd.json');
  writeFileSync(file, JSON.stringify(crd));
  await k.ok(['apply', '--server-side', '-f', file, '-f', path.join(repoRoot, 'crds/mapi-operator.io_mailboxes.yaml')]);
  await k.ok(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  await k.ok(['create', 'namespace', 'lax']);
  op = await startOperator({ kubeconfig: cp.kubeconfigPath, namespaces: ['lax'], name: 'lax' });
});

after(async () => {
  await op?.kill9();
  await cp?.stop();
});

test('an unparseable MailDomain: Stalled/InvalidSpec naming the fields, spec untouched, no children; valid ones still served', async () => {
  const bad = {
    apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', metadata: { name: 'bad', namespace: 'lax' },
    spec: { domain: 'Example.COM.', aliases: ['Example.COM.'], tls: { issuerRef: { name: 'x' } }, mapi: { image: 'x:1', replicas: -3 } },
  };
  await k.apply(bad);
  await k.apply({
    apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', metadata: { name: 'good', namespace: 'lax' },
    spec: { domain: 'good.example', externalHost: 'mail.good.example', tls: { issuerRef: { name: 'x' } }, mapi: { image: 'x:1' }, checks: { nameservers: ['127.0.0.1:9'] } },
  });
  const stalled = await waitFor(async () => {
    const o = await k.tryGet<{ status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } }>('maildomain', 'lax', 'bad');
    return o?.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
  }, { describe: 'bad: Stalled' });
  assert.equal(stalled.reason, 'InvalidSpec');
  assert.match(stalled.message, /spec\.domain: must be lower-case/);
  assert.match(stalled.message, /spec\.externalHost/);
  assert.match(stalled.message, /spec\.mapi\.replicas/);
  const stored = await k.json<{ spec: unknown; metadata: { generation: number } }>(['get', 'maildomain', '-n', 'lax', 'bad']);
  assert.deepEqual(stored.spec, bad.spec, 'the spec is never rewritten');
  assert.equal(stored.metadata.generation, 1);
  await waitFor(async () => (await k.tryGet('deployment', 'lax', 'good-mapi')) !== undefined, { describe: 'the valid MailDomain is served' });
  for (const kind of ['deployment', 'ingress', 'certificate', 'service']) {
    const name = kind === 'deployment' || kind === 'service' ? 'bad-mapi' : 'bad';
    assert.equal(await k.tryGet(kind, 'lax', name), undefined, `no ${kind} for the invalid MailDomain`);
  }
  assert.equal(op.child.exitCode, null, 'the operator keeps running');
});
