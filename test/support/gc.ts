// Garbage collection on demand for unit tests that check what is freed: `node --test` runs
// without --expose-gc, so the flag is set at run time and `gc` taken from a new context.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');

/** A full collection. */
export const gc = vm.runInNewContext('gc') as () => void;

/** The heap in use after two full collections (one leaves what only its own pass freed). */
export function settledHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
