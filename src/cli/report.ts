// The `mapi-operator check` report: per host, like Microsoft's Remote Connectivity Analyzer,
// then one line with the gate. `--json` gets exactly one object: {gate, checks}.
import type { CheckResult, CheckStatus } from '../checks/types.ts';
import type { GateDecision } from '../gate/index.ts';

export interface ReportSubject {
  domain: string;
  aliases: string[];
  externalHost: string;
  autodiscoverHosts: { domain: string; host: string }[];
}

export interface JsonReport {
  gate: 'Open' | 'Closed';
  checks: { name: string; status: CheckStatus; reason: string; message: string; details: Record<string, unknown> }[];
}

export function jsonReport(results: CheckResult[], gate: GateDecision): JsonReport {
  return {
    gate: gate.open ? 'Open' : 'Closed',
    checks: results.map(({ name, status, reason, message, details }) => ({ name, status, reason, message, details })),
  };
}

const MARK: Record<CheckStatus, string> = { Passed: 'PASS', Warning: 'WARN', Failed: 'FAIL', Unknown: '????' };
const COLOUR: Record<CheckStatus, string> = { Passed: '32', Warning: '33', Failed: '31', Unknown: '90' };
const KIND_ORDER = ['certificate', 'dns', 'tls', 'http', 'redirect', 'rootdomain'];

/** Colours only for a terminal, and never with NO_COLOR set (https://no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

export function textReport(subject: ReportSubject, results: CheckResult[], gate: GateDecision, colour: boolean): string {
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const bold = (text: string) => (colour ? `\u001b[1m${text}\u001b[0m` : text);
  const lines: string[] = [];
  const aliases = subject.aliases.length > 0 ? ` (aliases: ${subject.aliases.join(', ')})` : '';
  lines.push(bold(`Outlook connectivity for ${subject.domain}${aliases}, served by ${subject.externalHost}`), '');

  for (const [group, rows] of groupByHost(subject, results)) {
    lines.push(bold(group));
    for (const r of rows) {
      const kind = r.name.includes('/') ? r.name.slice(0, r.name.indexOf('/')) : r.name;
      lines.push(`  ${paint(COLOUR[r.status], `[${MARK[r.status]}]`)} ${kind.padEnd(11)} ${r.reason}`);
      lines.push(`         ${r.message}`);
      // A host with several fronts: which address says what (clients land on any of them).
      const addresses = perAddress(r);
      if (addresses.length > 1) {
        for (const a of addresses) lines.push(`           ${a.address.padEnd(15)} ${paint(COLOUR[a.status], MARK[a.status])} ${a.reason}`);
      }
    }
    lines.push('');
  }

  const counts = (['Passed', 'Warning', 'Failed', 'Unknown'] as CheckStatus[])
    .map((s) => [s, results.filter((r) => r.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s === 'Warning' ? (n === 1 ? 'warning' : 'warnings') : s.toLowerCase()}`)
    .join(', ');
  lines.push(`${results.length} checks: ${counts}`);
  const verdict = gate.open ? paint('32', 'OPEN') : paint('31', 'CLOSED');
  lines.push(bold(`Gate: ${verdict} (${gate.reason}) — ${gate.message}`), '');
  return lines.join('\n');
}

function perAddress(r: CheckResult): { address: string; status: CheckStatus; reason: string }[] {
  const list = r.details['addresses'];
  if (!Array.isArray(list)) return [];
  return list.filter((a): a is { address: string; status: CheckStatus; reason: string } =>
    typeof a === 'object' && a !== null && typeof (a as { address?: unknown }).address === 'string' && (a as { status?: unknown }).status as string in MARK);
}

/** Certificate first, then the external host, each autodiscover host, then the mail domains. */
function groupByHost(subject: ReportSubject, results: CheckResult[]): [string, CheckResult[]][] {
  const order = ['certificate', subject.externalHost, ...subject.autodiscoverHosts.map((h) => h.host), subject.domain, ...subject.aliases]
    .map((h) => h.toLowerCase());
  const groups = new Map<string, CheckResult[]>();
  for (const r of results) {
    const key = r.name.includes('/') ? r.name.slice(r.name.indexOf('/') + 1) : r.name;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rank = (key: string) => {
    const i = order.indexOf(key);
    return i === -1 ? order.length : i;
  };
  const kindRank = (r: CheckResult) => KIND_ORDER.indexOf(r.name.split('/')[0] ?? '');
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([key, rows]) => [key === 'certificate' ? 'Certificate (cert-manager)' : key, rows.sort((x, y) => kindRank(x) - kindRank(y))]);
}
