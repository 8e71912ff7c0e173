// Check metrics: one status series per check, one last-run time per MailDomain (its checks
// run together), series of removed checks and forgotten domains gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CheckMetrics } from '../../../src/controllers/checks/check-metrics.ts';
import type { CheckResult } from '../../../src/checks/types.ts';

const result = (name: string, status: CheckResult['status']): CheckResult => ({ name, status, details: {} }) as unknown as CheckResult;
const series = async (reg: Registry, name: string) => (await reg.getSingleMetric(name)!.get()).values.map((v) => ({ labels: v.labels, value: v.value }));

test('status per check, last run once per MailDomain, both gone when the domain is forgotten', async () => {
  const reg = new Registry();
  const m = new CheckMetrics(reg);
  m.observe('ns/a', [result('dns/autodiscover', 'Passed'), result('http/pox', 'Failed')], 1200, 1_700_000_000_000);
  m.observe('ns/b', [result('dns/autodiscover', 'Warning')], 800, 1_700_000_030_000);
  assert.deepEqual(await series(reg, 'mapi_operator_check_status'), [
    { labels: { maildomain: 'ns/a', check: 'dns/autodiscover' }, value: 0 },
    { labels: { maildomain: 'ns/a', check: 'http/pox' }, value: 2 },
    { labels: { maildomain: 'ns/b', check: 'dns/autodiscover' }, value: 1 },
  ]);
  assert.deepEqual(await series(reg, 'mapi_operator_check_last_run_timestamp_seconds'), [
    { labels: { maildomain: 'ns/a' }, value: 1_700_000_000 },
    { labels: { maildomain: 'ns/b' }, value: 1_700_000_030 },
  ]);
  // A check that went away (an alias removed) stops being reported.
  m.observe('ns/a', [result('dns/autodiscover', 'Passed')], 1000, 1_700_000_060_000);
  assert.deepEqual((await series(reg, 'mapi_operator_check_status')).filter((s) => s.labels.maildomain === 'ns/a').map((s) => s.labels.check), ['dns/autodiscover']);
  m.forget('ns/a');
  // Forgetting is not a run: the run-time histogram counts the three runs above only.
  assert.equal((await reg.getSingleMetric('mapi_operator_check_run_duration_seconds')!.get()).values.find((v) => (v as { metricName?: string }).metricName === 'mapi_operator_check_run_duration_seconds_count')?.value, 3);
  assert.deepEqual((await series(reg, 'mapi_operator_check_status')).map((s) => s.labels.maildomain), ['ns/b']);
  assert.deepEqual((await series(reg, 'mapi_operator_check_last_run_timestamp_seconds')).map((s) => s.labels.maildomain), ['ns/b']);
});
