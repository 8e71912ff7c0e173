// spec.exposure in the apiserver (the generated CRD's CEL rule and schema): exactly one of
// ingress or gateway, with the same message the operator's own validation gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';

const ns = 'it-exposure-api';
const k = kubectlFor(sharedKubeconfigPath());
const server = (exposure?: unknown) => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'hoster', namespace: ns },
  spec: { externalHost: 'mail.hoster.example', image: 'registry.example/bm-mapi:5.3.0', tls: { issuerRef: { name: 'letsencrypt' } }, ...(exposure !== undefined ? { exposure } : {}) },
});
const dryRun = (o: object) => k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(o));

before(() => freshNamespace(k, ns));
after(async () => { await k(['delete', 'namespace', ns, '--wait=false']); });

test('the apiserver takes exposure.gateway alone and defaults to an Ingress; both or neither are refused with the fix', async () => {
  assert.equal((await dryRun(server({ gateway: { parentRef: { name: 'edge', namespace: 'gateway-system' } } }))).code, 0);
  const defaulted = JSON.parse((await k(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(server()))).stdout) as { spec: { exposure: unknown } };
  assert.deepEqual(defaulted.spec.exposure, { ingress: { annotations: {} } });
  for (const bad of [{}, { ingress: {}, gateway: { parentRef: { name: 'edge' } } }]) {
    const r = await dryRun(server(bad));
    assert.notEqual(r.code, 0, JSON.stringify(bad));
    assert.match(r.stderr, /set exactly one of spec\.exposure\.ingress or spec\.exposure\.gateway/);
  }
  const noName = await dryRun(server({ gateway: { parentRef: { namespace: 'gateway-system' } } }));
  assert.match(noName.stderr, /spec\.exposure\.gateway\.parentRef\.name: Required value/);
});
