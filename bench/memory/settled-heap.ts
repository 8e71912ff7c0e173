// The JS heap in use once garbage is collected: what a structure keeps is the difference
// between two readings around building it. Needs `node --expose-gc`; three collections, as
// one leaves objects that only a finished first pass made unreachable.
import { execFileSync } from 'node:child_process';

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap used (bytes) after three full collections, with the ArrayBuffers' backing stores, which
 *  live outside V8's heap (a structure in typed arrays would otherwise count as nothing);
 *  throws without --expose-gc. */
export function settledHeapUsed(): number {
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Runs `script` once per variant, each in a fresh process (`--variant NAME` added to this
 * process's arguments), and returns their JSON lines. Measured one after another in one
 * process, a variant started from the bounded pools (strings, conditions) the one before had
 * filled, and their clearing during its measurement made its figure wrong (negative, even).
 */
export function eachVariantInItsOwnProcess(script: string, variants: readonly string[]): Array<Record<string, unknown>> {
  return variants.map((variant) => JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, ...process.argv.slice(2), '--variant', variant], { encoding: 'utf8' })) as Record<string, unknown>);
}
