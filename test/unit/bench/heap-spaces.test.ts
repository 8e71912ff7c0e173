import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heapSpaces, parseProm } from '../../../bench/scale/harness.ts';
import { soakTable, type SoakSample } from '../../../bench/soak-report.ts';

const MiB = 1024 * 1024;

test('heapSpaces reads V8 spaces, committed and in use, from the operator metrics', () => {
  const text = [
    '# HELP nodejs_heap_space_size_total_bytes Process heap space size total from Node.js in bytes.',
    `nodejs_heap_space_size_total_bytes{space="old"} ${40 * MiB}`,
    `nodejs_heap_space_size_total_bytes{space="code"} ${2 * MiB}`,
    `nodejs_heap_space_size_used_bytes{space="old"} ${30 * MiB}`,
    `nodejs_heap_space_size_used_bytes{space="code"} ${MiB}`,
    `nodejs_heap_space_size_available_bytes{space="old"} ${10 * MiB}`,
    `nodejs_heap_size_total_bytes ${42 * MiB}`,
  ].join('\n');
  assert.deepEqual(heapSpaces(parseProm(text)), { old: { totalMiB: 40, usedMiB: 30 }, code: { totalMiB: 2, usedMiB: 1 } });
});

test('the soak table has a row per V8 space of 1 MiB or more, with its own slope', () => {
  const rows: SoakSample[] = Array.from({ length: 120 }, (_, minute) => ({
    minute, rssMiB: 100, fileMiB: 50, mallocMiB: 0, anonymousMiB: 50, heapUsedMiB: 30, heapTotalMiB: 40, externalMiB: 5, sockets: 30, lagP99Ms: 10,
    // code grows 2 MiB an hour; old is flat; tiny stays under 1 MiB
    heapSpaces: { old: { totalMiB: 30, usedMiB: 25 }, code: { totalMiB: 2 + (2 * minute) / 60, usedMiB: 1.5 }, tiny: { totalMiB: 0.25, usedMiB: 0.1 } },
  }));
  const lines = soakTable(rows);
  const row = (name: string) => lines.find((l) => l.startsWith(`| ${name} (MiB)`));
  assert.equal(row('heap space code: committed'), '| heap space code: committed (MiB) | 2.0 | 6.0 | 2.0 | 6.0 | 2.00 | 2.00 ± 0.00 | 2.00 ± 0.00 | rising |');
  assert.equal(row('heap space old: committed'), '| heap space old: committed (MiB) | 30.0 | 30.0 | 30.0 | 30.0 | 0.00 | 0.00 ± 0.00 | 0.00 ± 0.00 | none |');
  assert.ok(row('heap space code: in use'), 'in-use row present');
  assert.equal(row('heap space tiny: committed'), undefined);
  // a run saved before spaces were sampled still reads
  assert.ok(soakTable(rows.map(({ heapSpaces: _, ...r }) => r)).every((l) => !l.includes('heap space')));
});
