// What a check result may tell a tenant in status. A declared host can resolve to somebody
// else's server (an internal service, a hoster, a redirect target); the class of failure is
// the tenant's business, the other server's certificate names, subjects and the query string
// (tokens) of where it redirects are not. `mapi-operator check`, run by the person who owns
// the hosts, keeps the full text; only what goes into a resource's status is redacted.
import type { CheckResult } from '../checks/types.ts';

const RULES: [RegExp, string][] = [
  // "valid for a.example, b.example, not for host" → the count only.
  [/valid for ((?:[^,\s]+, )*[^,\s]+), not for/g, 'valid for other names, not for'],
  [/certificate not valid for [^\s]+ \(it names [^)]*\)/g, 'certificate not valid for the host'],
  [/presents a self-signed certificate \([^)]*\)/g, 'presents a self-signed certificate'],
  [/the intermediate that issued it \([^)]*\)/g, 'the intermediate that issued it'],
  [/the chain of (\S+) ends at .*?, which is not a trusted root/g, 'the chain of $1 ends at a root that is not trusted'],
  [/The chain certificate .*? (expired on|is not valid before)/g, 'A chain certificate $1'],
  // URLs keep scheme, host and path: a query string or fragment may carry a token.
  [/(\bhttps?:\/\/[^\s?#)'"]*)[?#][^\s)'"]*/g, '$1'],
];

export function redactForStatus(message: string): string {
  return RULES.reduce((m, [pattern, replacement]) => m.replace(pattern, replacement), message);
}

/** A row whose message needs no redaction is the very row it was (the probe cache's): a copy
 *  of every row, in every MailDomain's latest results, was ~450 B per MailDomain for nothing. */
export function redactResults(results: readonly CheckResult[]): CheckResult[] {
  return results.map((r) => {
    const message = redactForStatus(r.message);
    return message === r.message ? r : { ...r, message };
  });
}
