// `mapi-operator check`: the operator's check engine run from anywhere (a laptop, CI) against
// a MailDomain file or flags, with a Remote-Connectivity-Analyzer-like report. Exit 0 only when
// the gate would open, 1 when it stays closed, 2 on a usage error.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { loadAll } from 'js-yaml';
import { runChecks } from '../checks/engine.ts';
import { normalizeHost } from '../checks/host-names.ts';
import { createRealCheckIO } from '../checks/io.ts';
import { parseCertificates } from '../checks/chain.ts';
import { autodiscoverHostsFor } from '../checks/target.ts';
import type { CheckTarget, ProbeCredentials, RequireMode } from '../checks/types.ts';
import { gateDecision } from '../gate/gate-decision.ts';
import { jsonReport, textReport, useColour } from './report.ts';

const EXIT_OPEN = 0;
const EXIT_CLOSED = 1;
const EXIT_USAGE = 2;

export const CHECK_HELP = `Usage: mapi-operator check (-f maildomain.yaml | --domain D --external-host H) [flags]

Runs the Outlook readiness checks the operator gates on - DNS publication of autodiscover,
TLS of every host, the mail server's HTTP answers - and prints a report per host.
Exit status: 0 the gate would open, 1 it stays closed, 2 usage error.

Target:
  -f, --file FILE              a MailDomain manifest (spec.domain, aliases, externalHost,
                               autodiscover.hosts, checks.require, checks.nameservers)
      --domain D               the mail domain (without -f)
      --alias A                an alias domain; repeatable
      --external-host H        the server's external host (without -f)
      --autodiscover-host H    an autodiscover host; repeatable
                               (default: autodiscover.<domain> and autodiscover.<alias>)
      --require Any|All        Any: the domain or one alias must publish autodiscover;
                               All: every one (default: the file's, else Any)
DNS and TLS:
      --nameserver IP[:PORT]   ask this name server; repeatable (default: the system's)
      --ca-file FILE           extra trusted CA certificates (PEM)
Authenticated probes (autodiscover POX answer and MAPI PING):
      --probe-user USER
      --probe-password-file FILE   the password; or the environment MAPI_PROBE_PASSWORD.
                               There is no password flag: a password on the command line
                               ends up in shell history and the process list.
      --probe-address ADDRESS  the mailbox autodiscover is asked about
Output and limits:
      --no-http                skip the http/ and redirect/ probes (before MAPI pods exist)
      --json                   one JSON object: {"gate":"Open"|"Closed","checks":[...]}
      --timeout SECONDS        per probe, connect included (default 10, at most 60)
  -h, --help                   this help
For testing only (production always uses 443 and 80):
      --https-port PORT        send the https probes to this port
      --http-port PORT         send the HTTP redirect probe to this port
`;

class UsageError extends Error {}

export async function checkCommand(argv: string[]): Promise<number> {
  let parsed: ParsedCheckArgs;
  try {
    parsed = parseCheckArgs(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mapi-operator check: ${err.message}\nRun "mapi-operator check --help" for the flags.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(CHECK_HELP);
    return EXIT_OPEN;
  }
  const { target, timeoutMs, httpsPort, httpPort, json } = parsed;
  const io = createRealCheckIO({
    nameservers: target.nameservers,
    ...(target.caBundlePem ? { caBundlePem: target.caBundlePem } : {}),
    limits: { totalTimeoutMs: timeoutMs, connectTimeoutMs: Math.min(5_000, timeoutMs) },
    ...(httpsPort ? { httpsPortFor: () => httpsPort } : {}),
    ...(httpPort ? { httpPortFor: () => httpPort } : {}),
  });
  // Probes of one host run at most two at a time; three rounds of the time-out bound a check.
  const results = await runChecks(target, io, { checkDeadlineMs: timeoutMs * 3 + 5_000 });
  const gate = gateDecision(results, target);
  if (json) {
    process.stdout.write(`${JSON.stringify(jsonReport(results, gate))}\n`);
  } else {
    process.stdout.write(textReport(target, results, gate, useColour(process.stdout, process.env)));
  }
  return gate.open ? EXIT_OPEN : EXIT_CLOSED;
}

export interface ParsedCheckArgs {
  help: boolean;
  target: CheckTarget;
  timeoutMs: number;
  httpsPort?: number;
  httpPort?: number;
  json: boolean;
}

const FLAGS = {
  file: { type: 'string', short: 'f' },
  domain: { type: 'string' },
  alias: { type: 'string', multiple: true },
  'external-host': { type: 'string' },
  'autodiscover-host': { type: 'string', multiple: true },
  require: { type: 'string' },
  nameserver: { type: 'string', multiple: true },
  'ca-file': { type: 'string' },
  'probe-user': { type: 'string' },
  'probe-password-file': { type: 'string' },
  'probe-address': { type: 'string' },
  'no-http': { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  'https-port': { type: 'string' },
  'http-port': { type: 'string' },
} as const;

export function parseCheckArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedCheckArgs {
  let values: ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: false }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/--probe-password\b|--password\b/.test(message) || argv.some((a) => /^--(probe-)?password(=|$)/.test(a))) {
      throw new UsageError('there is no password flag: put the password in a file for --probe-password-file, or in MAPI_PROBE_PASSWORD');
    }
    throw new UsageError(message);
  }
  const emptyTarget = { domain: '', aliases: [], externalHost: '', autodiscoverHosts: [], require: 'Any' as RequireMode, nameservers: [], includeHttp: true };
  if (values.help) return { help: true, target: emptyTarget, timeoutMs: 10_000, json: false };

  const fromFile = values.file !== undefined ? readMailDomainFile(values.file) : undefined;
  if (fromFile && (values.domain !== undefined || values.alias !== undefined || values['external-host'] !== undefined || values['autodiscover-host'] !== undefined)) {
    throw new UsageError('-f and --domain/--alias/--external-host/--autodiscover-host exclude each other: the file already names the hosts');
  }
  const domain = fromFile?.domain ?? values.domain;
  const externalHost = fromFile?.externalHost ?? values['external-host'];
  if (!domain) throw new UsageError('missing --domain: give the mail domain (e.g. --domain example.com) or a MailDomain file with -f');
  if (!externalHost) throw new UsageError('missing --external-host: give the server\'s external host (e.g. --external-host mail.example.com) or a MailDomain file with -f');
  const aliases = fromFile?.aliases ?? values.alias ?? [];
  const hosts = fromFile?.autodiscoverHosts ?? values['autodiscover-host'] ?? [];
  for (const [flag, name] of [['--domain', domain], ['--external-host', externalHost], ...aliases.map((a) => ['--alias', a]), ...hosts.map((h) => ['--autodiscover-host', h])] as const) {
    if (!isDnsName(name)) throw new UsageError(`${flag} "${name}" is not a DNS name: use lower-case labels such as mail.example.com, without scheme, port or trailing dot`);
  }

  const requireValue = values.require ?? fromFile?.require ?? 'Any';
  if (requireValue !== 'Any' && requireValue !== 'All') throw new UsageError(`--require "${requireValue}" is not Any or All`);

  const nameservers = values.nameserver ?? fromFile?.nameservers ?? [];
  for (const ns of nameservers) {
    if (!isNameserver(ns)) throw new UsageError(`--nameserver "${ns}" is not IP[:PORT]: e.g. --nameserver 192.0.2.53 or --nameserver [2001:db8::53]:5353`);
  }

  let caBundlePem: string | undefined;
  if (values['ca-file'] !== undefined) {
    caBundlePem = readFlagFile('--ca-file', values['ca-file']);
    if (parseSafely(caBundlePem) === 0) throw new UsageError(`--ca-file ${values['ca-file']} holds no PEM certificate: give a file with -----BEGIN CERTIFICATE----- blocks`);
  }

  const timeoutSeconds = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 60) {
    throw new UsageError(`--timeout "${values.timeout}" is not a number of seconds between 0 and 60: e.g. --timeout 10`);
  }

  const target: CheckTarget = {
    domain: normalizeHost(domain),
    aliases: aliases.map(normalizeHost),
    externalHost: normalizeHost(externalHost),
    autodiscoverHosts: autodiscoverHostsFor(domain, aliases, hosts),
    require: requireValue,
    nameservers,
    includeHttp: !values['no-http'],
    ...(caBundlePem ? { caBundlePem } : {}),
  };
  const credentials = probeCredentials(values, env);
  if (credentials) target.probeCredentials = credentials;

  const httpsPort = portFlag('--https-port', values['https-port']);
  const httpPort = portFlag('--http-port', values['http-port']);
  return {
    help: false,
    target,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    json: values.json === true,
    ...(httpsPort ? { httpsPort } : {}),
    ...(httpPort ? { httpPort } : {}),
  };
}

function probeCredentials(values: { 'probe-user'?: string; 'probe-password-file'?: string; 'probe-address'?: string }, env: NodeJS.ProcessEnv): ProbeCredentials | undefined {
  const username = values['probe-user'];
  const address = values['probe-address'];
  const passwordFile = values['probe-password-file'];
  const envPassword = env['MAPI_PROBE_PASSWORD'];
  if (username === undefined && address === undefined && passwordFile === undefined) return undefined;
  if (!username) throw new UsageError('--probe-user is missing: the authenticated probes need a user, a password and an address');
  if (!address || !/^[^@\s]+@[^@\s]+$/.test(address)) throw new UsageError('--probe-address is missing or not an e-mail address: e.g. --probe-address ken.sanchez@example.com');
  let password: string;
  if (passwordFile !== undefined) password = readFlagFile('--probe-password-file', passwordFile).replace(/\r?\n$/, '');
  else if (envPassword) password = envPassword;
  else throw new UsageError('no probe password: give --probe-password-file FILE or set MAPI_PROBE_PASSWORD');
  if (password === '') throw new UsageError('the probe password is empty: check --probe-password-file / MAPI_PROBE_PASSWORD');
  return { username, password, address };
}

function portFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${flag} "${value}" is not a port between 1 and 65535`);
  return port;
}

function readFlagFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path`);
  }
}

function parseSafely(pem: string): number {
  try {
    return parseCertificates(pem).length;
  } catch {
    return 0;
  }
}

interface MailDomainFile {
  domain?: string;
  aliases?: string[];
  externalHost?: string;
  autodiscoverHosts?: string[];
  require?: string;
  nameservers?: string[];
}

/** Reads the first MailDomain of a manifest; only the fields the checks need. */
function readMailDomainFile(file: string): MailDomainFile {
  const text = readFlagFile('-f', file);
  let documents: unknown[];
  try {
    documents = loadAll(text) as unknown[];
  } catch (err) {
    throw new UsageError(`-f ${file} is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const doc = documents.find((d) => isRecord(d) && d['kind'] === 'MailDomain') ?? documents.find((d) => isRecord(d) && isRecord(d['spec']));
  if (!isRecord(doc) || !isRecord(doc['spec'])) throw new UsageError(`-f ${file} holds no MailDomain: expected kind: MailDomain with a spec`);
  const spec = doc['spec'];
  const checks = isRecord(spec['checks']) ? spec['checks'] : {};
  const autodiscover = isRecord(spec['autodiscover']) ? spec['autodiscover'] : {};
  const strings = (value: unknown, field: string): string[] | undefined => {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new UsageError(`-f ${file}: ${field} must be a list of strings`);
    return value as string[];
  };
  const string = (value: unknown, field: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new UsageError(`-f ${file}: ${field} must be a string`);
    return value;
  };
  const result: MailDomainFile = {};
  const assign = <K extends keyof MailDomainFile>(key: K, value: MailDomainFile[K] | undefined) => { if (value !== undefined) result[key] = value; };
  assign('domain', string(spec['domain'], 'spec.domain'));
  assign('aliases', strings(spec['aliases'], 'spec.aliases'));
  assign('externalHost', string(spec['externalHost'], 'spec.externalHost'));
  assign('autodiscoverHosts', strings(autodiscover['hosts'], 'spec.autodiscover.hosts'));
  assign('require', string(checks['require'], 'spec.checks.require'));
  assign('nameservers', strings(checks['nameservers'], 'spec.checks.nameservers'));
  if (!result.domain) throw new UsageError(`-f ${file}: spec.domain is missing`);
  if (!result.externalHost) throw new UsageError(`-f ${file}: spec.externalHost is missing`);
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDnsName(name: string): boolean {
  return name.length <= 253 && /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/.test(name);
}

/** "ip", "ip:port" (IPv4) or "[ipv6]:port" / bare IPv6, as dns.Resolver#setServers takes them. */
export function isNameserver(value: string): boolean {
  if (net.isIP(value)) return true;
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (v6) return net.isIPv6(v6[1] ?? '') && validPort(v6[2]);
  const v4 = /^([\d.]+):(\d{1,5})$/.exec(value);
  return !!v4 && net.isIPv4(v4[1] ?? '') && validPort(v4[2]);
}

function validPort(port: string | undefined): boolean {
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}
