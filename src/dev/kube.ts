// kubectl for tests: the real client a platform engineer would use, against a test kubeconfig.
import { execFile } from 'node:child_process';
import { controlPlaneBinDir } from './controlplane-assets.ts';

export interface Kubectl {
  (args: string[], input?: string): Promise<{ stdout: string; stderr: string; code: number }>;
  json<T = Record<string, unknown>>(args: string[]): Promise<T>;
  ok(args: string[], input?: string): Promise<string>;
  apply(manifest: object | string): Promise<string>;
  tryGet<T = Record<string, unknown>>(kind: string, namespace: string, name: string): Promise<T | undefined>;
}

export function kubectlFor(kubeconfig: string): Kubectl {
  const bin = `${controlPlaneBinDir()}/kubectl`;
  const run = ((args: string[], input?: string) => new Promise((resolve) => {
    // kubectl's own --timeout (wait, delete) bounds the call; the process gets that plus a
    // margin, else 60 s. Killing `kubectl wait --timeout=300s` at 60 s would fail it silently.
    const asked = args.map((a) => /^--timeout=(\d+)s$/.exec(a)?.[1]).find((t) => t !== undefined);
    const timeoutMs = asked ? Number(asked) * 1000 + 15_000 : 60_000;
    const child = execFile(bin, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const killed = err && (err as { killed?: boolean }).killed ? `\nkubectl killed after ${timeoutMs} ms` : '';
      resolve({ stdout, stderr: `${stderr}${killed}`, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
    });
    if (input !== undefined) child.stdin!.end(input);
  })) as Kubectl;
  run.ok = async (args, input) => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  run.json = async <T>(args: string[]) => JSON.parse(await run.ok([...args, '-o', 'json'])) as T;
  run.apply = (manifest) => run.ok(['apply', '-f', '-'], typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  run.tryGet = async <T>(kind: string, namespace: string, name: string) => {
    const r = await run(['get', kind, '-n', namespace, name, '-o', 'json', '--show-managed-fields']);
    if (r.code !== 0) {
      if (/NotFound|not found/.test(r.stderr)) return undefined;
      throw new Error(`kubectl get ${kind} ${namespace}/${name}: ${r.stderr}`);
    }
    return JSON.parse(r.stdout) as T;
  };
  return run;
}

/** A namespace that is new for this test run (a leftover from an earlier run is deleted first). */
export async function freshNamespace(k: Kubectl, name: string): Promise<void> {
  await k(['delete', 'namespace', name, '--ignore-not-found', '--wait=true', '--timeout=90s']);
  await k.ok(['create', 'namespace', name]);
}
