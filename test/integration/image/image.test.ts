// The image without a container engine: the Dockerfile's stages are replayed in clean
// folders (each stage a folder standing for its root filesystem: WORKDIR, COPY from the
// context or from another stage, RUN in a shell there), with this machine's Node 24 standing
// in for the base images. The runtime stage's result then runs as the image would:
// `--help`, and `run` against the control plane until /readyz answers 200, with the allocator
// the image preloads (the library the stage copied in, at its path in the stage). Also: the base
// images are pinned by digest, the OCI labels are there, node_modules holds production
// dependencies only, and its size is reported.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../../../src/dev/controlplane-assets.ts';
import { freePorts, sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { fetchText } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';

interface Stage { name: string; root: string; workdir: string; labels: Record<string, string>; env: Record<string, string>; entrypoint?: string[]; cmd?: string[]; user?: string; from: string }

const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mapi-image-'));
const stages = new Map<string, Stage>();
let runtime: Stage;

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): [string, string][] {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n\s*/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const m = /^(\w+)\s+(.*)$/.exec(l)!;
    return [m[1]!.toUpperCase(), m[2]!];
  });
}

function sh(command: string, cwd: string, timeoutMs = 10 * 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Node 24 first on PATH: it stands for the base image's node and npm.
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, npm_config_update_notifier: 'false' };
    execFile('sh', ['-c', command], { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** Labels of a LABEL instruction: key="value" pairs, ${ARG} substituted from the defaults. */
function parsePairs(text: string, args: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w.-]+)=("([^"]*)"|\S+)/g)) out[m[1]!] = (m[3] ?? m[2]!).replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '');
  return out;
}

const inStage = (s: Stage, p: string): string => path.join(s.root, path.isAbsolute(p) ? p : path.join(s.workdir, p));

async function replay(): Promise<void> {
  const args: Record<string, string> = {};
  let current: Stage | undefined;
  for (const [op, rest] of instructions(dockerfile)) {
    if (op === 'ARG') {
      const [name, value] = rest.split('=');
      if (value !== undefined && !(name! in args)) args[name!] = value;
    } else if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const name = m[2] ?? `stage-${stages.size}`;
      current = { name, root: path.join(tmp, name), workdir: '/', labels: {}, env: {}, from: m[1]!.replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '') };
      mkdirSync(current.root, { recursive: true });
      stages.set(name, current);
    } else if (op === 'WORKDIR') {
      current!.workdir = rest;
      mkdirSync(inStage(current!, '.'), { recursive: true });
    } else if (op === 'COPY') {
      const words = rest.split(/\s+/);
      const from = words[0]!.startsWith('--from=') ? stages.get(words.shift()!.slice('--from='.length)) : undefined;
      const dest = words.pop()!;
      for (const src of words) {
        const source = from ? inStage(from, src) : path.join(repoRoot, src);
        assert.ok(existsSync(source), `COPY ${src}: ${source} exists`);
        const target = dest.endsWith('/') || words.length > 1 ? path.join(inStage(current!, dest), path.basename(src)) : inStage(current!, dest);
        mkdirSync(path.dirname(target), { recursive: true });
        // The build context without what .dockerignore leaves out of src/ (tests).
        cpSync(source, target, { recursive: true, filter: (f) => !f.endsWith('.test.ts') });
      }
    } else if (op === 'RUN') {
      const r = await sh(rest, inStage(current!, '.'));
      assert.equal(r.code, 0, `RUN ${rest} (stage ${current!.name}) failed:\n${r.stdout}\n${r.stderr}`);
    } else if (op === 'LABEL') {
      Object.assign(current!.labels, parsePairs(rest, args));
    } else if (op === 'ENV') {
      Object.assign(current!.env, parsePairs(rest, args));
    } else if (op === 'USER') {
      current!.user = rest;
    } else if (op === 'ENTRYPOINT') {
      current!.entrypoint = JSON.parse(rest) as string[];
    } else if (op === 'CMD') {
      current!.cmd = JSON.parse(rest) as string[];
    } else {
      assert.ok(['EXPOSE'].includes(op), `the replay knows ${op}`);
    }
  }
  runtime = current!;
}

function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? du(p) : e.isFile() ? statSync(p).size : 0;
  }
  return total;
}

/** The runtime stage's environment, its preloaded libraries found inside the stage's root. */
function imageEnv(): Record<string, string> {
  const env = { ...runtime.env };
  if (env.LD_PRELOAD) {
    env.LD_PRELOAD = env.LD_PRELOAD.split(':').map((lib) => {
      assert.ok(existsSync(inStage(runtime, lib)), `ENV LD_PRELOAD names ${lib}, which the image holds`);
      return inStage(runtime, lib);
    }).join(':');
  }
  return env;
}

/** The image's entry point, with this machine's node standing for /nodejs/bin/node. */
function entry(argv: string[]): string[] {
  assert.equal(runtime.entrypoint![0], '/nodejs/bin/node', 'distroless nodejs keeps node at /nodejs/bin/node');
  return [...runtime.entrypoint!.slice(1), ...argv];
}

before(async () => {
  await replay();
}, { timeout: 15 * 60_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the Dockerfile', () => {
  test('pins both base images by digest and carries the OCI labels', () => {
    const froms = [...stages.values()].map((s) => s.from);
    for (const f of froms) assert.match(f, /^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/, `FROM ${f} is pinned by digest`);
    assert.ok(froms.some((f) => f.startsWith('gcr.io/distroless/nodejs24-debian12:nonroot@')), 'the runtime is distroless Node 24');
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision', 'created']) assert.ok(runtime.labels[`org.opencontainers.image.${key}`], `label org.opencontainers.image.${key}`);
    assert.equal(runtime.labels['org.opencontainers.image.licenses'], 'Apache-2.0');
    assert.equal(runtime.labels['org.opencontainers.image.version'], JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    assert.equal(runtime.user, '65532:65532', 'runs as the distroless nonroot user');
  });

  test('npm ci --omit=dev works (prepare skips the build) and node_modules holds production dependencies only', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const modules = path.join(runtime.root, 'app/node_modules');
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(path.join(modules, dep, 'package.json')), `${dep} is installed`);
    // package-lock marks what only the dev tree needs ("dev": true): none of it is installed
    // (@types/node may stay: @kubernetes/client-node depends on it at runtime).
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([p, e]) => p.startsWith('node_modules/') && e.dev).map(([p]) => p);
    assert.ok(devOnly.length > 0);
    assert.deepEqual(devOnly.filter((p) => existsSync(path.join(runtime.root, 'app', p))), [], 'no dev-only package is in the image');
    for (const dev of ['typescript', 'eslint', '@kubernetes-models/cert-manager']) assert.ok(Object.keys(pkg.devDependencies).includes(dev) && !existsSync(path.join(modules, dev)), `${dev} is not in the image`);
    assert.ok(!existsSync(path.join(modules, 'p-retry')), 'p-retry is gone');
    assert.ok(!existsSync(path.join(runtime.root, 'app/src')), 'no TypeScript sources in the image');
    assert.ok(!existsSync(path.join(runtime.root, 'app/dist/src/dev')), 'the development environment is not in the image');
    const bytes = du(modules);
    process.stderr.write(`image node_modules: ${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes} bytes) in ${readdirSync(modules).length} top-level entries; dist/src: ${(du(path.join(runtime.root, 'app/dist/src')) / 1024).toFixed(0)} KiB\n`);
    assert.ok(bytes > 0);
  });

  test('the result runs: --help, and --version names the package version', async () => {
    const help = await sh(`'${process.execPath}' ${entry(['--help']).join(' ')}`, path.join(runtime.root, 'app'), 60_000);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: mapi-operator <command>/);
    const version = await sh(`'${process.execPath}' ${entry(['--version']).join(' ')}`, path.join(runtime.root, 'app'), 60_000);
    assert.equal(version.stdout.trim(), `mapi-operator ${JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version}`);
  });

  test('`run` (the image CMD) against the control plane reaches /readyz 200 and exits 0 on SIGTERM', { timeout: 3 * 60_000 }, async () => {
    const [metrics, health] = await freePorts(2);
    assert.deepEqual(runtime.cmd, ['run', '--leader-elect']);
    const argv = entry([...runtime.cmd!, '--kubeconfig', sharedKubeconfigPath(), `--metrics-addr=127.0.0.1:${metrics}`, `--health-addr=127.0.0.1:${health}`, '--leader-election-namespace=default', `--leader-election-id=image-test-${process.pid}`, '--label-selector=image-test=none']);
    const child = spawn(process.execPath, argv, { cwd: path.join(runtime.root, 'app'), env: { PATH: process.env.PATH, HOME: tmp, ...imageEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (log += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(async () => (await fetchText(`http://127.0.0.1:${health}/readyz`).catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 90_000, describe: '/readyz 200 from the replayed image' }).catch((err: Error) => assert.fail(`${err.message}\nlog:\n${log.slice(-2000)}`));
      const m = await fetchText(`http://127.0.0.1:${metrics}/metrics`);
      assert.match(m.body, /controller_runtime_reconcile_total|workqueue_depth/);
      // The allocator the image copies in and preloads is the one the process runs with.
      const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8');
      assert.ok(maps.includes(inStage(runtime, runtime.env.LD_PRELOAD!)), `the image's ${runtime.env.LD_PRELOAD} is mapped into the operator`);
      assert.doesNotMatch(log, /<jemalloc>|cannot be preloaded/, 'neither jemalloc nor ld.so complained');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `exit code on SIGTERM; log:\n${log.slice(-2000)}`);
  });
});
