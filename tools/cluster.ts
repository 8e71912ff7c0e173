#!/usr/bin/env node
// A local cluster for development, the same one the integration tests get:
//   npm run cluster:up      start it in the background; prints `export KUBECONFIG=...`
//   npm run cluster:down    stop it
//   node tools/cluster.ts status
// `up` starts `node tools/cluster.ts serve` detached; that process owns the control plane
// and stops it on SIGTERM. State lives in <cache>/cluster/ (state.json, kubeconfig, serve.log).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../src/dev/controlplane-assets.ts';
import { killRecordedControlPlane } from '../src/dev/controlplane.ts';
import { startTestEnvironment } from '../src/dev/controlplane-environment.ts';

interface ClusterState {
  pid: number;
  server: string;
  kubeconfig: string;
  dir: string;
  logDir: string;
  startedAt: string;
}

const stateDir = path.join(cacheRoot(), 'cluster');
const stateFile = path.join(stateDir, 'state.json');
const stableKubeconfig = path.join(stateDir, 'kubeconfig');
const serveLog = path.join(stateDir, 'serve.log');
const self = fileURLToPath(import.meta.url);

function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited serve process is re-parented to init, which may be slow to reap it.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function printExports(state: ClusterState): void {
  process.stdout.write(
    `# cluster ${state.server} (pid ${state.pid}); component logs in ${state.logDir}\n` +
      `export KUBECONFIG=${stableKubeconfig}\nexport MAPI_TEST_KUBECONFIG=${stableKubeconfig}\n`,
  );
}

async function up(): Promise<number> {
  const existing = readState();
  if (existing && alive(existing.pid)) {
    process.stderr.write('cluster already running\n');
    printExports(existing);
    return 0;
  }
  mkdirSync(stateDir, { recursive: true });
  rmSync(stateFile, { force: true });
  const fd = openSync(serveLog, 'w');
  const child = spawn(process.execPath, [self, 'serve'], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  process.stderr.write(`starting the cluster (pid ${child.pid}, log ${serveLog}); a cold first run builds the binaries\n`);
  // A cold cache builds Kubernetes first (tens of minutes), so wait as long as serve lives.
  const deadline = Date.now() + 90 * 60_000;
  while (Date.now() < deadline) {
    const state = readState();
    if (state && state.pid === child.pid) {
      printExports(state);
      return 0;
    }
    if (child.pid === undefined || !alive(child.pid)) {
      process.stderr.write(`cluster failed to start; last lines of ${serveLog}:\n${readFileSync(serveLog, 'utf8').split('\n').slice(-40).join('\n')}\n`);
      return 1;
    }
    await delay(250);
  }
  process.stderr.write(`cluster not ready after 90 min; see ${serveLog}\n`);
  return 1;
}

async function serve(): Promise<number> {
  const env = await startTestEnvironment({ logDir: path.join(stateDir, 'logs') });
  const cp = env.controlPlane;
  copyFileSync(cp.kubeconfigPath, stableKubeconfig);
  const state: ClusterState = {
    pid: process.pid,
    server: cp.server,
    kubeconfig: cp.kubeconfigPath,
    dir: cp.dir,
    logDir: cp.logDir,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n');
  console.log(`cluster ready: ${cp.server}, ${env.crds.length} CRDs, ${env.issuer.describe}`);
  const keepAlive = setInterval(() => {
    const names = cp.processes().map((p) => p.name);
    for (const want of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'cert-manager-controller']) {
      if (!names.includes(want)) console.log(`${new Date().toISOString()} ${want} is not running; see ${cp.logDir}/${want}.log`);
    }
  }, 30_000);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  clearInterval(keepAlive);
  console.log(`${signal}: stopping the cluster`);
  const stopping = Date.now();
  await env.stop();
  rmSync(stateFile, { force: true });
  rmSync(stableKubeconfig, { force: true });
  console.log(`cluster stopped in ${Date.now() - stopping} ms`);
  return 0;
}

async function down(): Promise<number> {
  const state = readState();
  if (!state) {
    process.stderr.write('no cluster running\n');
    return 0;
  }
  if (alive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.pid) && Date.now() < deadline) await delay(200);
  }
  if (alive(state.pid)) {
    process.stderr.write(`serve process ${state.pid} did not stop within 30 s; killing it and its components\n`);
    process.kill(state.pid, 'SIGKILL');
  }
  // After a crash of the serve process the components may outlive it (until the watchdog acts).
  const killed = existsSync(state.dir) ? await killRecordedControlPlane(state.dir) : [];
  if (killed.length > 0) process.stderr.write(`killed leftover process groups ${killed.join(', ')}\n`);
  rmSync(stateFile, { force: true });
  rmSync(stableKubeconfig, { force: true });
  process.stderr.write('cluster stopped\n');
  return 0;
}

function status(): number {
  const state = readState();
  if (state && alive(state.pid)) {
    printExports(state);
    return 0;
  }
  process.stderr.write('no cluster running\n');
  return 1;
}

const command = process.argv[2];
const run: Record<string, () => Promise<number> | number> = { up, down, serve, status };
const fn = command ? run[command] : undefined;
if (!fn) {
  process.stderr.write('usage: node tools/cluster.ts up|down|status\n');
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await fn();
  } catch (err) {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
