// JSON logs with pino. Every line about an object carries {controller, namespace, name} so a
// log query for one MailDomain finds everything the operator did to it. Anything that looks
// like a secret is redacted before it is written, wherever a caller put it.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

const SECRET_KEYS = ['password', 'token', 'authorization', 'Authorization', 'bearerToken', 'clientKey', 'client-key-data', 'token-data', 'secret', 'apiKey'];

/**
 * Redaction paths: secret-like keys at the top and down to three levels, the `data` and
 * `stringData` of any object (a Secret's payload) and request headers.
 */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
  'data', '*.data', '*.*.data',
  'stringData', '*.stringData', '*.*.stringData',
  'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
];

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** json (default): one JSON object a line, for log pipelines; text: one readable line, for a terminal. */
  format?: LogFormat;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Bound on every line, e.g. {component: 'manager'}. */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
      base: opts.base ?? {},
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.format === 'text' ? textDestination(opts.destination ?? process.stdout) : opts.destination,
  );
}

const LEVEL_WIDTH = 5;

/**
 * `--log-format text`: the same records, one line each as `time LEVEL msg key=value ...`.
 * It re-reads pino's JSON line (already redacted), so text output can never show what the
 * JSON output hides.
 */
export function formatTextLine(jsonLine: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const { time, level, msg, ...rest } = rec;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`);
  const head = [String(time ?? ''), String(level ?? '').toUpperCase().padEnd(LEVEL_WIDTH), String(msg ?? '')].filter(Boolean).join(' ');
  return `${[head, ...fields].join(' ')}\n`;
}

function textDestination(out: { write(chunk: string): unknown }): DestinationStream {
  return { write: (line: string) => { out.write(formatTextLine(line.trimEnd())); } };
}

/** The logger for one reconcile: every line names the controller and the object. */
export function objectLogger(base: Logger, controller: string, key: string): Logger {
  const slash = key.indexOf('/');
  const namespace = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  return base.child({ controller, namespace, name });
}
