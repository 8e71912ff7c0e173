// A real local Kubernetes control plane for tests: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (fake kubelets), all on 127.0.0.1 with
// free ports, in a temporary folder. Flags follow controller-runtime's envtest for the
// apiserver (client-certificate admin, RBAC, service-account keys) and add what envtest
// leaves out so workloads behave as in a cluster: the controller manager (garbage
// collector, Deployment/ReplicaSet, namespace lifecycle, service accounts), the scheduler,
// and kwok nodes on which pods become Running and Ready.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { controlPlaneBinDir, missingBinaries } from './controlplane-assets.ts';
import { createControlPlanePki, type ControlPlanePki, type KeyPair } from './controlplane-pki.ts';
import {
  groupAlive,
  killGroup,
  readPgids,
  registerOwned,
  spawnLogged,
  startWatchdog,
  tailOf,
  terminate,
  writePgids,
  type ManagedProcess,
} from './controlplane-process.ts';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ControlPlane {
  /** Admin kubeconfig (client certificate in group system:masters), self-contained. */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** The temporary folder holding PKI, etcd data, kubeconfigs and (by default) logs. */
  dir: string;
  logDir: string;
  stop(): Promise<void>;
  /** Stops and starts kube-apiserver alone, on the same port, and waits for /readyz. */
  restartApiServer(): Promise<void>;
  /** Stops and starts etcd alone (same data, same port) and waits for its /health. */
  restartEtcd(): Promise<void>;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** The running components and their pids (for memory measurements and debugging). */
  processes(): Array<{ name: string; pid: number }>;
  /**
   * Runs one more process under the control plane's supervision (own process group, log
   * file `<logDir>/<name>.log`, killed by stop() before the core components and by the
   * exit hooks and watchdog). Resolves once healthUrl answers 200, when given.
   */
  startComponent(spec: ExtraComponent): Promise<void>;
  /** Stops a component started with startComponent (SIGTERM, then SIGKILL after 10 s). */
  stopComponent(name: string): Promise<void>;
  /** With ControlPlaneOptions.audit: each audited user's kubeconfig, and the audit log. */
  audit?: { kubeconfigs: Record<string, string>; logPath: string };
}

export interface ExtraComponent {
  name: string;
  bin: string;
  args: string[];
  /** http(s) URL polled until it answers 200 (TLS not verified). */
  healthUrl?: string;
  healthTimeoutMs?: number;
}

export interface ControlPlaneOptions {
  /** Run kwok and register fake nodes (default true). */
  kwok?: boolean;
  /** Number of kwok nodes (default 2). */
  nodes?: number;
  /** Where component logs go (default `<dir>/logs`). */
  logDir?: string;
  /** Keep the temporary folder after stop() (default: $MAPI_KEEP_CONTROLPLANE === '1'). */
  keepDir?: boolean;
  /** Give up when the control plane is not ready within this time (default 120 s). */
  startTimeoutMs?: number;
  /**
   * Users whose requests the apiserver's audit log records (writes with their request body,
   * the rest as metadata), each with a client certificate in system:masters and a kubeconfig
   * (ControlPlane.audit). Nobody else's requests are recorded: what one client asked of the
   * apiserver, counted by the apiserver, with nothing in between to slow that client down.
   */
  audit?: { users: string[] };
}

/** The audit policy of ControlPlaneOptions.audit: the users' writes with their bodies, their
 *  other requests as metadata, nobody else's. */
export function auditPolicyYaml(users: readonly string[]): string {
  const list = JSON.stringify(users);
  return [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [RequestReceived]',
    'rules:',
    `  - level: Request`,
    `    users: ${list}`,
    '    verbs: [create, update, patch, delete, deletecollection]',
    `  - level: Metadata`,
    `    users: ${list}`,
    '  - level: None',
    '',
  ].join('\n');
}

const here = path.dirname(fileURLToPath(import.meta.url));
const kwokStagesDir = path.join(here, 'kwok', 'stages');
const kwokNodeTemplate = path.join(here, 'kwok', 'node.yaml');

export const serviceClusterIPRange = '10.96.0.0/16';
const kubernetesServiceIP = '10.96.0.1';
const podCIDR = '10.244.0.1/16';
const clusterName = 'mapi-test';

/** The kubeconfig of the shared control plane started by test/support/global-setup.ts. */
export function sharedKubeconfigPath(): string {
  const p = process.env.MAPI_TEST_KUBECONFIG;
  if (!p) {
    throw new Error(
      'MAPI_TEST_KUBECONFIG is not set. Integration tests need the shared control plane: run them with ' +
        '`npm run test:integration` (its global setup starts one and sets the variable), or start one with ' +
        '`npm run cluster:up` and export MAPI_TEST_KUBECONFIG=<the kubeconfig it prints>.',
    );
  }
  if (!existsSync(p)) throw new Error(`MAPI_TEST_KUBECONFIG=${p} does not exist; is the control plane still running?`);
  return p;
}

export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((srv.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

interface Probe {
  url: string;
  tls?: { ca?: string; cert?: string; key?: string };
}

/** One GET with a short time-out; resolves with the status and body, rejects on network errors. */
function get(probe: Probe, timeoutMs = 3_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(probe.url);
    const opts: https.RequestOptions = { method: 'GET', timeout: timeoutMs, agent: false };
    if (url.protocol === 'https:') {
      if (probe.tls?.ca) opts.ca = probe.tls.ca;
      else opts.rejectUnauthorized = false; // component self-signed serving certs
      if (probe.tls?.cert) opts.cert = probe.tls.cert;
      if (probe.tls?.key) opts.key = probe.tls.key;
    }
    const req = (url.protocol === 'https:' ? https : http).request(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`time-out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface ComponentSpec {
  name: string;
  bin: string;
  args: string[];
  probe: Probe;
}

function kubeconfigYaml(server: string, caFile: string, client: KeyPair, user: string): string {
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${clusterName}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caFile)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
    'contexts:',
    `- name: ${clusterName}`,
    '  context:',
    `    cluster: ${clusterName}`,
    `    user: ${user}`,
    `current-context: ${clusterName}`,
    '',
  ].join('\n');
}

/**
 * Ports are picked free and bound by each component a moment later; on a busy machine another
 * process can take one in between, and the component exits at once. Such a start is tried
 * again with new ports (three attempts in all); any other failure is reported as it is.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlaneOnce(opts);
    } catch (err) {
      const exitedEarly = err instanceof Error && /exited \(code .*\) before it was healthy/.test(err.message);
      if (!exitedEarly || attempt >= 3) throw err;
      process.stderr.write(`control plane: ${err.message.split('\n')[0]}; starting again with new ports (attempt ${attempt + 1} of 3)\n`);
    }
  }
}

async function startControlPlaneOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const withKwok = opts.kwok ?? true;
  const nodeCount = opts.nodes ?? 2;
  const keepDir = opts.keepDir ?? process.env.MAPI_KEEP_CONTROLPLANE === '1';
  const startTimeoutMs = opts.startTimeoutMs ?? 120_000;
  const deadline = Date.now() + startTimeoutMs;

  const binDir = controlPlaneBinDir();
  const missing = missingBinaries(binDir);
  if (missing.length > 0) {
    throw new Error(`control plane binaries missing in ${binDir}: ${missing.join(', ')}; run \`npm run controlplane:build\``);
  }
  const bin = (name: string): string => path.join(binDir, name);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'mapi-controlplane-'));
  const logDir = opts.logDir ?? path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const procs = new Map<string, ManagedProcess>();
  const extraNames: string[] = [];
  const specs = new Map<string, ComponentSpec>();
  let stopped = false;
  let watchdogPid = 0;
  let serverUrl = '';
  let pki: ControlPlanePki | undefined;
  let audit: ControlPlane['audit'];
  const kubeconfigPath = path.join(dir, 'kubeconfig');

  const recordPids = (): void => {
    writePgids(dir, [...procs.values()].filter((p) => p.exitStatus === undefined).map((p) => p.pid));
    const state = {
      ownerPid: process.pid,
      watchdogPid,
      server: serverUrl,
      kubeconfigPath,
      logDir,
      components: Object.fromEntries([...procs].map(([n, p]) => [n, p.pid])),
    };
    writeFileSync(path.join(dir, 'controlplane.json'), JSON.stringify(state, null, 2) + '\n');
  };

  const killNow = (): void => {
    for (const p of procs.values()) killGroup(p.pid, 'SIGKILL');
    if (watchdogPid) killGroup(watchdogPid, 'SIGKILL');
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const unregister = registerOwned({ killNow });

  const failure = (what: string, proc?: ManagedProcess): Error => {
    const lines = [`control plane: ${what}`];
    if (proc) lines.push(`--- last lines of ${proc.logPath} ---`, tailOf(proc.logPath));
    lines.push(`logs: ${logDir}`);
    return new Error(lines.join('\n'));
  };

  const startComponent = async (spec: ComponentSpec): Promise<ManagedProcess> => {
    specs.set(spec.name, spec);
    const proc = await spawnLogged(spec.name, spec.bin, spec.args, path.join(logDir, `${spec.name}.log`));
    procs.set(spec.name, proc);
    recordPids();
    return proc;
  };

  /** Polls the component's health endpoint until it answers 200, bounded by the start deadline. */
  const waitHealthy = async (name: string, until = deadline): Promise<void> => {
    const proc = procs.get(name);
    const spec = specs.get(name);
    if (!proc || !spec) throw new Error(`unknown component ${name}`);
    let last = 'no answer yet';
    const budgetMs = until - Date.now();
    while (Date.now() < until) {
      if (proc.exitStatus) {
        throw failure(`${name} exited (code ${proc.exitStatus.code}, signal ${proc.exitStatus.signal}) before it was healthy`, proc);
      }
      try {
        const res = await get(spec.probe);
        if (res.status === 200) return;
        last = `HTTP ${res.status}: ${res.body.slice(0, 2000)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await delay(200);
    }
    throw failure(`${name} not healthy at ${spec.probe.url} within ${budgetMs} ms; last answer: ${last}`, proc);
  };

  const kubectl = (args: string[], kopts: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> =>
    runKubectl(kubeconfigPath, args, kopts);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: extra components and watchers first, etcd last.
    for (const name of [...extraNames.reverse(), 'kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) {
      const p = procs.get(name);
      if (p) await terminate(p);
    }
    rmSync(path.join(dir, 'pgids'), { force: true }); // tells the watchdog to stand down
    if (watchdogPid) killGroup(watchdogPid, 'SIGKILL');
    unregister();
    const survivors = [...procs.values()].filter((p) => groupAlive(p.pid));
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    if (survivors.length > 0) {
      throw new Error(`control plane: process groups still alive after stop: ${survivors.map((p) => `${p.name}=${p.pid}`).join(', ')}`);
    }
  };

  try {
    writePgids(dir, []); // the watchdog acts while this file exists
    watchdogPid = await startWatchdog(dir, !keepDir);
    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort] = (await freePorts(6)) as [
      number, number, number, number, number, number,
    ];
    serverUrl = `https://127.0.0.1:${apiPort}`;

    // --- PKI and etcd in parallel: etcd needs none of it.
    const etcdData = path.join(dir, 'etcd');
    const etcdStart = startComponent({
      name: 'etcd',
      bin: bin('etcd'),
      args: [
        '--name=mapi-test',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=mapi-test=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync=true', // test data: durability is not wanted, speed is
        '--log-level=warn',
      ],
      probe: { url: `http://127.0.0.1:${etcdPort}/health` },
    });
    pki = await createControlPlanePki(path.join(dir, 'pki'), {
      serviceIP: kubernetesServiceIP,
      clients: {
        admin: { user: 'mapi-test-admin', groups: ['system:masters'] },
        // --use-service-account-credentials=false: the controller manager acts with its own
        // identity for every controller, so it needs more than system:kube-controller-manager.
        'kube-controller-manager': { user: 'system:kube-controller-manager', groups: ['system:masters'] },
        'kube-scheduler': { user: 'system:kube-scheduler', groups: [] },
        kwok: { user: 'kwok', groups: ['system:masters'] },
        ...Object.fromEntries((opts.audit?.users ?? []).map((user) => [`audited-${user}`, { user, groups: ['system:masters'] }])),
      },
    });
    const kubeconfigFor = (client: string): string => {
      const p = path.join(dir, client === 'admin' ? 'kubeconfig' : `${client}.kubeconfig`);
      const pair = pki?.clients[client];
      if (!pki || !pair) throw new Error(`no client certificate for ${client}`);
      writeFileSync(p, kubeconfigYaml(serverUrl, pki.ca.cert, pair, client), { mode: 0o600 });
      return p;
    };
    kubeconfigFor('admin');
    const kcmKubeconfig = kubeconfigFor('kube-controller-manager');
    const schedKubeconfig = kubeconfigFor('kube-scheduler');
    const kwokKubeconfig = kubeconfigFor('kwok');
    const auditLogPath = path.join(logDir, 'kube-apiserver-audit.log');
    if (opts.audit) {
      audit = { logPath: auditLogPath, kubeconfigs: Object.fromEntries(opts.audit.users.map((user) => [user, kubeconfigFor(`audited-${user}`)])) };
    }
    const auditArgs: string[] = [];
    if (opts.audit) {
      const policy = path.join(dir, 'audit-policy.yaml');
      writeFileSync(policy, auditPolicyYaml(opts.audit.users));
      // Batched, flushed every second: the audited client never waits for the file.
      auditArgs.push(`--audit-policy-file=${policy}`, `--audit-log-path=${auditLogPath}`, '--audit-log-mode=batch', '--audit-log-batch-max-wait=1s', '--audit-log-maxsize=0');
    }

    await etcdStart;
    await waitHealthy('etcd');

    // --- kube-apiserver, flags as envtest sets them plus Node,RBAC authorization.
    const adminPair = pki.clients.admin as KeyPair;
    const apiTls = {
      ca: readFileSync(pki.ca.cert, 'utf8'),
      cert: readFileSync(adminPair.cert, 'utf8'),
      key: readFileSync(adminPair.key, 'utf8'),
    };
    await startComponent({
      name: 'kube-apiserver',
      bin: bin('kube-apiserver'),
      args: [
        '--advertise-address=127.0.0.1',
        '--bind-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--cert-dir=${path.join(dir, 'kube-apiserver')}`,
        `--tls-cert-file=${pki.apiserver.cert}`,
        `--tls-private-key-file=${pki.apiserver.key}`,
        `--client-ca-file=${pki.ca.cert}`,
        '--authorization-mode=Node,RBAC',
        `--service-cluster-ip-range=${serviceClusterIPRange}`,
        `--service-account-issuer=${serverUrl}`,
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
        ...auditArgs,
      ],
      probe: { url: `${serverUrl}/readyz`, tls: apiTls },
    });

    // The other components retry until the apiserver answers, so start them at once.
    const common = ['--bind-address=127.0.0.1', '--leader-elect=false', '--profiling=false', '--v=1'];
    await startComponent({
      name: 'kube-controller-manager',
      bin: bin('kube-controller-manager'),
      args: [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        `--secure-port=${kcmPort}`,
        `--cert-dir=${path.join(dir, 'kube-controller-manager')}`,
        ...common,
        // '*' is every controller on by default: garbage collector, deployment, replicaset,
        // namespace, serviceaccount(-token), endpoints, job, ... Cloud controllers need a
        // --cloud-provider and stay off without one.
        '--controllers=*',
        '--use-service-account-credentials=false',
        `--service-account-private-key-file=${pki.serviceAccountKey}`,
        `--root-ca-file=${pki.ca.cert}`,
        `--cluster-signing-cert-file=${pki.ca.cert}`,
        `--cluster-signing-key-file=${pki.ca.key}`,
        `--service-cluster-ip-range=${serviceClusterIPRange}`,
        `--cluster-name=${clusterName}`,
      ],
      probe: { url: `https://127.0.0.1:${kcmPort}/healthz` },
    });
    await startComponent({
      name: 'kube-scheduler',
      bin: bin('kube-scheduler'),
      args: [
        `--kubeconfig=${schedKubeconfig}`,
        `--authentication-kubeconfig=${schedKubeconfig}`,
        `--authorization-kubeconfig=${schedKubeconfig}`,
        `--secure-port=${schedPort}`,
        `--cert-dir=${path.join(dir, 'kube-scheduler')}`,
        ...common,
      ],
      probe: { url: `https://127.0.0.1:${schedPort}/healthz` },
    });
    if (withKwok) {
      const stageFiles = (await readdir(kwokStagesDir)).filter((f) => f.endsWith('.yaml')).sort();
      if (stageFiles.length === 0) throw new Error(`no kwok stages in ${kwokStagesDir}`);
      await startComponent({
        name: 'kwok',
        bin: bin('kwok'),
        args: [
          `--kubeconfig=${kwokKubeconfig}`,
          ...stageFiles.map((f) => `--config=${path.join(kwokStagesDir, f)}`),
          '--manage-all-nodes=false',
          '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
          '--manage-nodes-with-label-selector=',
          '--disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom',
          '--disregard-status-with-label-selector=',
          `--cidr=${podCIDR}`,
          '--node-ip=10.250.0.1',
          '--node-lease-duration-seconds=40',
          `--server-address=127.0.0.1:${kwokPort}`,
        ],
        probe: { url: `http://127.0.0.1:${kwokPort}/healthz` },
      });
    }

    await waitHealthy('kube-apiserver');
    await Promise.all(['kube-controller-manager', 'kube-scheduler', ...(withKwok ? ['kwok'] : [])].map((n) => waitHealthy(n)));

    if (withKwok && nodeCount > 0) {
      const template = readFileSync(kwokNodeTemplate, 'utf8');
      const nodes = Array.from({ length: nodeCount }, (_, i) => template.replaceAll('NODE_NAME', `kwok-node-${i}`));
      const applied = await kubectl(['apply', '-f', '-'], { input: nodes.join('\n---\n') });
      if (applied.code !== 0) throw failure(`creating kwok nodes failed: ${applied.stderr}`);
      const remaining = Math.max(1_000, deadline - Date.now());
      const ready = await kubectl(
        ['wait', '--for=condition=Ready', 'node', '--all', `--timeout=${Math.ceil(remaining / 1000)}s`],
        { timeoutMs: remaining + 10_000 },
      );
      if (ready.code !== 0) throw failure(`kwok nodes not Ready: ${ready.stderr}${ready.stdout}`, procs.get('kwok'));
    }
    recordPids();
  } catch (err) {
    try {
      await stop();
    } catch {
      // the start failure is the error worth reporting
    }
    throw err;
  }

  const restartApiServer = async (): Promise<void> => {
    const spec = specs.get('kube-apiserver');
    const old = procs.get('kube-apiserver');
    if (!spec || !old || stopped) throw new Error('control plane: kube-apiserver is not running');
    // With clients still watching (controller manager, scheduler, an operator under test)
    // kube-apiserver stops listening at once on SIGTERM but its process lingers for many
    // seconds; after 3 s it gets SIGKILL, which is what a crashed apiserver looks like anyway.
    await terminate(old, 3_000);
    await startComponent(spec);
    await waitHealthy('kube-apiserver', Date.now() + startTimeoutMs);
  };

  const restartEtcd = async (): Promise<void> => {
    const spec = specs.get('etcd');
    const old = procs.get('etcd');
    if (!spec || !old || stopped) throw new Error('control plane: etcd is not running');
    await terminate(old, 3_000);
    await startComponent(spec);
    await waitHealthy('etcd', Date.now() + startTimeoutMs);
  };

  const startExtra = async (extra: ExtraComponent): Promise<void> => {
    if (stopped) throw new Error('control plane: stopped');
    const core = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];
    const running = procs.get(extra.name);
    if (core.includes(extra.name) || (running && running.exitStatus === undefined)) {
      throw new Error(`control plane: a component named ${extra.name} is already running`);
    }
    if (!extraNames.includes(extra.name)) extraNames.push(extra.name);
    const proc = await startComponent({ name: extra.name, bin: extra.bin, args: extra.args, probe: { url: extra.healthUrl ?? '' } });
    if (extra.healthUrl) {
      try {
        await waitHealthy(extra.name, Date.now() + (extra.healthTimeoutMs ?? 60_000));
      } catch (err) {
        await terminate(proc);
        throw err;
      }
    }
  };

  const stopExtra = async (name: string): Promise<void> => {
    const proc = procs.get(name);
    if (!proc || !extraNames.includes(name)) throw new Error(`control plane: no component named ${name} was started with startComponent`);
    await terminate(proc);
    recordPids();
  };

  return {
    kubeconfigPath,
    server: serverUrl,
    dir,
    logDir,
    stop,
    restartApiServer,
    restartEtcd,
    kubectl,
    processes: () => [...procs.values()].filter((p) => p.exitStatus === undefined).map((p) => ({ name: p.name, pid: p.pid })),
    startComponent: startExtra,
    stopComponent: stopExtra,
    ...(audit ? { audit } : {}),
  };
}

/**
 * Runs the control plane's kubectl against a kubeconfig (for example sharedKubeconfigPath());
 * never throws for a non-zero exit: the caller checks `code`.
 */
export function runKubectl(
  kubeconfigPath: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<KubectlResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(controlPlaneBinDir(), 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal) stderr += `\nkubectl ${args.join(' ')} killed by ${signal} (time-out ${timeoutMs} ms)`;
      resolve({ stdout, stderr, code: code ?? 1 });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Kills the process groups recorded in a control plane folder (for `cluster:down` after a
 * crash): SIGTERM, then SIGKILL for whatever is left after graceMs. Returns the groups.
 */
export async function killRecordedControlPlane(dir: string, graceMs = 5_000): Promise<number[]> {
  const pgids = readPgids(dir);
  for (const g of pgids) killGroup(g, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pgids.some(groupAlive) && Date.now() < deadline) await delay(100);
  for (const g of pgids) killGroup(g, 'SIGKILL');
  return pgids;
}
