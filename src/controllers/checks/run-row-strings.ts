// A checked resource's status repeats its last check run's rows: each row's name and message,
// which the check runs hold for the next verdict, and which the cache holds again in the status
// the apiserver sends back. JSON.parse makes new strings; the informers' string pool shares
// only what it still holds (it starts again when full, which at 5,000 MailDomains happens
// between a run and its status coming back by watch) and never a row's name. A heap snapshot
// at 5,000 MailDomains showed ~4.6 MiB of such second copies. The cache adopts the run's
// strings where they are equal.
import type { CheckResult } from '../../checks/types.ts';
import type { KubeObject } from '../../kube/index.ts';

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

/** The MailDomain informers' compact transform (ClusterView). Named: the manager tells
 *  informers apart by it, and both MailDomain caches must take the same one to stay one cache
 *  when every namespace is watched. */
export function adoptMailDomainRunRows<T extends KubeObject>(obj: T): T {
  return adoptRunRowStrings('MailDomain', obj);
}
