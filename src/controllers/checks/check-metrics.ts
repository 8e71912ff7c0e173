// Check metrics: the status of every check, certificate expiry, probe latency and when each
// MailDomain's checks last ran (a metric, not status: status changes only when a result does).
// The last is one series per MailDomain, not per check: every check of a domain runs in the
// same run, so per-check times were copies; at 5,000 MailDomains × 10 checks those copies
// were 50,000 series, ~8 MiB of heap and half of every scrape's 9 MiB of text.
//
// The per-check series are built when they are scraped, from the rows of each resource's last
// run (the check runs hold those rows anyway), not kept as prom-client series: a Gauge keeps a
// label string, a labels object and a value object per series, ~1.4 KiB per MailDomain (a
// status series per check, its certificates' expiry, its last run), ~7 MiB at 5,000.
import { Histogram, type Metric, type MetricValue, type Registry } from 'prom-client';
import type { CheckIO, CheckResult, CheckTarget } from '../../checks/types.ts';
import type { CheckKind } from './check-runs.ts';
import { withoutServerRows } from '../maildomain/decide.ts';

/** Higher is worse, so `mapi_operator_check_status > 1` alerts on Failed and Unknown. */
export const CHECK_STATUS_VALUE: Record<CheckResult['status'], number> = { Passed: 0, Warning: 1, Failed: 2, Unknown: 3 };

/** One resource's last run, as its series are built from it. */
interface LastRun {
  readonly atMs: number;
  readonly rows: readonly CheckResult[];
}

/** What a gauge's get() gives prom-client's Registry (its typings call `type` an enum; it is
 *  the text of the TYPE line). */
interface GaugeReading<L extends string> {
  name: string;
  help: string;
  type: 'gauge';
  aggregator: 'sum';
  values: MetricValue<L>[];
}

/**
 * A gauge whose series are computed at each scrape. prom-client's Registry reads a metric's
 * name, help and type and calls get() (and reset()); nothing is stored between scrapes.
 */
class ScrapedGauge<L extends string> {
  readonly type = 'gauge';
  readonly name: string;
  readonly help: string;
  readonly #series: () => Iterable<MetricValue<L>>;
  constructor(name: string, help: string, series: () => Iterable<MetricValue<L>>) {
    this.name = name;
    this.help = help;
    this.#series = series;
  }
  async get(): Promise<GaugeReading<L>> {
    return { name: this.name, help: this.help, type: 'gauge', aggregator: 'sum', values: [...this.#series()] };
  }
  /** The series follow the runs; there is nothing of the metric's own to reset. */
  reset(): void {}
}

/** A run's rows, one per check name: a Gauge kept one series per label set, and a scrape with
 *  the same series twice is refused whole by Prometheus. Check names are unique by
 *  construction (the engine's hosts are); this keeps the exposition valid if that changes. */
function* distinct(rows: readonly CheckResult[]): Iterable<CheckResult> {
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.name)) continue;
    seen.add(r.name);
    yield r;
  }
}

/** The leaf certificate's end of validity a tls/ row keeps (retained-details: `chain[0]`). */
function leafNotAfter(row: CheckResult): string | undefined {
  if (!row.name.startsWith('tls/')) return undefined;
  return (row.details.chain as { notAfter?: string }[] | undefined)?.[0]?.notAfter;
}

export class CheckMetrics {
  readonly status: ScrapedGauge<'maildomain' | 'check'>;
  readonly lastRun: ScrapedGauge<'maildomain'>;
  readonly certificateExpiry: ScrapedGauge<'maildomain' | 'host'>;
  readonly probeLatency: Histogram<'probe'>;
  readonly runDuration: Histogram;
  /** Insertion order is the series' order, as a Gauge's. */
  readonly #lastRuns = new Map<string, LastRun>();

  constructor(registry: Registry) {
    const registers = [registry];
    const runs = this.#lastRuns;
    this.status = new ScrapedGauge('mapi_operator_check_status', 'Newest result per check: 0 Passed, 1 Warning, 2 Failed, 3 Unknown', function* () {
      for (const [maildomain, run] of runs) for (const r of distinct(run.rows)) yield { labels: { maildomain, check: r.name }, value: CHECK_STATUS_VALUE[r.status] };
    });
    this.lastRun = new ScrapedGauge('mapi_operator_check_last_run_timestamp_seconds', "Unix time the MailDomain's checks last ran", function* () {
      for (const [maildomain, run] of runs) yield { labels: { maildomain }, value: Math.floor(run.atMs / 1000) };
    });
    // Seconds from the run that saw the certificate, as a Gauge set at each run reported it.
    this.certificateExpiry = new ScrapedGauge('mapi_operator_certificate_expiry_seconds', 'Seconds until the certificate a host serves expires (negative: expired)', function* () {
      for (const [maildomain, run] of runs) {
        for (const r of distinct(run.rows)) {
          const notAfter = leafNotAfter(r);
          if (notAfter) yield { labels: { maildomain, host: r.name.slice(4) }, value: Math.round((Date.parse(notAfter) - run.atMs) / 1000) };
        }
      }
    });
    for (const gauge of [this.status, this.lastRun, this.certificateExpiry]) registry.registerMetric(gauge as unknown as Metric);
    this.probeLatency = new Histogram({ name: 'mapi_operator_probe_duration_seconds', help: 'Latency of one DNS query, TLS handshake or HTTP request of the checks', labelNames: ['probe'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.runDuration = new Histogram({ name: 'mapi_operator_check_run_duration_seconds', help: 'Time of one full check run of a MailDomain', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
  }

  observe(maildomain: string, results: CheckResult[], durationMs: number, now = Date.now()): void {
    this.runDuration.observe(durationMs / 1000);
    // A run without rows reports nothing, as a forgotten domain (checks that no longer exist,
    // an alias removed, are simply not in the new run's rows).
    if (results.length === 0) this.#lastRuns.delete(maildomain);
    else this.#lastRuns.set(maildomain, { atMs: now, rows: results });
  }

  /**
   * One run of a MapiServer's or a MailDomain's checks, as the series `<kind>/<namespace>/<name>`.
   * A MailDomain's series are the rows of its status: its server's external host is the
   * MapiServer's (at 5,000 MailDomains those were 15,000 copies of the server's series, ~2.4 MiB
   * of heap and a third of every scrape's check series).
   */
  observeRun(kind: CheckKind, key: string, results: CheckResult[], durationMs: number, target: CheckTarget): void {
    this.observe(`${kind}/${key}`, kind === 'MailDomain' ? withoutServerRows(results, target.externalHost) : results, durationMs);
  }

  /** Stops reporting a MailDomain (deleted, or no longer checked); not a run. */
  forget(maildomain: string): void {
    this.#lastRuns.delete(maildomain);
  }

  /** Wraps the check IO so every DNS query, handshake and request is timed. */
  timed(io: CheckIO): CheckIO {
    const time = async <T>(probe: string, call: () => Promise<T>): Promise<T> => {
      const end = this.probeLatency.startTimer({ probe });
      try {
        return await call();
      } finally {
        end();
      }
    };
    return {
      clock: io.clock,
      dns: {
        cname: (n) => time('dns', () => io.dns.cname(n)),
        a: (n) => time('dns', () => io.dns.a(n)),
        aaaa: (n) => time('dns', () => io.dns.aaaa(n)),
        srv: (n) => time('dns', () => io.dns.srv(n)),
        ...(io.dns.shared ? { shared: io.dns.shared } : {}),
      },
      tls: { handshake: (h) => time('tls', () => io.tls.handshake(h)) },
      http: { request: (r) => time(r.scheme, () => io.http.request(r)) },
    };
  }
}
