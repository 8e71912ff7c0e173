// The first run of `npm run demo` (and of the test suites) on a fresh Debian machine: what
// the local environment needs beyond Node 24 and npm, found before any long step starts, and
// installed (src/dev/install-test-deps.sh) when this user may, or named with the exact
// command when not. Go builds the control plane; BIND (`named`) serves the demo's DNS; openssl
// makes the test CA. Without this, a fresh machine stopped after a long build with
// "cannot run /usr/sbin/named".
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './controlplane-assets.ts';

export const INSTALL_SCRIPT = 'src/dev/install-test-deps.sh';
/** The Go the control plane's wrapper modules declare (tools/controlplane/build.sh). */
export const MIN_GO = [1, 26] as const;

export interface Probe {
  /** `go env GOVERSION` (e.g. "go1.26.8"), or undefined when there is no go. */
  goVersion(): Promise<string | undefined>;
  /** Whether a program is on PATH or at one of the given paths. */
  hasProgram(name: string, alsoAt?: string[]): boolean;
  /** Whether install-test-deps.sh can install packages: root, or sudo without a password. */
  canInstall(): Promise<boolean>;
}

export interface FirstRunPlan {
  /** Debian packages missing, which install-test-deps.sh installs. */
  packages: string[];
  /** What cannot be installed for the user, each with its fix. */
  blocking: string[];
}

export async function planFirstRun(probe: Probe): Promise<FirstRunPlan> {
  const blocking: string[] = [];
  const go = await probe.goVersion();
  const m = go ? /^go(\d+)\.(\d+)/.exec(go) : null;
  if (!go) blocking.push(`Go ${MIN_GO.join('.')} or newer is needed to build the local control plane: install it from https://go.dev/dl (or apt-get install golang-go when Debian's is new enough)`);
  else if (m && (Number(m[1]) < MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) < MIN_GO[1]))) blocking.push(`Go ${go.slice(2)} is too old: the control plane needs Go ${MIN_GO.join('.')} or newer (https://go.dev/dl)`);
  const packages: string[] = [];
  if (!probe.hasProgram('named', ['/usr/sbin/named'])) packages.push('bind9');
  if (!probe.hasProgram('openssl')) packages.push('openssl');
  return { packages, blocking };
}

export class FirstRunError extends Error {}

const run = (cmd: string, args: string[]): Promise<{ code: number; stdout: string }> => new Promise((resolve) => {
  execFile(cmd, args, { timeout: 15_000 }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout: stdout.toString() }));
});

function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch { /* not here */ }
  }
  return false;
}

export const systemProbe: Probe = {
  async goVersion() {
    const r = await run('go', ['env', 'GOVERSION']).catch(() => ({ code: 1, stdout: '' }));
    return r.code === 0 ? r.stdout.trim() || undefined : undefined;
  },
  hasProgram(name, alsoAt = []) {
    if (onPath(name)) return true;
    return alsoAt.some((p) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } });
  },
  async canInstall() {
    if (process.getuid?.() === 0) return true;
    return (await run('sudo', ['-n', 'true']).catch(() => ({ code: 1, stdout: '' }))).code === 0;
  },
};

/**
 * Makes sure the local environment can start, before anything long runs: installs the
 * missing Debian packages through src/dev/install-test-deps.sh when this user may (root or
 * passwordless sudo), and otherwise throws a FirstRunError whose message is the exact
 * command to run. Returns the packages it installed. tools/demo.ts calls it first.
 */
export async function ensureFirstRunDependencies(opts: { probe?: Probe; log?: (line: string) => void } = {}): Promise<string[]> {
  const probe = opts.probe ?? systemProbe;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plan = await planFirstRun(probe);
  const problems = [...plan.blocking];
  if (plan.packages.length > 0) {
    if (await probe.canInstall()) {
      log(`installing ${plan.packages.join(', ')} (bash ${INSTALL_SCRIPT}) — needed by the local environment`);
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn('bash', [path.join(repoRoot, INSTALL_SCRIPT)], { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('exit', resolve);
        child.on('error', () => resolve(1));
      });
      if (code !== 0) problems.push(`installing ${plan.packages.join(', ')} failed: run \`sudo bash ${INSTALL_SCRIPT}\` and look at its output`);
    } else {
      problems.push(`missing Debian packages ${plan.packages.join(', ')}: run \`sudo bash ${INSTALL_SCRIPT}\` (or sudo apt-get install -y ${plan.packages.join(' ')})`);
    }
  }
  if (problems.length > 0) throw new FirstRunError(`the local environment cannot start yet:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return plan.packages;
}
