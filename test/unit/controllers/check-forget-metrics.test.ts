// A MailDomain no longer checked (deleted, or not served any more) takes its check metrics
// with it: before, nothing called CheckMetrics.forget, so every deleted MailDomain's series
// were reported, and kept in memory, for good (found by the soak's heap snapshots).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { CheckMetrics } from '../../../src/controllers/checks/check-metrics.ts';
import type { CheckResult, CheckTarget } from '../../../src/checks/types.ts';
import type { KubeClient } from '../../../src/kube/index.ts';

const target = (domain: string): CheckTarget => ({
  domain, aliases: [], externalHost: 'mail.hoster.example', autodiscoverHosts: [], require: 'Any', nameservers: [], includeHttp: true,
});
const result = (name: string): CheckResult => ({ name, status: 'Passed', reason: 'Passed', message: 'ok', details: {} }) as unknown as CheckResult;
const warnings: unknown[] = [];
const log = { warn: (...a: unknown[]) => warnings.push(String((a[0] as { err?: Error }).err?.stack)), info() {}, debug() {}, error() {} } as unknown as Logger;
const labelsOf = async (reg: Registry, name: string) => (await reg.getSingleMetric(name)!.get()).values.map((v) => v.labels.maildomain);

test('CheckRuns.forget of a checked MailDomain removes its metric series; forgetting one never checked calls nothing', async () => {
  const reg = new Registry();
  const metrics = new CheckMetrics(reg);
  const forgotten: string[] = [];
  let ran = 0;
  let bothRan: () => void = () => {};
  const done = new Promise<void>((resolve) => { bothRan = resolve; });
  const runs = new CheckRuns({
    client: {} as KubeClient, log, onChange: () => {},
    runChecks: async () => [result('dns/autodiscover'), result('tls/autodiscover.example')],
    onRun: (kind, key, results, ms) => { metrics.observe(`${kind}/${key}`, results, ms); if (++ran === 2) bothRan(); },
    onForget: (kind, key) => { forgotten.push(`${kind}/${key}`); metrics.forget(`${kind}/${key}`); },
  });
  try {
    for (const d of ['gone', 'kept']) runs.ensure('MailDomain', `tenant/${d}`, { target: target(`${d}.example`), intervalMs: 60_000, namespace: 'tenant' });
    await Promise.race([done, new Promise((_r, reject) => setTimeout(() => reject(new Error(`runs did not finish: ${JSON.stringify(warnings)}`)), 10_000))]);
    assert.deepEqual((await labelsOf(reg, 'mapi_operator_check_status')).sort(), ['MailDomain/tenant/gone', 'MailDomain/tenant/gone', 'MailDomain/tenant/kept', 'MailDomain/tenant/kept']);
    runs.forget('MailDomain', 'tenant/gone');
    runs.forget('MailDomain', 'tenant/never-checked');
    runs.forget('MailDomain', 'tenant/gone');
    assert.deepEqual(forgotten, ['MailDomain/tenant/gone'], 'once, and only for what was checked');
    assert.deepEqual(await labelsOf(reg, 'mapi_operator_check_status'), ['MailDomain/tenant/kept', 'MailDomain/tenant/kept']);
    assert.deepEqual(await labelsOf(reg, 'mapi_operator_check_last_run_timestamp_seconds'), ['MailDomain/tenant/kept']);
  } finally {
    await runs.stop();
  }
});
