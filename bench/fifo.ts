// What one shift costs the work queue's lanes, by how many keys are queued: Fifo against
// Array.prototype.shift (what the lanes were before), shift+push pairs on a queue kept at each
// size, the median of 5 rounds, reported as a ratio to the array at 1,000 keys measured in the
// same run.
//
//   npm run bench:fifo -- [--sizes 1000,10000,100000]
import { parseArgs } from 'node:util';
import { Fifo } from '../src/kube/fifo.ts';
import { median } from './measure.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' } } });
const sizes = values.sizes!.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes ${values.sizes}: whole numbers, comma-separated`);
const PAIRS = 5_000;

function nsPerPair(queue: { push(k: string): void; shift(): string | undefined }, size: number): number {
  for (let i = 0; i < size; i++) queue.push(`k${i}`);
  const t = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    queue.shift();
    queue.push(`x${i}`);
  }
  return Number(process.hrtime.bigint() - t) / PAIRS;
}

const rounds = (make: () => { push(k: string): void; shift(): string | undefined }, size: number) => median(Array.from({ length: 5 }, () => nsPerPair(make(), size)));
nsPerPair([], 1_000); // warm up both
nsPerPair(new Fifo<string>(), 1_000);
const baseline = rounds(() => [] as string[], 1_000);
process.stdout.write(`| keys queued | Array.shift (ns) | Fifo (ns) | Array / baseline | Fifo / baseline |\n|---|---|---|---|---|\n`);
for (const size of sizes) {
  const array = rounds(() => [] as string[], size);
  const fifo = rounds(() => new Fifo<string>(), size);
  process.stdout.write(`| ${size.toLocaleString('en')} | ${array.toFixed(0)} | ${fifo.toFixed(0)} | ${(array / baseline).toFixed(2)}× | ${(fifo / baseline).toFixed(2)}× |\n`);
}
process.stdout.write(`\nbaseline: Array.prototype.shift+push with 1,000 keys queued, ${baseline.toFixed(0)} ns per pair\n`);
