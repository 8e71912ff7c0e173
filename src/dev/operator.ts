// The operator as a real process for integration and e2e tests: `node src/cli/main.ts run`
// against a test control plane, logs captured to a file, metrics and health on free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './controlplane-assets.ts';
import { waitFor } from './wait.ts';

export interface OperatorProcess {
  child: ChildProcess;
  logFile: string;
  healthUrl: () => string;
  metricsUrl: () => string;
  logs(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (no cleanup at all), as a crash or an OOM kill would. */
  kill9(): Promise<void>;
  exited: Promise<number | null>;
}

export interface OperatorOptions {
  kubeconfig: string;
  namespaces?: string[];
  args?: string[];
  env?: Record<string, string>;
  name?: string;
  /** Pass --probe-loopback (default true: every test world is on loopback); false runs the
   *  operator with the production probe policy, as the security tests do. */
  probeLoopback?: boolean;
  /** --tenancy (default Open here: most tests are about one team; the binary's default is Granted). */
  tenancy?: 'Open' | 'Granted';
  /** Run the compiled JavaScript (`npm run build`: dist/, what the image runs) instead of
   *  the TypeScript source; type stripping costs ~30 MiB of RSS, which a memory figure
   *  should not include. */
  compiled?: boolean;
  /** V8 flags on node's command line, before the entry point: those Node refuses in
   *  NODE_OPTIONS (`--heap-growing-percent`, say), which an image can only pass this way. */
  v8Argv?: string[];
}

/** The compiled entry point (`npm run build`). */
export const COMPILED_ENTRY = path.join(repoRoot, 'dist/src/cli/main.js');

const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });

export async function startOperator(opts: OperatorOptions): Promise<OperatorProcess> {
  if (opts.compiled && !existsSync(COMPILED_ENTRY)) throw new Error(`${COMPILED_ENTRY} does not exist: run npm run build first`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `mapi-operator-${opts.name ?? 'op'}-`));
  const logFile = path.join(dir, 'operator.log');
  const out = createWriteStream(logFile);
  const args = [
    ...(opts.v8Argv ?? []),
    opts.compiled ? COMPILED_ENTRY : path.join(repoRoot, 'src/cli/main.ts'), 'run',
    '--kubeconfig', opts.kubeconfig,
    '--metrics-addr', '127.0.0.1:0',
    '--health-addr', '127.0.0.1:0',
    '--log-level', 'debug',
    ...(opts.namespaces ?? []).flatMap((n) => ['--namespace', n]),
    ...(opts.probeLoopback === false ? [] : ['--probe-loopback']),
    '--tenancy', opts.tenancy ?? 'Open',
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { children.delete(child); resolve(code); }));
  const logs = () => readFileSync(logFile, 'utf8');
  const served = await waitFor(() => {
    const m = /"metrics":"(http:\/\/[^"]+)","health":"(http:\/\/[^"]+)"/.exec(logs());
    return m ? { metrics: m[1]!, health: m[2]! } : child.exitCode !== null ? Promise.reject(new Error(`operator exited with ${child.exitCode}:\n${logs()}`)) : undefined;
  }, { timeoutMs: 30_000, describe: `operator to serve metrics and health (log ${logFile})` });
  return {
    child, logFile, logs, exited,
    healthUrl: () => served.health,
    metricsUrl: () => served.metrics,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Fetches a URL with a time-out; the body as text. */
export async function fetchText(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}
