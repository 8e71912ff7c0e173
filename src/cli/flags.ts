// Flag parsing shared by the subcommands: node:util parseArgs, plus environment equivalents
// (MAPI_OPERATOR_<FLAG>) so a Helm chart or a Deployment can set them either way.
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
