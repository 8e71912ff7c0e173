// `mapi-operator check`: the operator's checks and gate run from anywhere (a laptop, CI) against
// a file (a MapiServer and its MailDomains, or MailDomains alone with --external-host) or flags,
// with a Remote-Connectivity-Analyzer-like report. The file and the flags are validated with the
// API's own schemas, the targets and verdicts come from src/gate: the command and the operator
// cannot disagree. Exit 0 when the server's gate would open, 1 when it stays closed, 2 on a
// usage error.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { loadAll } from 'js-yaml';
import type { MailDomain } from '../api/maildomain.ts';
import type { MapiServer } from '../api/mapiserver.ts';
import { parseMailDomain, parseMailDomainSpec, parseMapiServer, parseMapiServerSpec, type ParseResult } from '../api/parse.ts';
import { autodiscoverHosts, mailDomainNames } from '../builders/hosts.ts';
import { parseCertificates } from '../checks/chain.ts';
import { runChecks } from '../checks/engine.ts';
import { normalizeHost } from '../checks/host-names.ts';
import { createRealCheckIO } from '../checks/io.ts';
import { parseProbeNetwork, PUBLIC_ONLY, type ProbePolicy } from '../policy/probe-policy.ts';
import { ProbeCache } from '../checks/probe-cache.ts';
import type { CheckResult, ProbeCredentials, RequireMode } from '../checks/types.ts';
import {
  domainCheckTarget, domainVerdict, remedyFor, serverCheckTarget, serverVerdict,
  type CheckTargetExtras, type DomainVerdict, type ServerVerdict,
} from '../gate/index.ts';
import { textReport, useColour } from './report.ts';

const EXIT_OPEN = 0;
const EXIT_CLOSED = 1;
const EXIT_USAGE = 2;

export const CHECK_HELP = `Usage: mapi-operator check (-f FILE | --domain D --external-host H) [flags]

Runs the Outlook readiness checks the operator gates on - DNS publication of autodiscover,
TLS of every host, the mail server's HTTP answers - and the operator's own gate over them.
Exit status: 0 the server's gate would open, 1 it stays closed, 2 usage error.

Target:
  -f, --file FILE              a YAML file: a MapiServer and the MailDomains that name it in
                               spec.serverRef (the gate then follows its spec.gate.domains), or
                               MailDomains alone together with --external-host
      --domain D               the mail domain (without -f)
      --alias A                an alias domain; repeatable
      --external-host H        the server's external host (without a MapiServer in the file)
      --autodiscover-host H    an autodiscover host; repeatable
                               (default: autodiscover.<domain> and autodiscover.<alias>)
      --require Any|All        Any: the domain or one alias must publish autodiscover;
                               All: every one (default: the file's autodiscover.require, else Any)
DNS and TLS:
      --nameserver IP[:PORT]   ask this name server; repeatable (default: the file's
                               spec.checks.nameservers, else the system's)
      --ca-file FILE           extra trusted CA certificates (PEM)
Authenticated probes (autodiscover POX answer and MAPI PING):
      --probe-user USER
      --probe-password-file FILE   the password; or the environment MAPI_PROBE_PASSWORD.
                               There is no password flag: a password on the command line
                               ends up in shell history and the process list.
      --probe-address ADDRESS  the mailbox autodiscover is asked about
Output and limits:
      --no-http                skip the http/ and redirect/ probes (before MAPI pods exist)
      --json                   one JSON object: {"gate","reason","message","domains","checks"}
      --explain                for each failing check, the DNS record or certificate change
                               that fixes it
      --timeout SECONDS        per probe, connect included (default 10, at most 60)
      --probe-private-networks also probe private addresses (RFC 1918, fc00::/7); by default
                               only public addresses (never loopback, link-local, metadata)
      --probe-allow-network CIDR  also probe this network (repeatable), e.g. 10.20.0.0/16
  -h, --help                   this help
For testing only (production always uses 443 and 80):
      --https-port PORT        send the https probes to this port
      --http-port PORT         send the HTTP redirect probe to this port
      --probe-loopback         let the probes reach 127.0.0.0/8 and ::1
`;

class UsageError extends Error {}

export interface ParsedCheckArgs {
  help: boolean;
  server: MapiServer;
  domains: MailDomain[];
  extras: CheckTargetExtras;
  timeoutMs: number;
  httpsPort?: number;
  httpPort?: number;
  probePolicy: ProbePolicy;
  json: boolean;
  explain: boolean;
}

export interface CheckOutcome {
  verdict: ServerVerdict;
  domains: { md: MailDomain; verdict: DomainVerdict; results: CheckResult[] }[];
  /** The server rows, then each domain's own rows; one row per check name. */
  results: CheckResult[];
}

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
  // Progress is for a person watching a terminal; a pipe or a file gets only the report.
  const progress = process.stderr.isTTY === true ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
  const outcome = await runCheck(parsed, progress);
  if (parsed.json) process.stdout.write(`${JSON.stringify(jsonOutput(outcome, parsed))}\n`);
  else process.stdout.write(textOutput(outcome, parsed, useColour(process.stdout, process.env)));
  return outcome.verdict.open ? EXIT_OPEN : EXIT_CLOSED;
}

/** Runs the checks of the server and of every domain, and the gate over them. */
export async function runCheck(parsed: ParsedCheckArgs, progress: (line: string) => void = () => {}): Promise<CheckOutcome> {
  const { server, timeoutMs } = parsed;
  const io = createRealCheckIO({
    nameservers: server.spec.checks.nameservers,
    ...(parsed.extras.caBundlePem ? { caBundlePem: parsed.extras.caBundlePem } : {}),
    limits: { totalTimeoutMs: timeoutMs, connectTimeoutMs: Math.min(5_000, timeoutMs) },
    ...(parsed.httpsPort ? { httpsPortFor: () => parsed.httpsPort! } : {}),
    ...(parsed.httpPort ? { httpPortFor: () => parsed.httpPort! } : {}),
    probePolicy: parsed.probePolicy,
  });
  // Shared by every target, so the external host (which every domain's target includes) is
  // probed once; a run lasts far less than the time-to-live.
  const cache = new ProbeCache({ clock: io.clock, ttlMs: 3_600_000, failureTtlMs: 3_600_000 });
  // Probes of one host run at most two at a time; three rounds of the time-out bound a check.
  const options = { cache, checkDeadlineMs: timeoutMs * 3 + 5_000 };

  progress(`checking ${server.spec.externalHost} …`);
  const serverResults = await runChecks(serverCheckTarget(server.spec, parsed.extras), io, options);
  const external = normalizeHost(server.spec.externalHost);
  const domains: CheckOutcome['domains'] = [];
  for (const md of parsed.domains) {
    progress(`checking ${md.spec.domain}${md.spec.aliases.length > 0 ? ` (+${md.spec.aliases.length} aliases)` : ''} …`);
    const target = domainCheckTarget(md.spec, server.spec, parsed.extras);
    const all = await runChecks(target, io, options);
    // The external host's rows are the server's (an SRV target's tls/ row is read from there).
    const own = all.filter((r) => r.name.slice(r.name.indexOf('/') + 1) !== external);
    const verdict = domainVerdict([...own, ...serverResults], {
      require: md.spec.autodiscover.require, autodiscoverHosts: target.autodiscoverHosts, domains: mailDomainNames(md.spec),
    });
    domains.push({ md, verdict, results: own });
  }
  const verdict = serverVerdict({
    externalHost: server.spec.externalHost,
    results: serverResults,
    domains: domains.map(({ md, verdict: v }) => ({ name: md.metadata.name, domain: md.spec.domain, accepted: true, verdict: v })),
    policy: server.spec.gate,
    checksRan: true,
  });
  const seen = new Set<string>();
  const results = [...serverResults, ...domains.flatMap((d) => d.results)].filter((r) => (seen.has(r.name) ? false : (seen.add(r.name), true)));
  return { verdict, domains, results };
}

// ---- output ---------------------------------------------------------------------------------

function remedyOf(outcome: CheckOutcome, parsed: ParsedCheckArgs): (r: CheckResult) => string | undefined {
  const domainOf = new Map(outcome.domains.flatMap(({ md }) => autodiscoverHosts(md.spec).map((h) => [normalizeHost(h.host), h.domain] as const)));
  const ctx = { externalHost: parsed.server.spec.externalHost, domainOf: (host: string) => domainOf.get(host) };
  return (r) => remedyFor(r, ctx);
}

function jsonOutput(outcome: CheckOutcome, parsed: ParsedCheckArgs) {
  const { verdict } = outcome;
  const fix = remedyOf(outcome, parsed);
  return {
    gate: verdict.open ? 'Open' : 'Closed',
    reason: verdict.reason,
    message: verdict.message,
    domains: outcome.domains.map(({ md, verdict: v }) => ({
      name: md.metadata.name, domain: md.spec.domain, passing: v.passing, reason: v.reason, message: v.message,
      hosts: v.hosts.map(({ host, domain, published, served }) => ({ host, domain, published, served })),
    })),
    checks: outcome.results.map(({ name, status, reason, message, details }) => {
      const remedy = parsed.explain ? fix({ name, status, reason, message, details }) : undefined;
      return { name, status, reason, message, details, ...(remedy ? { fix: remedy } : {}) };
    }),
  };
}

function textOutput(outcome: CheckOutcome, parsed: ParsedCheckArgs, colour: boolean): string {
  const { verdict, domains } = outcome;
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const single = domains.length === 1 ? domains[0]!.md.spec : undefined;
  const subject = {
    // One domain reads as before; several are listed by name (their aliases stay theirs).
    domain: single ? single.domain : domains.map((d) => d.md.spec.domain).join(', ') || parsed.server.spec.externalHost,
    aliases: single ? single.aliases : [],
    externalHost: parsed.server.spec.externalHost,
    autodiscoverHosts: domains.flatMap((d) => autodiscoverHosts(d.md.spec)),
  };
  const lines = [textReport(subject, outcome.results, verdict, colour).trimEnd()];
  if (domains.length > 0) {
    lines.push('', `MailDomains (gate.domains: ${parsed.server.spec.gate.domains}): ${verdict.passing}/${verdict.accepted} pass`);
    for (const { md, verdict: v } of domains) {
      lines.push(`  ${v.passing ? paint('32', '[PASS]') : paint('31', '[FAIL]')} ${md.spec.domain.padEnd(24)} ${v.reason}`, `         ${v.message}`);
    }
  }
  if (parsed.explain) {
    const fix = remedyOf(outcome, parsed);
    const fixes = outcome.results.flatMap((r) => {
      const remedy = fix(r);
      return remedy ? [`  ${r.name}: ${remedy}`] : [];
    });
    lines.push('', fixes.length > 0 ? 'To fix:' : 'Nothing to fix: no check fails.', ...fixes);
  }
  return `${lines.join('\n')}\n`;
}

// ---- arguments ------------------------------------------------------------------------------

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
  explain: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  'https-port': { type: 'string' },
  'http-port': { type: 'string' },
  'probe-private-networks': { type: 'boolean' },
  'probe-loopback': { type: 'boolean' },
  'probe-allow-network': { type: 'string', multiple: true },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true; allowPositionals: false }>>['values'];

/** Which flag a schema path came from, so an error names what the person typed. */
const FLAG_OF_FIELD: [RegExp, string][] = [
  [/^spec\.domain\b/, '--domain'],
  [/^spec\.aliases\b/, '--alias'],
  [/^spec\.autodiscover\.hosts\b/, '--autodiscover-host'],
  [/^spec\.externalHost\b/, '--external-host'],
  [/^spec\.checks\.nameservers\b/, '--nameserver'],
];

function flagError(result: ParseResult<unknown> & { ok: false }, values: Partial<Record<string, string | string[] | boolean>>): UsageError {
  const messages = result.errors.map((e) => {
    const field = e.slice(0, e.indexOf(':'));
    const flag = FLAG_OF_FIELD.find(([re]) => re.test(field))?.[1];
    if (!flag) return e;
    const index = /\[(\d+)\]/.exec(field)?.[1];
    const raw = values[flag.slice(2)];
    const value = Array.isArray(raw) ? raw[Number(index ?? 0)] : raw;
    return `${flag} "${value}" ${e.slice(e.indexOf(':') + 2)}`;
  });
  return new UsageError(messages.join('; '));
}

export function parseCheckArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedCheckArgs {
  let values: Values;
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (argv.some((a) => /^--(probe-)?password(=|$)/.test(a))) {
      throw new UsageError('there is no password flag: put the password in a file for --probe-password-file, or in MAPI_PROBE_PASSWORD');
    }
    throw new UsageError(message);
  }
  const timeoutMs = timeoutFlag(values.timeout);
  const extras = { includeHttp: !values['no-http'] };
  if (values.help) return { help: true, server: cliServer('localhost.invalid', []), domains: [], extras, timeoutMs, json: false, explain: false, probePolicy: PUBLIC_ONLY };

  for (const ns of values.nameserver ?? []) {
    if (!isNameserver(ns)) throw new UsageError(`--nameserver "${ns}" is not IP[:PORT]: e.g. --nameserver 192.0.2.53 or --nameserver [2001:db8::53]:5353`);
  }
  const requireValue = values.require;
  if (requireValue !== undefined && requireValue !== 'Any' && requireValue !== 'All') throw new UsageError(`--require "${requireValue}" is not Any or All`);

  let { server, domains } = values.file !== undefined ? readCheckFile(values.file, values) : fromFlags(values);
  // Flags refine the file: name servers and require.
  if (values.nameserver) {
    const nameservers = values.nameserver;
    const checked = parseMapiServerSpec({ ...server.spec, checks: { ...server.spec.checks, nameservers } });
    if (!checked.ok) throw flagError(checked, values);
    server = { ...server, spec: checked.value };
  }
  if (requireValue) domains = domains.map((md) => ({ ...md, spec: { ...md.spec, autodiscover: { ...md.spec.autodiscover, require: requireValue as RequireMode } } }));

  let caBundlePem: string | undefined;
  if (values['ca-file'] !== undefined) {
    caBundlePem = readFlagFile('--ca-file', values['ca-file']);
    if (countCertificates(caBundlePem) === 0) throw new UsageError(`--ca-file ${values['ca-file']} holds no PEM certificate: give a file with -----BEGIN CERTIFICATE----- blocks`);
  }
  const credentials = probeCredentials(values, env);
  const httpsPort = portFlag('--https-port', values['https-port']);
  const httpPort = portFlag('--http-port', values['http-port']);
  return {
    help: false,
    server,
    domains,
    extras: { ...extras, ...(caBundlePem ? { caBundlePem } : {}), ...(credentials ? { probeCredentials: credentials } : {}) },
    timeoutMs,
    json: values.json === true,
    explain: values.explain === true,
    ...(httpsPort ? { httpsPort } : {}),
    ...(httpPort ? { httpPort } : {}),
    probePolicy: {
      loopback: values['probe-loopback'] === true,
      privateNetworks: values['probe-private-networks'] === true,
      allowNetworks: (values['probe-allow-network'] ?? []).map((value) => {
        const network = parseProbeNetwork(value);
        if (!network.ok) throw new UsageError(`--probe-allow-network ${value}: ${network.problem}`);
        return network.cidr;
      }),
    },
  };
}

/** A MapiServer standing in for the one the checks are about when no file gives it. */
function cliServer(externalHost: string, nameservers: string[], values: Values = {}): MapiServer {
  const spec = parseMapiServerSpec({ externalHost, image: 'not-used-by-check', tls: { issuerRef: { name: 'not-used-by-check' } }, checks: { nameservers } });
  if (!spec.ok) throw flagError(spec, values);
  return { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'check', namespace: 'default' }, spec: spec.value };
}

function fromFlags(values: Values): { server: MapiServer; domains: MailDomain[] } {
  if (!values.domain) throw new UsageError('missing --domain: give the mail domain (e.g. --domain example.com) or a file with -f');
  const externalHost = values['external-host'];
  if (!externalHost) throw new UsageError('missing --external-host: give the server\'s external host (e.g. --external-host mail.example.com) or a file with a MapiServer with -f');
  const server = cliServer(externalHost, [], values);
  const spec = parseMailDomainSpec({
    serverRef: server.metadata.name,
    domain: values.domain,
    aliases: values.alias ?? [],
    autodiscover: { hosts: values['autodiscover-host'] ?? [] },
  });
  if (!spec.ok) throw flagError(spec, values);
  return { server, domains: [{ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: spec.value.domain, namespace: 'default' }, spec: spec.value }] };
}

/**
 * A multi-document file: one MapiServer and the MailDomains naming it, or MailDomains alone
 * with --external-host. Other kinds (Mailbox, Issuer, …) are skipped, so a whole manifest
 * directory concatenated works.
 */
export function readCheckFile(file: string, values: Values): { server: MapiServer; domains: MailDomain[] } {
  const text = readFlagFile('-f', file);
  let documents: unknown[];
  try {
    documents = (loadAll(text) as unknown[]).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw new UsageError(`-f ${file} is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (values.domain !== undefined || values.alias !== undefined || values['autodiscover-host'] !== undefined) {
    throw new UsageError('-f and --domain/--alias/--autodiscover-host exclude each other: the file already names the domains and hosts');
  }
  const kindOf = (d: unknown) => (typeof d === 'object' && d !== null ? (d as { kind?: unknown }).kind : undefined);
  const nameOf = (d: unknown, i: number) => `${String(kindOf(d))} ${(d as { metadata?: { name?: string } }).metadata?.name ?? `#${i + 1}`}`;
  const parsed = <T>(d: unknown, i: number, parse: (o: unknown) => ParseResult<T>): T => {
    const r = parse(d);
    if (!r.ok) throw new UsageError(`-f ${file}: ${nameOf(d, i)}: ${r.message}`);
    return r.value;
  };
  const servers = documents.flatMap((d, i) => (kindOf(d) === 'MapiServer' ? [parsed(d, i, parseMapiServer)] : []));
  const domains = documents.flatMap((d, i) => (kindOf(d) === 'MailDomain' ? [parsed(d, i, parseMailDomain)] : []));
  if (servers.length > 1) throw new UsageError(`-f ${file} holds ${servers.length} MapiServers: check one server (and its MailDomains) per file`);
  const externalHost = values['external-host'];
  const server = servers[0];
  if (server) {
    if (externalHost !== undefined) throw new UsageError(`-f ${file} holds MapiServer ${server.metadata.name}, whose spec.externalHost is used: drop --external-host`);
    const foreign = domains.find((md) => md.spec.serverRef !== server.metadata.name || md.metadata.namespace !== server.metadata.namespace);
    if (foreign) {
      throw new UsageError(`-f ${file}: MailDomain ${foreign.metadata.name} names spec.serverRef ${foreign.spec.serverRef} in namespace ${foreign.metadata.namespace}, not MapiServer ${server.metadata.namespace}/${server.metadata.name}: fix spec.serverRef or check it with its own server`);
    }
    return { server, domains };
  }
  if (domains.length === 0) throw new UsageError(`-f ${file} holds no MapiServer and no MailDomain: expected documents of kind MapiServer or MailDomain (apiVersion mapi-operator.io/v1alpha2)`);
  if (externalHost === undefined) throw new UsageError(`-f ${file} holds MailDomains but no MapiServer: add the MapiServer to the file, or give its host with --external-host`);
  return { server: cliServer(externalHost, [], values), domains };
}

function timeoutFlag(value: string | undefined): number {
  const seconds = value === undefined ? 10 : Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) {
    throw new UsageError(`--timeout "${value}" is not a number of seconds between 0 and 60: e.g. --timeout 10`);
  }
  return Math.round(seconds * 1000);
}

function probeCredentials(values: Values, env: NodeJS.ProcessEnv): ProbeCredentials | undefined {
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

/** "ip", "ip:port" (IPv4) or "[ipv6]:port" / bare IPv6, as dns.Resolver#setServers takes them
 *  (stricter than the schema: the port range and the address itself are checked). */
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

function countCertificates(pem: string): number {
  try {
    return parseCertificates(pem).length;
  } catch {
    return 0;
  }
}
