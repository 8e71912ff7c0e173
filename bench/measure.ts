// Small measuring helpers the benchmarks share.
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used: a figure a busy machine does not inflate. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** The median (the lower of the two middle values for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** A command-line flag's value as a positive whole number, or an error naming the flag. */
export function positiveInteger(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} ${v}: pass a positive whole number`);
  return n;
}

export interface Trend {
  /** Least-squares slope of y over x. */
  slope: number;
  /** Half-width of its 95 % confidence interval: the slope is slope ± ci95. */
  ci95: number;
  /** Samples, and how many independent ones they are worth (fewer when neighbours correlate). */
  n: number;
  effectiveN: number;
}

/**
 * The least-squares slope with a 95 % confidence interval. Minute samples of a heap or an RSS
 * follow a sawtooth, so neighbouring residuals are alike: the interval is widened for their
 * lag-1 autocorrelation (an effective sample count n(1 − r)/(1 + r)), or it would call a
 * sawtooth's phase a trend. "No growth trend" then means an interval that holds 0.
 */
export function trend(points: ReadonlyArray<readonly [number, number]>): Trend {
  const n = points.length;
  if (n < 3) return { slope: n === 2 ? (points[1]![1] - points[0]![1]) / (points[1]![0] - points[0]![0]) : NaN, ci95: NaN, n, effectiveN: n };
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const sxx = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  if (sxx === 0) return { slope: NaN, ci95: NaN, n, effectiveN: n };
  const slope = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
  const residuals = points.map((p) => p[1] - (my + slope * (p[0] - mx)));
  const sse = residuals.reduce((a, e) => a + e * e, 0);
  let lagged = 0;
  for (let i = 1; i < n; i++) lagged += residuals[i]! * residuals[i - 1]!;
  const r1 = sse === 0 ? 0 : Math.max(0, lagged / sse);
  const effectiveN = Math.max(3, Math.min(n, (n * (1 - r1)) / (1 + r1)));
  // The residual variance from all n samples; its standard error as if only effectiveN were.
  const standardError = Math.sqrt(sse / (n - 2) / sxx) * Math.sqrt((n - 2) / (effectiveN - 2));
  return { slope, ci95: studentT975(effectiveN - 2) * standardError, n, effectiveN };
}

/** Student's t 97.5 % quantile for `df` degrees of freedom: the table below 3, above it a
 *  Cornish-Fisher expansion (within 0.8 % of the table at 3, 0.2 % from 5). */
export function studentT975(df: number): number {
  if (df < 3) {
    const table = [Infinity, 12.706, 4.303, 3.182];
    const lo = Math.max(1, Math.floor(df));
    return table[lo]! + (table[lo + 1]! - table[lo]!) * (Math.max(1, df) - lo);
  }
  const z = 1.959963984540054;
  const z3 = z ** 3, z5 = z ** 5, z7 = z ** 7;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3);
}
