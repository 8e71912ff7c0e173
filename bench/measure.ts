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
