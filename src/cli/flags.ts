// Flag parsing shared by the subcommands: node:util parseArgs, plus environment equivalents
// (MAPI_OPERATOR_<FLAG>) so a Helm chart or a Deployment can set them either way.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

export function envName(flag: string): string {
  return `MAPI_OPERATOR_${flag.replace(/-/g, '_').toUpperCase()}`;
}

/** Parses argv; flags not given fall back to their environment variable. */
export function parseFlags(argv: string[], options: FlagSpec, env: NodeJS.ProcessEnv = process.env): Record<string, string | boolean | string[] | undefined> {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[\w+\]: /, ''));
  }
  const out: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, spec] of Object.entries(options)) {
    const given = values[name];
    if (given !== undefined) {
      out[name] = given as string | boolean | string[];
      continue;
    }
    const fromEnv = env[envName(name)];
    if (fromEnv === undefined || fromEnv === '') continue;
    if (spec.type === 'boolean') {
      if (!/^(true|false|1|0)$/i.test(fromEnv)) throw new UsageError(`${envName(name)}="${fromEnv}": use true or false`);
      out[name] = /^(true|1)$/i.test(fromEnv);
    } else {
      out[name] = spec.multiple ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : fromEnv;
    }
  }
  return out;
}

export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}=${value}: must be a whole number of at least 1`);
  return n;
}

/**
 * A flag known under two names (ours and controller-runtime's): either may be given; both
 * only when they agree.
 */
export function aliasedFlag(flags: Record<string, unknown>, name: string, alias: string): string | undefined {
  const a = flags[name] as string | undefined;
  const b = flags[alias] as string | undefined;
  if (a !== undefined && b !== undefined && a !== b) throw new UsageError(`--${name}=${a} and --${alias}=${b} name the same address: give one of them`);
  return a ?? b;
}

export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubeConfigSource =
  | { found: true; source: 'flag' | 'in-cluster' | 'KUBECONFIG' | 'home'; path?: string }
  | { found: false; problem: string };

/**
 * Where the cluster configuration will come from, in the client's own order (--kubeconfig,
 * in-cluster, $KUBECONFIG, ~/.kube/config), or why there is none. Only checks that the
 * files exist: their content is the client's to judge.
 */
export function findKubeConfig(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync, home: string = homedir()): KubeConfigSource {
  if (flag) {
    return exists(flag) ? { found: true, source: 'flag', path: flag } : { found: false, problem: `--kubeconfig ${flag}: no such file; pass the path of a kubeconfig file` };
  }
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
    if (exists(IN_CLUSTER_TOKEN)) return { found: true, source: 'in-cluster' };
    return { found: false, problem: `running in a pod but ${IN_CLUSTER_TOKEN} is missing: set automountServiceAccountToken: true on the pod or its ServiceAccount` };
  }
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const present = files.filter((f) => exists(f));
    if (present.length > 0) return { found: true, source: 'KUBECONFIG', path: present[0]! };
    return { found: false, problem: `KUBECONFIG=${env.KUBECONFIG}: no such file; point it at a kubeconfig file or pass --kubeconfig` };
  }
  const fallback = join(home, '.kube', 'config');
  if (exists(fallback)) return { found: true, source: 'home', path: fallback };
  return { found: false, problem: `no Kubernetes configuration found: not in a pod, KUBECONFIG is not set and ${fallback} does not exist; pass --kubeconfig PATH or set KUBECONFIG` };
}
