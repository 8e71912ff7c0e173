// Bytes of JS heap per MailDomain that the check metrics keep (run with --expose-gc): N
// MailDomains' last runs observed as the operator observes them (each run's rows held
// elsewhere, as the check runs hold them), then one scrape, timed. Measured in this process;
// run it on two commits to compare.
// Prints one JSON line: { domains, bytesPerMailDomain, scrapeMs, scrapeBytes }.
//
//   node --expose-gc bench/memory/check-metrics.ts [--domains 5000]
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { CheckMetrics } from '../../src/controllers/checks/check-metrics.ts';
import type { CheckResult, CheckTarget } from '../../src/checks/types.ts';
import { positiveInteger } from '../measure.ts';
import { settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { domains: { type: 'string', default: '5000' } } });
const n = positiveInteger('domains', values.domains!);
const EXTERNAL = 'mail.hoster.example';
const NOW = Date.UTC(2026, 11, 1);

/** The rows of one MailDomain's run as its status holds them: the autodiscover host's four
 *  checks, the root domain's, and the server's own (left out of the domain's series). */
function rows(i: number): CheckResult[] {
  const host = `autodiscover.d${i}.hoster.example`;
  const row = (name: string, details: CheckResult['details'] = {}): CheckResult => ({ name, status: 'Passed', reason: 'Passed', message: `${name} is fine`, details });
  const chain = { chain: [{ notAfter: new Date(NOW + 60 * 86_400_000).toISOString() }] };
  return [row(`dns/${host}`), row(`tls/${host}`, chain), row(`http/${host}`), row(`redirect/${host}`), row(`rootdomain/d${i}.hoster.example`), row(`tls/${EXTERNAL}`, chain), row(`http/${EXTERNAL}`)];
}
const target: CheckTarget = { domain: 'x', aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [], require: 'Any', nameservers: [], includeHttp: true };

const held = Array.from({ length: n }, (_, i) => rows(i));
const registry = new Registry();
const base = settledHeapUsed();
const metrics = new CheckMetrics(registry);
held.forEach((r, i) => metrics.observeRun('MailDomain', `hoster/d${i}`, r, 100, target));
// What the metrics keep between scrapes (a scrape's own garbage, weakly held label caches
// among it, takes more collections than settledHeapUsed runs to go).
const bytes = settledHeapUsed() - base;
const started = performance.now();
const text = await registry.metrics();
const scrapeMs = performance.now() - started;
if (!text.includes(`maildomain="MailDomain/hoster/d${n - 1}"`)) throw new Error('the last MailDomain is not in the scrape');
process.stdout.write(`${JSON.stringify({ domains: n, bytesPerMailDomain: Math.round(bytes / n), scrapeMs: Math.round(scrapeMs), scrapeBytes: text.length })}\n`);
if (held.length !== n) throw new Error('the rows were let go before the reading');
