// A checked resource's status repeats its last check run's rows: each row's name and message,
// which the check runs hold for the next verdict, and which the cache holds again in the status
// the apiserver sends back. JSON.parse makes new strings; the informers' string pool shares
// only what it still holds (it starts again when full, which at 5,000 MailDomains happens
// between a run and its status coming back by watch) and never a row's name. A heap snapshot
// at 5,000 MailDomains showed ~4.6 MiB of such second copies. The cache adopts the run's
// strings where they are equal, and each run keeps its last run's where they are equal, so the
// strings a status adopted stay those the runs hold while nothing changes.
import type { CheckResult } from '../../checks/types.ts';
import { poolStrings, type KubeObject, type StringPool } from '../../kube/index.ts';

/** By `<kind>/<namespace>/<name>`: the rows of the resource's last run, and whose run it was
 *  (the check runs hold the rows too; CheckRuns.forget and stop drop the entries). */
const lastRunRows = new Map<string, { owner: object; rows: readonly CheckResult[] }>();

const keyFor = (kind: string, namespacedName: string): string => `${kind}/${namespacedName}`;

export function rememberRunRows(owner: object, kind: string, namespacedName: string, rows: readonly CheckResult[]): void {
  lastRunRows.set(keyFor(kind, namespacedName), { owner, rows });
}

export function forgetRunRows(kind: string, namespacedName: string): void {
  lastRunRows.delete(keyFor(kind, namespacedName));
}

/** Drops every entry `owner` remembered (its check runs stopped). */
export function forgetRunRowsOf(owner: object): void {
  for (const [key, entry] of lastRunRows) if (entry.owner === owner) lastRunRows.delete(key);
}

/** How many resources' rows are remembered (what forgetting bounds). */
export function rememberedRunRows(): number {
  return lastRunRows.size;
}

const SHARED_FIELDS = ['name', 'status', 'reason', 'message'] as const;

/**
 * A new run's rows, with each field equal to the same row's in the resource's last run taken
 * from that row; the rest pooled. Every run makes its rows' strings anew, and a status that did
 * not change is not written again, so the cache went on holding the strings of the run its
 * status came from while the check runs held the latest run's: two copies of every row of every
 * MailDomain after the second run (~5 MiB at 5,000 MailDomains, a heap snapshot). Kept from run
 * to run, a row's strings stay those its status adopted. The rows are the run's own, changed in
 * place.
 */
export function shareLastRunStrings(kind: string, namespacedName: string, rows: CheckResult[], pool?: StringPool): CheckResult[] {
  const last = lastRunRows.get(keyFor(kind, namespacedName))?.rows;
  const byName = last && new Map(last.map((r) => [r.name, r]));
  for (const row of rows) {
    const before = byName?.get(row.name);
    if (!before) {
      poolStrings(row, pool);
      continue;
    }
    // What changed is pooled as a new row's would be (not what is kept: the pool may hold
    // another copy of it).
    const changed: Partial<Record<(typeof SHARED_FIELDS)[number], unknown>> = {};
    for (const field of SHARED_FIELDS) {
      if (row[field] === before[field]) (row as unknown as Record<string, unknown>)[field] = before[field];
      else changed[field] = row[field];
    }
    Object.assign(row, poolStrings(changed, pool));
    poolStrings(row.details, pool);
  }
  return rows;
}

interface StatusRow {
  name?: unknown;
  message?: unknown;
}

/**
 * A status row whose name, and message, equal a row of the resource's last run takes that
 * row's strings. The object is the informer's own, freshly parsed, so changing it in place
 * changes nobody else's; what differs (a run newer or older than the status) is kept as
 * received. `kind` is given, not read: list items may come without one.
 */
function adoptRunRowStrings<T extends KubeObject>(kind: string, obj: T): T {
  const rows = (obj.status as { checks?: unknown } | undefined)?.checks;
  if (!Array.isArray(rows) || rows.length === 0) return obj;
  const run = lastRunRows.get(keyFor(kind, `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`))?.rows;
  if (!run) return obj;
  for (const row of rows as StatusRow[]) {
    if (row === null || typeof row !== 'object' || Object.isFrozen(row)) continue;
    const mine = run.find((r) => r.name === row.name);
    if (!mine) continue;
    row.name = mine.name;
    if (mine.message === row.message) row.message = mine.message;
  }
  return obj;
}

/** A cached MailDomain with its check rows' strings adopted from its last run. */
export function adoptMailDomainRunRows<T extends KubeObject>(obj: T): T {
  return adoptRunRowStrings('MailDomain', obj);
}
