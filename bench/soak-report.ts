// The soak's summary table, from its minute samples: for each metric, its range and its slope
// per hour with a 95 % interval, over the run after a warm-up and over its last hour (never the
// warm-up), and whether that last hour shows a trend (an interval that excludes 0).
//
//   node bench/soak-report.ts soak.json      (the file `npm run soak -- --out` wrote)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fmt } from './scale/harness.ts';
import { trend, type Trend } from './measure.ts';

/** One minute sample of the operator, as the soak takes it. */
export interface SoakSample {
  minute: number;
  rssMiB: number;
  fileMiB: number;
  mallocMiB: number;
  anonymousMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  sockets: number;
  lagP99Ms: number;
  /** V8's heap by space, committed and in use (older runs did not sample it). */
  heapSpaces?: Record<string, { totalMiB: number; usedMiB: number }>;
}

type Metric = [string, (r: SoakSample) => number, string];

const METRICS: Metric[] = [
  ['RSS', (r) => r.rssMiB, 'MiB'],
  ['RSS: mapped files', (r) => r.fileMiB, 'MiB'],
  ['RSS: malloc arenas', (r) => r.mallocMiB, 'MiB'],
  ['RSS: other anonymous', (r) => r.anonymousMiB, 'MiB'],
  ['heap used', (r) => r.heapUsedMiB, 'MiB'],
  ['heap total', (r) => r.heapTotalMiB, 'MiB'],
  ['external', (r) => r.externalMiB, 'MiB'],
  ['open sockets', (r) => r.sockets, ''],
  ['event-loop lag p99', (r) => r.lagP99Ms, 'ms'],
];

/** A committed and an in-use row for each V8 space that reached 1 MiB: which space a slope of
 *  the heap's total is in. */
export function spaceMetrics(rows: readonly SoakSample[]): Metric[] {
  const spaces = new Set<string>();
  for (const r of rows) for (const [space, v] of Object.entries(r.heapSpaces ?? {})) if (v.totalMiB >= 1) spaces.add(space);
  return [...spaces].sort().flatMap((space): Metric[] => [
    [`heap space ${space}: committed`, (r) => r.heapSpaces?.[space]?.totalMiB ?? NaN, 'MiB'],
    [`heap space ${space}: in use`, (r) => r.heapSpaces?.[space]?.usedMiB ?? NaN, 'MiB'],
  ]);
}

const withInterval = (t: Trend) => (Number.isNaN(t.ci95) ? fmt(t.slope, 2) : `${fmt(t.slope, 2)} ± ${fmt(t.ci95, 2)}`);

/** "none" when the interval holds 0, else which way it goes. */
export function verdict(t: Trend): 'none' | 'rising' | 'falling' | 'too few samples' {
  if (Number.isNaN(t.ci95)) return 'too few samples';
  if (t.slope - t.ci95 > 0) return 'rising';
  if (t.slope + t.ci95 < 0) return 'falling';
  return 'none';
}

/**
 * The table's lines. `firstSnapshotMinute`: a heap snapshot leaves native memory behind, so the
 * RSS figures stop there. The warm-up is the first 10 minutes (a third of a shorter run).
 */
export function soakTable(rows: readonly SoakSample[], firstSnapshotMinute?: number): string[] {
  const lastMinute = rows.at(-1)?.minute ?? 0;
  const warmFrom = Math.min(10, lastMinute / 3);
  const perHour = (sel: readonly SoakSample[], f: (r: SoakSample) => number) => trend(sel.map((r) => [r.minute / 60, f(r)] as [number, number]));
  return [
    '| metric | first | last | min | max | slope/h (all) | slope/h after warm-up (± 95 %) | slope/h, last hour (± 95 %) | trend in the last hour |',
    '|---|---|---|---|---|---|---|---|---|',
    ...[...METRICS, ...spaceMetrics(rows)].flatMap(([name, f, unit]) => {
      const cut = name.startsWith('RSS') && firstSnapshotMinute !== undefined ? (r: SoakSample) => r.minute <= firstSnapshotMinute : () => true;
      const all = rows.filter((r) => cut(r) && Number.isFinite(f(r)));
      if (all.length === 0) return [];
      const end = all.at(-1)!.minute;
      const v = all.map(f);
      const lastHour = perHour(all.filter((r) => r.minute >= Math.max(end - 60, warmFrom)), f);
      const label = `${name}${unit ? ` (${unit})` : ''}${all.length < rows.length && firstSnapshotMinute !== undefined ? ` (to minute ${fmt(firstSnapshotMinute)}, the first heap snapshot)` : ''}`;
      return [`| ${label} | ${fmt(v[0]!)} | ${fmt(v.at(-1)!)} | ${fmt(Math.min(...v))} | ${fmt(Math.max(...v))} | ${fmt(perHour(all, f).slope, 2)} | ${withInterval(perHour(all.filter((r) => r.minute >= warmFrom), f))} | ${withInterval(lastHour)} | ${verdict(lastHour)} |`];
    }),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/soak-report.ts soak.json');
  const soak = JSON.parse(readFileSync(file, 'utf8')) as { rows: SoakSample[]; firstSnapshotMinute?: number };
  process.stdout.write(soakTable(soak.rows, soak.firstSnapshotMinute).join('\n') + '\n');
}
