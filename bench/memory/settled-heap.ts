// The JS heap in use once garbage is collected: what a structure keeps is the difference
// between two readings around building it. Needs `node --expose-gc`; three collections, as
// one leaves objects that only a finished first pass made unreachable.
const gc = (globalThis as { gc?: () => void }).gc;

/** Heap used (bytes) after three full collections; throws without --expose-gc. */
export function settledHeapUsed(): number {
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}
