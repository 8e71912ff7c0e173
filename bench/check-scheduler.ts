// What the check scheduler costs per check run when a hoster's MailDomains keep every slot
// busy: N entries due every second, runs of 20 ms, 16 at once (the operator's default). The
// baseline, in the same process and rounds interleaved, starts the same runs from a plain
// loop with no scheduling at all: the ratio is what choosing the next run adds.
//
//   npm run bench:scheduler -- [--entries 5000] [--seconds 10] [--rounds 3]
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { CheckScheduler } from '../src/controllers/checks/check-scheduler.ts';
import type { CheckResult } from '../src/checks/types.ts';
import { median, positiveInteger } from './measure.ts';

const { values } = parseArgs({ options: { entries: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } } });
const entries = positiveInteger('entries', values.entries!);
const seconds = positiveInteger('seconds', values.seconds!);
const rounds = positiveInteger('rounds', values.rounds!);
const CONCURRENCY = 16;
const RUN_MS = 20;
const passed: CheckResult[] = [{ name: 'dns/autodiscover.bench.test', status: 'Passed', reason: 'Ok', message: 'ok', details: {} }];
const oneRun = () => new Promise<CheckResult[]>((resolve) => setTimeout(() => resolve(passed), RUN_MS));

/** CPU milliseconds per completed run over the window. */
async function measure(start: (done: () => void) => () => Promise<void>): Promise<number> {
  let runs = 0;
  const stop = start(() => { runs++; });
  await delay(1_000); // warm-up: the first round of every entry
  const cpu0 = process.cpuUsage();
  const runs0 = runs;
  await delay(seconds * 1_000);
  const cpu = process.cpuUsage(cpu0);
  const done = runs - runs0;
  await stop();
  return (cpu.user + cpu.system) / 1_000 / done;
}

const scheduled = () => measure((done) => {
  const scheduler = new CheckScheduler<string>({ run: async () => { const r = await oneRun(); done(); return r; }, onChange: () => {}, concurrency: CONCURRENCY });
  for (let i = 0; i < entries; i++) scheduler.ensure(`bench/d${i}`, `d${i}.bench.test`, 1_000);
  return () => scheduler.stop();
});

const plainLoop = () => measure((done) => {
  let stopped = false;
  const lane = async () => { while (!stopped) { await oneRun(); done(); } };
  const lanes = Array.from({ length: CONCURRENCY }, lane);
  return async () => { stopped = true; await Promise.all(lanes); };
});

const results = { scheduler: [] as number[], baseline: [] as number[] };
for (let round = 1; round <= rounds; round++) {
  results.baseline.push(await plainLoop());
  results.scheduler.push(await scheduled());
  console.log(`round ${round}: scheduler ${results.scheduler.at(-1)!.toFixed(3)} ms of CPU per run, plain loop ${results.baseline.at(-1)!.toFixed(3)} ms`);
}
const s = median(results.scheduler);
const b = median(results.baseline);
console.log(`\n| ${entries} entries, ${CONCURRENCY} at once, runs of ${RUN_MS} ms | CPU per run (median of ${rounds}) | ratio |`);
console.log('|---|---|---|');
console.log(`| plain loop, no scheduling (baseline) | ${b.toFixed(3)} ms | 1.00× |`);
console.log(`| CheckScheduler | ${s.toFixed(3)} ms | ${(s / b).toFixed(2)}× |`);
