// Where the test control plane's binaries and third-party API definitions live, and how
// they get there. Everything is cached outside the work tree, keyed by the versions in
// tools/controlplane/versions.env, so a fresh clone on the same machine reuses it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const versionsFile = path.join(repoRoot, 'tools/controlplane/versions.env');
const buildScript = path.join(repoRoot, 'tools/controlplane/build.sh');
const certManagerScript = path.join(repoRoot, 'tools/controlplane/cert-manager.sh');

export const controlPlaneBinaries = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;
export type ControlPlaneBinary = (typeof controlPlaneBinaries)[number];

export interface ControlPlaneVersions {
  KUBERNETES_VERSION: string;
  KUBERNETES_STAGING_VERSION: string;
  ETCD_VERSION: string;
  KWOK_VERSION: string;
  CERT_MANAGER_VERSION: string;
}

export function controlPlaneVersions(): ControlPlaneVersions {
  const values: Record<string, string> = {};
  for (const line of readFileSync(versionsFile, 'utf8').split('\n')) {
    const m = /^\s*([A-Z_]+)=(\S+)\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) values[m[1]] = m[2];
  }
  const need = ['KUBERNETES_VERSION', 'KUBERNETES_STAGING_VERSION', 'ETCD_VERSION', 'KWOK_VERSION', 'CERT_MANAGER_VERSION'];
  for (const key of need) {
    if (values[key] === undefined) throw new Error(`${versionsFile}: ${key} is not set`);
  }
  return values as unknown as ControlPlaneVersions;
}

/** Same rule as build.sh: $MAPI_CACHE_DIR, else $XDG_CACHE_HOME/mapi-operator, else ~/.cache/mapi-operator. */
export function cacheRoot(): string {
  if (process.env.MAPI_CACHE_DIR) return process.env.MAPI_CACHE_DIR;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mapi-operator');
}

export function controlPlaneBinDir(): string {
  const v = controlPlaneVersions();
  const key = `k8s-${v.KUBERNETES_VERSION}_etcd-${v.ETCD_VERSION}_kwok-${v.KWOK_VERSION}`;
  return path.join(cacheRoot(), 'controlplane', key, 'bin');
}

export function missingBinaries(binDir = controlPlaneBinDir()): ControlPlaneBinary[] {
  return controlPlaneBinaries.filter((b) => {
    const p = path.join(binDir, b);
    return !existsSync(p) || (statSync(p).mode & 0o111) === 0;
  });
}

/** Runs a script whose last stdout line is a folder; its stderr goes to ours (progress). */
async function runScriptForFolder(script: string, what: string): Promise<string> {
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${what}: bash ${script} exited with ${code}; see its output above`);
  const last = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (!last || !existsSync(last)) throw new Error(`${what}: ${script} printed no existing folder (got ${JSON.stringify(last)})`);
  return last;
}

/** Returns the bin folder, building the binaries first (tools/controlplane/build.sh) when any is missing. */
export async function ensureControlPlaneBinaries(): Promise<string> {
  const binDir = controlPlaneBinDir();
  if (missingBinaries(binDir).length === 0) return binDir;
  process.stderr.write(`control plane binaries missing in ${binDir}; building them (tools/controlplane/build.sh, ~30-60 min cold)\n`);
  return runScriptForFolder(buildScript, 'building the control plane');
}

/** The folder with cert-manager's CRDs (plain YAML from its Go module), fetching them when absent. */
export async function ensureCertManagerCrds(): Promise<string> {
  const dir = path.join(certManagerCacheDir(), 'crds');
  if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.yaml'))) return dir;
  const root = await runScriptForFolder(certManagerScript, 'fetching cert-manager CRDs');
  return path.join(root, 'crds');
}

export function certManagerCacheDir(): string {
  return path.join(cacheRoot(), 'cert-manager', controlPlaneVersions().CERT_MANAGER_VERSION);
}

/** The cert-manager controller binary built by `tools/controlplane/cert-manager.sh controller`, when present. */
export function certManagerControllerBinary(): string | undefined {
  const p = path.join(certManagerCacheDir(), 'bin', 'cert-manager-controller');
  return existsSync(p) ? p : undefined;
}
