// Small readers over check results that every gate rule shares.
import type { CheckResult } from '../checks/types.ts';

/**
 * tls/ Warning means "expiring within 7 days": it still works today, so it counts.
 * dns/ Warning means "published through SRV only" (or partly elsewhere): Outlook still finds it.
 */
const COUNTS = new Set(['Passed', 'Warning']);

export const counts = (r: CheckResult | undefined): boolean => r !== undefined && COUNTS.has(r.status);

export type ResultIndex = ReadonlyMap<string, CheckResult>;

export const indexResults = (results: readonly CheckResult[]): ResultIndex => new Map(results.map((r) => [r.name, r]));

/** "tls/x Failed (NameMismatch): message", or "tls/x has not run". */
export function describeResult(byName: ResultIndex, name: string): string {
  const r = byName.get(name);
  return r ? `${name} ${r.status} (${r.reason}): ${r.message}` : `${name} has not run yet`;
}

/** Status messages must stay readable with 10,000 domains: cut long parts, say so. */
export function bounded(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** "a, b, c and 17 more" for at most `max` names. */
export function listSome(names: readonly string[], max = 20): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}
