// `mapi-operator gatekeeper`: the sidecar in front of a MAPI server that enforces MAPI off per
// domain and per mailbox (see src/gatekeeper/).
import type { LevelWithSilent } from 'pino';
import { parseDuration } from '../api/duration.ts';
import { startGatekeeper } from '../gatekeeper/gatekeeper.ts';
import { createLogger } from '../observability/logger.ts';
import { envName, parseFlags, UsageError, type FlagSpec } from './flags.ts';

const options: FlagSpec = {
  help: { type: 'boolean', short: 'h' },
  'listen-port': { type: 'string' },
  'upstream-port': { type: 'string' },
  'upstream-host': { type: 'string' },
  'access-dir': { type: 'string' },
  'metrics-port': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'max-header-size': { type: 'string' },
  'log-level': { type: 'string' },
};

/** The gatekeeper's own environment prefix: MAPI_GATEKEEPER_LISTEN_PORT and so on. */
export function gatekeeperEnvName(flag: string): string {
  return `MAPI_GATEKEEPER_${flag.replace(/-/g, '_').toUpperCase()}`;
}

const help = `Usage: mapi-operator gatekeeper --upstream-port PORT [flags]

A reverse proxy in front of a MAPI-over-HTTP server (a sidecar in the MAPI pod). It refuses
Outlook's MAPI/HTTP access for a mail domain or a mailbox whose MAPI is off in the access list
the operator publishes, and passes everything else to the server untouched.

Flags (each also read from the environment variable shown):
  --listen-port PORT       port the Service targets (default 18080)           ${gatekeeperEnvName('listen-port')}
  --upstream-port PORT     the MAPI server's port on localhost (required)     ${gatekeeperEnvName('upstream-port')}
  --upstream-host HOST     the MAPI server's address (default 127.0.0.1)      ${gatekeeperEnvName('upstream-host')}
  --access-dir DIR         the access list volume                            ${gatekeeperEnvName('access-dir')}
                           (default /etc/mapi-operator/access)
  --metrics-port PORT      /metrics, /healthz, /readyz (default 19090)        ${gatekeeperEnvName('metrics-port')}
  --drain-timeout DUR      on SIGTERM, time for requests in flight (25s)      ${gatekeeperEnvName('drain-timeout')}
  --max-header-size BYTES  bound on a header block (default 16384)            ${gatekeeperEnvName('max-header-size')}
  --log-level LEVEL        trace|debug|info|warn|error (default info)         ${gatekeeperEnvName('log-level')}
  -h, --help               show this help
`;

function port(flag: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${flag} is required: the port the MAPI server listens on in the pod`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${flag}=${value}: must be a port number from 0 to 65535`);
  return n;
}

export async function gatekeeperCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // parseFlags reads MAPI_OPERATOR_*; the gatekeeper's variables are MAPI_GATEKEEPER_*.
  const translated: NodeJS.ProcessEnv = {};
  for (const flag of Object.keys(options)) {
    const v = env[gatekeeperEnvName(flag)];
    if (v !== undefined) translated[envName(flag)] = v;
  }
  let flags: ReturnType<typeof parseFlags>;
  let settings: Parameters<typeof startGatekeeper>[0];
  try {
    flags = parseFlags(argv, options, translated);
    if (flags.help) {
      process.stdout.write(help);
      return 0;
    }
    const level = (flags['log-level'] as string | undefined) ?? 'info';
    if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) throw new UsageError(`--log-level=${level}: use trace, debug, info, warn or error`);
    let drainTimeoutMs: number;
    try {
      drainTimeoutMs = parseDuration((flags['drain-timeout'] as string | undefined) ?? '25s');
    } catch (err) {
      throw new UsageError(`--drain-timeout: ${(err as Error).message}`);
    }
    const maxHeader = flags['max-header-size'] as string | undefined;
    const maxHeaderSize = maxHeader === undefined ? 16_384 : Number(maxHeader);
    if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < 1024 || maxHeaderSize > 1_048_576) throw new UsageError(`--max-header-size=${maxHeader}: must be a number of bytes from 1024 to 1048576`);
    settings = {
      listenPort: port('listen-port', flags['listen-port'] as string | undefined, 18080),
      upstreamPort: port('upstream-port', flags['upstream-port'] as string | undefined),
      upstreamHost: (flags['upstream-host'] as string | undefined) ?? '127.0.0.1',
      accessDir: (flags['access-dir'] as string | undefined) ?? '/etc/mapi-operator/access',
      metricsPort: port('metrics-port', flags['metrics-port'] as string | undefined, 19090),
      drainTimeoutMs,
      maxHeaderSize,
      logger: createLogger({ level: level as LevelWithSilent, base: { component: 'gatekeeper' } }),
    };
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mapi-operator gatekeeper: ${err.message}\nRun "mapi-operator gatekeeper --help" for the flags.\n`);
      return 2;
    }
    throw err;
  }
  const gatekeeper = await startGatekeeper(settings);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      settings.logger.info({ signal }, 'signal received');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await gatekeeper.drain();
  return 0;
}
