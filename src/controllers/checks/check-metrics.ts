// Check metrics: the status of every check, certificate expiry, probe latency and when each
// MailDomain's checks last ran (a metric, not status: status changes only when a result does).
// The last is one series per MailDomain, not per check: every check of a domain runs in the
// same run, so per-check times were copies; at 5,000 MailDomains × 10 checks those copies
// were 50,000 series, ~8 MiB of heap and half of every scrape's 9 MiB of text.
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { CheckIO, CheckResult, CheckTarget } from '../../checks/types.ts';
import type { CheckKind } from './check-runs.ts';
import { withoutServerRows } from '../maildomain/decide.ts';

/** Higher is worse, so `mapi_operator_check_status > 1` alerts on Failed and Unknown. */
export const CHECK_STATUS_VALUE: Record<CheckResult['status'], number> = { Passed: 0, Warning: 1, Failed: 2, Unknown: 3 };

export class CheckMetrics {
  readonly status: Gauge<'maildomain' | 'check'>;
  readonly lastRun: Gauge<'maildomain'>;
  readonly certificateExpiry: Gauge<'maildomain' | 'host'>;
  readonly probeLatency: Histogram<'probe'>;
  readonly runDuration: Histogram;
  readonly #known = new Map<string, Set<string>>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.status = new Gauge({ name: 'mapi_operator_check_status', help: 'Newest result per check: 0 Passed, 1 Warning, 2 Failed, 3 Unknown', labelNames: ['maildomain', 'check'], registers });
    this.lastRun = new Gauge({ name: 'mapi_operator_check_last_run_timestamp_seconds', help: "Unix time the MailDomain's checks last ran", labelNames: ['maildomain'], registers });
    this.certificateExpiry = new Gauge({ name: 'mapi_operator_certificate_expiry_seconds', help: 'Seconds until the certificate a host serves expires (negative: expired)', labelNames: ['maildomain', 'host'], registers });
    this.probeLatency = new Histogram({ name: 'mapi_operator_probe_duration_seconds', help: 'Latency of one DNS query, TLS handshake or HTTP request of the checks', labelNames: ['probe'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.runDuration = new Histogram({ name: 'mapi_operator_check_run_duration_seconds', help: 'Time of one full check run of a MailDomain', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers });
  }

  observe(maildomain: string, results: CheckResult[], durationMs: number, now = Date.now()): void {
    this.runDuration.observe(durationMs / 1000);
    this.#report(maildomain, results, now);
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
    this.#report(maildomain, [], Date.now());
    this.#known.delete(maildomain);
  }

  #report(maildomain: string, results: CheckResult[], now: number): void {
    const seen = new Set<string>();
    if (results.length > 0) this.lastRun.set({ maildomain }, Math.floor(now / 1000));
    else this.lastRun.remove({ maildomain });
    for (const r of results) {
      seen.add(r.name);
      this.status.set({ maildomain, check: r.name }, CHECK_STATUS_VALUE[r.status]);
      const leaf = (r.details.chain as { notAfter?: string }[] | undefined)?.[0];
      if (r.name.startsWith('tls/') && leaf?.notAfter) {
        this.certificateExpiry.set({ maildomain, host: r.name.slice(4) }, Math.round((Date.parse(leaf.notAfter) - now) / 1000));
      }
    }
    // Checks that no longer exist (an alias removed) stop being reported.
    for (const gone of [...(this.#known.get(maildomain) ?? [])].filter((n) => !seen.has(n))) {
      this.status.remove({ maildomain, check: gone });
      if (gone.startsWith('tls/')) this.certificateExpiry.remove({ maildomain, host: gone.slice(4) });
    }
    this.#known.set(maildomain, seen);
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
