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

test('observeRun: a MailDomain\'s series leave out its server\'s external host (the MapiServer\'s series report it)', async () => {
  const reg = new Registry();
  const m = new CheckMetrics(reg);
  const target = { domain: 'example.com', aliases: [], externalHost: 'mail.hoster.example', autodiscoverHosts: [], require: 'Any' as const, nameservers: [], includeHttp: true };
  const leaf = (name: string): CheckResult => ({ name, status: 'Passed', reason: 'CertificateValid', message: '', details: { chain: [{ notAfter: '2027-01-01T00:00:00.000Z' }] } });
  const domainRun = [result('certificate', 'Passed'), result('dns/autodiscover.example.com', 'Passed'), leaf('tls/autodiscover.example.com'), leaf('tls/mail.hoster.example'), result('http/mail.hoster.example', 'Passed')];
  m.observeRun('MailDomain', 'ns/example', domainRun, 900, target);
  m.observeRun('MapiServer', 'ns/bluemind', [leaf('tls/mail.hoster.example'), result('http/mail.hoster.example', 'Passed')], 300, { ...target, autodiscoverHosts: [] });
  assert.deepEqual((await series(reg, 'mapi_operator_check_status')).map((s) => `${s.labels.maildomain} ${s.labels.check}`), [
    'MailDomain/ns/example certificate', 'MailDomain/ns/example dns/autodiscover.example.com', 'MailDomain/ns/example tls/autodiscover.example.com',
    'MapiServer/ns/bluemind tls/mail.hoster.example', 'MapiServer/ns/bluemind http/mail.hoster.example',
  ]);
  assert.deepEqual((await series(reg, 'mapi_operator_certificate_expiry_seconds')).map((s) => `${s.labels.maildomain} ${s.labels.host}`), [
    'MailDomain/ns/example autodiscover.example.com', 'MapiServer/ns/bluemind mail.hoster.example',
  ]);
  // Published by an SRV record that points at the external host: that tls/ row is the domain's.
  const srv = { name: 'dns/autodiscover.example.com', status: 'Warning', reason: 'SrvRecordOnly', message: '', details: { srvTarget: 'mail.hoster.example' } } satisfies CheckResult;
  m.observeRun('MailDomain', 'ns/example', [srv, leaf('tls/mail.hoster.example'), result('http/mail.hoster.example', 'Passed')], 900, target);
  assert.deepEqual((await series(reg, 'mapi_operator_check_status')).filter((s) => s.labels.maildomain === 'MailDomain/ns/example').map((s) => s.labels.check), ['dns/autodiscover.example.com', 'tls/mail.hoster.example']);
});

test('the series are the last runs\' rows: a row named twice is one series, a later run replaces them', async () => {
  const reg = new Registry();
  const m = new CheckMetrics(reg);
  const leaf = (name: string, notAfter: string): CheckResult => ({ name, status: 'Passed', reason: 'CertificateValid', message: '', details: { chain: [{ notAfter }] } });
  const runAt = Date.parse('2026-12-01T00:00:00.000Z');
  m.observe('ns/a', [result('dns/x', 'Passed'), result('dns/x', 'Failed'), leaf('tls/x', '2026-12-11T00:00:00.000Z'), leaf('tls/x', '2027-12-01T00:00:00.000Z')], 10, runAt);
  const text = await reg.metrics();
  assert.equal(text.split('\n').filter((l) => l.startsWith('mapi_operator_check_status{')).length, 2, text);
  assert.match(text, /^mapi_operator_check_status\{maildomain="ns\/a",check="dns\/x"\} 0$/m);
  // Seconds from the run that saw it, whenever the scrape comes.
  assert.match(text, /^mapi_operator_certificate_expiry_seconds\{maildomain="ns\/a",host="x"\} 864000$/m);
  assert.equal(text.split('\n').filter((l) => l.startsWith('mapi_operator_certificate_expiry_seconds{')).length, 1);
  // A later run replaces the rows; the earlier ones are not reported, without a removal step.
  m.observe('ns/a', [result('dns/x', 'Warning')], 10, runAt + 60_000);
  assert.deepEqual(await series(reg, 'mapi_operator_check_status'), [{ labels: { maildomain: 'ns/a', check: 'dns/x' }, value: 1 }]);
  assert.deepEqual(await series(reg, 'mapi_operator_certificate_expiry_seconds'), []);
  // A run with no rows reports nothing for the domain, as forget() does.
  m.observe('ns/a', [], 10, runAt + 120_000);
  assert.deepEqual(await series(reg, 'mapi_operator_check_last_run_timestamp_seconds'), []);
});
