// Shared by the chart tests: the helm binary (built from its Go module by
// tools/controlplane/build-helm.sh), `helm template` parsed into objects, and small lookups.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { kinds } from '../../../src/api/crd.ts';
import { controlPlaneVersions, repoRoot } from '../../../src/dev/controlplane-assets.ts';

export const chartDir = path.join(repoRoot, 'charts/mapi-operator');
export const releaseNs = 'mapi-system';
export const tmp = mkdtempSync(path.join(os.tmpdir(), 'mapi-chart-test-'));

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid: string; controller?: boolean; kind?: string }[] };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}
export interface Rule { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }
export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
}
export interface PodSpec {
  serviceAccountName?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; seccompProfile?: { type: string } };
  topologySpreadConstraints?: { maxSkew: number; topologyKey: string; whenUnsatisfiable: string; labelSelector?: { matchLabels?: Record<string, string> } }[];
  containers: Container[];
}
export type Values = Record<string, unknown>;

export interface Result { stdout: string; stderr: string; code: number }

export function exec(bin: string, args: string[], timeoutMs: number, input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0 });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** tools/controlplane/build-helm.sh in a process group of its own, so a time-out (or this
 *  process exiting) ends `go` and its compilers too, not just bash. Resolves to helm's path. */
export function buildHelm(timeoutMs = 30 * 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(repoRoot, 'tools/controlplane/build-helm.sh')], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    process.once('exit', killGroup);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; process.stderr.write(c); });
    const timer = setTimeout(killGroup, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
      if (code !== 0) reject(new Error(`tools/controlplane/build-helm.sh failed (${code}): ${stderr}`));
      else resolve(stdout.trim().split('\n').pop()!.trim());
    });
  });
}

let helmBin: Promise<string> | undefined;
export async function helm(args: string[], timeoutMs = 60_000): Promise<Result> {
  helmBin ??= buildHelm();
  return exec(await helmBin, args, timeoutMs);
}

export const kubeVersion = (): string => controlPlaneVersions().KUBERNETES_VERSION;

export function valuesFile(values: Values): string {
  const file = path.join(tmp, `values-${randomBytes(4).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

/** `helm template` with these values, without checking the exit code. */
export function template(values: Values, release = 'mapi-operator', extra: string[] = []): Promise<Result> {
  return helm(['template', release, chartDir, '--namespace', releaseNs, '--values', valuesFile(values), '--kube-version', kubeVersion(), ...extra]);
}

/** `helm template` with these values, parsed (js-yaml refuses duplicated keys, so two
 *  objects run together by a missing `---` fail here). */
export async function render(values: Values, release = 'mapi-operator'): Promise<Obj[]> {
  const r = await template(values, release);
  assert.equal(r.code, 0, `helm template ${JSON.stringify(values)} failed: ${r.stderr}`);
  const objects = (loadAll(r.stdout) as unknown[]).filter((o): o is Obj => o !== null && o !== undefined);
  const ids = objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'no object is rendered twice');
  for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, `a complete object: ${JSON.stringify(o).slice(0, 200)}`);
  return objects;
}

export const one = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0]!;
};
export const podSpec = (objects: Obj[]): PodSpec => (one(objects, 'Deployment').spec as { template: { spec: PodSpec } }).template.spec;
export const operatorContainer = (objects: Obj[]): Container => {
  const c = podSpec(objects).containers.find((x) => x.name === 'operator');
  assert.ok(c, 'the Deployment has a container named operator');
  return c;
};
export const asList = (items: Obj[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
export const rulesOf = (objects: Obj[]): Rule[] => objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o.rules ?? []);
/** Objects the shared control plane has a kind for (the Prometheus Operator's CRDs are not installed there). */
export const withoutPrometheus = (objects: Obj[]): Obj[] => objects.filter((o) => o.apiVersion !== 'monitoring.coreos.com/v1');

/** The CRDs the chart installs: one per kind of the API. */
export const crdNames = (): string[] => kinds.map((k) => `${k.plural}.mapi-operator.io`).sort();
