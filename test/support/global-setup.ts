// Global setup for `node --test --test-global-setup=test/support/global-setup.ts`
// (npm run test:integration). Runs once in the test runner process: builds the control
// plane binaries when missing, starts one shared control plane with cert-manager's CRDs,
// ours (crds/*.yaml) and cert-manager's controller, and publishes the kubeconfig as
// MAPI_TEST_KUBECONFIG. Test files run as child processes of the runner, spawned after
// globalSetup resolves, so they inherit the variable (verified on Node 24.21).
import os from 'node:os';
import path from 'node:path';
import { startTestEnvironment, type TestEnvironment } from '../../src/dev/controlplane-environment.ts';

let environment: TestEnvironment | undefined;

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = path.join(os.tmpdir(), 'mapi-operator-test-logs', `run-${stamp}-${process.pid}`);
  environment = await startTestEnvironment({ logDir });
  const cp = environment.controlPlane;
  process.env.MAPI_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.stderr.write(
    `shared control plane ready in ${Date.now() - started} ms: ${cp.server}\n` +
      `  MAPI_TEST_KUBECONFIG=${cp.kubeconfigPath}\n` +
      `  CRDs: ${environment.crds.length}; certificate issuer: ${environment.issuer.describe}\n` +
      `  component logs: ${logDir}\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  const env = environment;
  environment = undefined;
  await env?.stop();
}
