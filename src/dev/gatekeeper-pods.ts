// A stand-in for what the kubelet does for the gatekeeper sidecar, in end-to-end tests and the
// demo (kwok pods are not processes). For every MAPI Deployment whose ready pods run a
// `gatekeeper` container, it:
// - lays out the access list volume the way the kubelet's AtomicWriter does for a projected
//   ConfigMap volume (a timestamped folder, an atomically swapped `..data` symlink, one symlink
//   per key; later sources win a key both hold), from the ConfigMaps the pod template names,
//   re-synced whenever one of them changes;
// - runs the real `mapi-operator gatekeeper` with the container's own arguments (ports moved to
//   free loopback ports), in front of a MAPI test server standing for the MAPI container.
// The ingress front stand-in then forwards a Service's traffic to that gatekeeper.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Informer, KubeClient, loadKubeConfig, type KubeObject } from '../kube/index.ts';
import { repoRoot } from './controlplane-assets.ts';

interface Container { name: string; args?: string[]; volumeMounts?: { name: string; mountPath: string }[] }
interface DeploymentObj extends KubeObject {
  spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Container[]; volumes?: { name: string; projected?: { sources?: { configMap?: { name: string } }[] } }[] } } };
  status?: { readyReplicas?: number };
}

export interface GatekeeperPod {
  namespace: string;
  deployment: string;
  port: number;
  metricsPort: number;
  accessDir: string;
  /** How many times the access folder was swapped (kubelet syncs). */
  syncs: number;
}

export interface GatekeeperPods {
  /** The gatekeeper serving a Service whose pods run one, if any. */
  forService(namespace: string, selector: Record<string, string>): GatekeeperPod | undefined;
  list(): GatekeeperPod[];
  stop(): Promise<void>;
}

const ref = (group: string, version: string, plural: string, kind: string) => ({ group, version, plural, kind, namespaced: true });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Writes `files` into `dir` the way the kubelet's AtomicWriter does. */
function atomicWrite(dir: string, files: Record<string, string>, generation: number): void {
  const name = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${generation}`;
  mkdirSync(path.join(dir, name));
  for (const [key, text] of Object.entries(files)) writeFileSync(path.join(dir, name, key), text);
  const old = existsSync(path.join(dir, '..data')) ? readlinkSync(path.join(dir, '..data')) : undefined;
  symlinkSync(name, path.join(dir, '..data_tmp'));
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const key of Object.keys(files)) if (!existsSync(path.join(dir, key))) symlinkSync(path.join('..data', key), path.join(dir, key));
  for (const entry of readdirSync(dir)) if (!entry.startsWith('..') && !(entry in files)) rmSync(path.join(dir, entry), { force: true });
  if (old) rmSync(path.join(dir, old), { recursive: true, force: true });
}

export async function startGatekeeperPods(opts: { kubeconfig: string; upstreamPort: number; syncMs?: number }): Promise<GatekeeperPods> {
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const selector = 'app.kubernetes.io/managed-by=mapi-operator';
  const deployments = new Informer<DeploymentObj>({ client, resource: ref('apps', 'v1', 'deployments', 'Deployment'), labelSelector: selector });
  const configMaps = new Informer<KubeObject & { data?: Record<string, string> }>({ client, resource: ref('', 'v1', 'configmaps', 'ConfigMap'), labelSelector: selector });
  for (const i of [deployments, configMaps]) i.start();
  await Promise.all([deployments, configMaps].map((i) => i.waitForSync(AbortSignal.timeout(30_000))));

  const pods = new Map<string, GatekeeperPod & { child: ChildProcess; fingerprint: string; labels: Record<string, string> }>();
  const root = mkdtempSync(path.join(tmpdir(), 'mapi-gatekeeper-pods-'));
  let stopped = false;

  async function sync(): Promise<void> {
    for (const d of deployments.list()) {
      const key = `${d.metadata.namespace}/${d.metadata.name}`;
      const template = d.spec?.template;
      const gatekeeper = template?.spec?.containers?.find((c) => c.name === 'gatekeeper');
      if (!gatekeeper || (d.status?.readyReplicas ?? 0) === 0) continue;
      let pod = pods.get(key);
      if (!pod) {
        const accessDir = path.join(root, key.replace('/', '_'));
        mkdirSync(accessDir, { recursive: true });
        const [port, metricsPort] = [await freePort(), await freePort()];
        // The container's own arguments, with the ports and folder of this machine.
        const args = [...(gatekeeper.args ?? [])];
        const set = (flag: string, value: string) => {
          const i = args.indexOf(flag);
          if (i >= 0) args[i + 1] = value;
          else args.push(flag, value);
        };
        set('--listen-port', String(port));
        set('--metrics-port', String(metricsPort));
        set('--upstream-port', String(opts.upstreamPort));
        set('--access-dir', accessDir);
        const child = spawn(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
        pod = { namespace: d.metadata.namespace ?? '', deployment: d.metadata.name ?? '', port, metricsPort, accessDir, syncs: 0, child, fingerprint: '', labels: template?.metadata?.labels ?? {} };
        pods.set(key, pod);
      }
      // The projected sources, in order; a missing optional ConfigMap contributes nothing.
      const mount = gatekeeper.volumeMounts?.[0]?.name;
      const sources = template?.spec?.volumes?.find((v) => v.name === mount)?.projected?.sources ?? [];
      const files: Record<string, string> = {};
      for (const s of sources) {
        const cm = s.configMap ? configMaps.get(pod.namespace, s.configMap.name) : undefined;
        Object.assign(files, cm?.data ?? {});
      }
      const fingerprint = JSON.stringify(files);
      if (fingerprint !== pod.fingerprint && Object.keys(files).length > 0) {
        atomicWrite(pod.accessDir, files, pod.syncs);
        pod.fingerprint = fingerprint;
        pod.syncs++;
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      await sync().catch(() => undefined);
      await new Promise((r) => setTimeout(r, opts.syncMs ?? 500));
    }
  })();

  return {
    forService(namespace, sel) {
      for (const p of pods.values()) {
        if (p.namespace === namespace && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => p.labels[k] === v)) return p;
      }
      return undefined;
    },
    list: () => [...pods.values()],
    async stop() {
      stopped = true;
      await loop;
      await Promise.all([...pods.values()].map((p) => new Promise<void>((resolve) => {
        if (p.child.exitCode !== null) return resolve();
        p.child.once('exit', () => resolve());
        p.child.kill('SIGTERM');
        setTimeout(() => p.child.kill('SIGKILL'), 5_000).unref();
      })));
      await Promise.all([deployments.stop(), configMaps.stop()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
