// The integration-test environment on top of a control plane: cert-manager's CRDs and ours
// installed, cert-manager's controller issuing from a test CA. Shared by the test global
// setup and `npm run cluster:up`, so both give the same cluster.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startCertificateIssuer, type RunningIssuer } from './cert-manager/issuer.ts';
import { ensureCertManagerCrds, ensureControlPlaneBinaries, repoRoot } from './controlplane-assets.ts';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './controlplane.ts';
import { ensureGatewayApiCrds } from './gateway-api-crds.ts';

export interface TestEnvironment {
  controlPlane: ControlPlane;
  issuer: RunningIssuer;
  /** The CRDs installed, as `customresourcedefinition.apiextensions.k8s.io/<name>`. */
  crds: string[];
  stop(): Promise<void>;
}

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

/** Builds what is missing, starts a control plane, installs the CRDs and starts cert-manager. */
export async function startTestEnvironment(opts: ControlPlaneOptions = {}): Promise<TestEnvironment> {
  await ensureControlPlaneBinaries();
  const certManagerCrds = await ensureCertManagerCrds();
  const controlPlane = await startControlPlane(opts);
  try {
    const crds = [
      ...(await applyCrdFolder(controlPlane, certManagerCrds)),
      ...(await applyCrdFolder(controlPlane, path.join(repoRoot, 'crds'))),
      // Gateway API (standard channel): spec.exposure.gateway and the front stand-in read it.
      ...(await applyCrdFolder(controlPlane, ensureGatewayApiCrds())),
    ];
    const issuer = await startCertificateIssuer(controlPlane);
    return {
      controlPlane,
      issuer,
      crds,
      stop: async () => {
        await controlPlane.stop(); // stops the issuer's controller first
      },
    };
  } catch (err) {
    await controlPlane.stop().catch(() => undefined);
    throw err;
  }
}
