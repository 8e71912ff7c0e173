// Bounded polling for tests: every wait has a deadline and says what it was waiting for.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 250 ms). */
  intervalMs?: number;
  /** What is awaited, in words: "deployment web to have 2 ready replicas". */
  describe: string;
}

/**
 * Calls fn until it returns a value other than undefined/false, and returns that value.
 * Errors thrown by fn count as "not yet" and the last one is reported on time-out, together
 * with the last value seen, so a failing test says what it saw.
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 250;
  const start = Date.now();
  let attempts = 0;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
      lastValue = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const elapsed = Date.now() - start;
    if (elapsed >= timeoutMs) {
      const why =
        lastError !== undefined
          ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
          : `last result: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${opts.describe}; ${why}`);
    }
    await delay(Math.min(intervalMs, timeoutMs - elapsed));
  }
}
