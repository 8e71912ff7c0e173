import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuBetween, legCpuCell, readCpu } from '../../../bench/scale/harness.ts';

test('readCpu sums the processes sharing a name (a restarted component) and reads the time', () => {
  const cpu: Record<number, number> = { 10: 5, 11: 2.5, 12: 7 };
  const reading = readCpu([{ name: 'cert-manager', pid: 10 }, { name: 'cert-manager', pid: 11 }, { name: 'etcd', pid: 12 }], (pid) => cpu[pid]!, () => 1_000);
  assert.deepEqual(reading, { atMs: 1_000, seconds: { 'cert-manager': 7.5, etcd: 7 } });
});

test('readCpu reads this very process from /proc: a busy loop shows up in its CPU seconds', () => {
  const before = readCpu([{ name: 'benchmark', pid: process.pid }]);
  // Spin until Node itself counts 200 ms of this process's CPU, however loaded the machine is.
  const start = process.cpuUsage();
  let x = 0;
  while (process.cpuUsage(start).user < 200_000) x += Math.sqrt(x + 1);
  const after = readCpu([{ name: 'benchmark', pid: process.pid }]);
  assert.ok(x > 0);
  // /proc counts in 10 ms ticks.
  assert.ok(cpuBetween(before, after).byProcess.benchmark! >= 0.15, JSON.stringify({ before, after }));
});

test('cpuBetween: a process started in between counts whole, one gone by the end counts 0, cores over the wall time', () => {
  const from = { atMs: 0, seconds: { 'kube-apiserver': 100, operator: 3 } };
  const to = { atMs: 10_000, seconds: { 'kube-apiserver': 112, operator: 0, 'cert-manager': 6 } };
  const leg = cpuBetween(from, to);
  assert.deepEqual(leg.byProcess, { 'kube-apiserver': 12, operator: 0, 'cert-manager': 6 });
  assert.equal(leg.total, 18);
  assert.equal(leg.cores, 1.8);
  assert.ok(Number.isNaN(cpuBetween(to, to).cores));
});

test('legCpuCell: the operator leg\'s busiest first, a process of one leg only shown as –, tiny ones left out, the totals\' ratio', () => {
  const operatorLeg = { byProcess: { 'kube-apiserver': 392.4, operator: 159, 'cert-manager': 241, kwok: 0.1 }, total: 792.5, cores: 1.98 };
  const rawLeg = { byProcess: { 'kube-apiserver': 159, 'cert-manager': 241, kwok: 0.2 }, total: 400.2, cores: 1.93 };
  assert.equal(
    legCpuCell(operatorLeg, rawLeg),
    'kube-apiserver 392 / 159; cert-manager 241 / 241; operator 159 / –; total 793 / 400 (1.98 / 1.93 cores; 1.98×)',
  );
});
