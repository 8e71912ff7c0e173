// Global setup for `node --test --test-global-setup=test/support/global-setup.ts`
// (npm run test:integration). Runs once in the test runner process: builds the control
// plane binaries when missing, starts one shared control plane, installs cert-manager's
// CRDs and ours (crds/*.yaml), starts the certificate issuer, and publishes the kubeconfig
// as MAPI_TEST_KUBECONFIG. Test files run as child processes of the runner and inherit
// that variable (checked on Node 24: the runner spawns them after globalSetup resolves).
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureCertManagerCrds, ensureControlPlaneBinaries, repoRoot } from './controlplane-assets.ts';
import { startControlPlane, type ControlPlane } from './controlplane.ts';
import { startCertificateIssuer, type RunningIssuer } from './cert-manager/issuer.ts';

let controlPlane: ControlPlane | undefined;
let issuer: RunningIssuer | undefined;

/** Applies every *.yaml in dir (server-side) and waits until the CRDs are Established. */
export async function applyCrdFolder(cp: ControlPlane, dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  if (files.length === 0) return [];
  const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=mapi-test-setup'];
  for (const f of files) args.push('-f', path.join(dir, f));
  const applied = await cp.kubectl([...args, '-o', 'name']);
  if (applied.code !== 0) throw new Error(`applying CRDs from ${dir} failed:\n${applied.stderr}`);
  const names = applied.stdout.split('\n').filter((l) => l.startsWith('customresourcedefinition'));
  if (names.length > 0) {
    const established = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names], { timeoutMs: 70_000 });
    if (established.code !== 0) throw new Error(`CRDs from ${dir} not Established:\n${established.stderr}`);
  }
  return names;
}

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  await ensureControlPlaneBinaries();
  const certManagerCrds = await ensureCertManagerCrds();
  const logDir = path.join(os.tmpdir(), 'mapi-operator-test-logs', `run-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  controlPlane = await startControlPlane({ logDir });
  try {
    await applyCrdFolder(controlPlane, certManagerCrds);
    await applyCrdFolder(controlPlane, path.join(repoRoot, 'crds'));
    issuer = await startCertificateIssuer(controlPlane);
  } catch (err) {
    await globalTeardown();
    throw err;
  }
  process.env.MAPI_TEST_KUBECONFIG = controlPlane.kubeconfigPath;
  process.env.MAPI_TEST_ISSUER = issuer.describe;
  process.stderr.write(
    `shared control plane ready in ${Date.now() - started} ms: ${controlPlane.server}\n` +
      `  MAPI_TEST_KUBECONFIG=${controlPlane.kubeconfigPath}\n  logs: ${logDir}\n  certificate issuer: ${issuer.describe}\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  const errors: unknown[] = [];
  try {
    await issuer?.stop();
  } catch (err) {
    errors.push(err);
  }
  try {
    await controlPlane?.stop();
  } catch (err) {
    errors.push(err);
  }
  issuer = undefined;
  controlPlane = undefined;
  if (errors.length > 0) throw new AggregateError(errors, 'stopping the shared control plane failed');
}
