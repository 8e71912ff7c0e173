import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEKEEPER_LISTEN_PORT, GATEKEEPER_METRICS_PORT, gatekeeperContainer } from '../../../src/builders/gatekeeper.ts';

test('the sidecar runs `gatekeeper` with the CLI contract, named ports, readiness and a non-root context', () => {
  const c = gatekeeperContainer({ image: 'ghcr.io/example/mapi-operator:0.2.0', upstreamPort: 8080, accessMountPath: '/etc/mapi-operator/access' });
  assert.equal(GATEKEEPER_LISTEN_PORT, 18080);
  assert.equal(GATEKEEPER_METRICS_PORT, 19090);
  assert.deepEqual(c.args, ['gatekeeper', '--listen-port', '18080', '--upstream-port', '8080', '--access-dir', '/etc/mapi-operator/access', '--metrics-port', '19090', '--drain-timeout', '25s']);
  assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['http', 18080], ['gk-metrics', 19090]]);
  assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'gk-metrics' });
  assert.equal(c.securityContext?.runAsNonRoot, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
  assert.deepEqual(c.volumeMounts, [{ name: 'mapi-access', mountPath: '/etc/mapi-operator/access', readOnly: true }]);
  assert.ok(c.resources?.requests?.memory);
  assert.deepEqual(c.env, [{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' }]);
});
