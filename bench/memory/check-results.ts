// Bytes of JS heap per MailDomain that its check results keep after a run (run with
// --expose-gc): N MailDomains of one server checked through one ProbeCache, as the operator
// runs them, each MailDomain's last results kept as its snapshot is. Whole (what the CLI prints)
// against what the operator keeps (detailsReadAfterRun, then the status redaction its check
// runs apply), measured in the same process.
// The probes answer from memory with details shaped and sized like real ones (a two-certificate
// chain with SHA-256 fingerprints, per-address outcomes, HTTP exchanges); nothing is dialled.
// Also with each MailDomain's status as the informer caches it beside the results, the rows'
// strings pooled as CheckRuns pools them and not (withStatus, withStatusUnpooled).
// Prints one JSON line: { domains, bytesPerMailDomain: { whole, retained, withStatus, withStatusUnpooled } }.
//
//   node --expose-gc bench/memory/check-results.ts [--domains 2000]
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { runChecks, type RunChecksOptions } from '../../src/checks/engine.ts';
import { ProbeCache } from '../../src/checks/probe-cache.ts';
import { detailsReadAfterRun } from '../../src/checks/retained-details.ts';
import { redactResults } from '../../src/policy/status-redaction.ts';
import { checkRows } from '../../src/controllers/conditions.ts';
import { poolStrings, StringPool } from '../../src/kube/index.ts';
import type { CertificateInfo, CheckIO, CheckResult, CheckTarget, HttpResponse, TlsHandshake } from '../../src/checks/types.ts';
import { positiveInteger } from '../measure.ts';
import { settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { domains: { type: 'string', default: '2000' } } });
const n = positiveInteger('domains', values.domains!);

const EXTERNAL = 'mail.hoster.example';
const ADDRESS = '203.0.113.7';
const NOW = Date.UTC(2026, 11, 1);
const fingerprint = (s: string) => createHash('sha256').update(s).digest('hex').toUpperCase().match(/../g)!.join(':');
const NODATA = { ok: false as const, failure: 'NODATA' as const, detail: 'ENODATA' };
const ca: CertificateInfo = { subject: 'CN=Hoster Issuing CA,O=Hoster', issuer: 'CN=Hoster Root CA,O=Hoster', dnsNames: [], ipAddresses: [], notBefore: NOW - 400 * 86_400_000, notAfter: NOW + 3000 * 86_400_000, selfSigned: false, fingerprint256: fingerprint('ca') };

const io: CheckIO = {
  clock: { now: () => NOW },
  dns: {
    cname: async (name) => (name.startsWith('autodiscover.') ? { ok: true, records: [EXTERNAL] } : NODATA),
    a: async (name) => (name.startsWith('autodiscover.') ? NODATA : { ok: true, records: [ADDRESS] }),
    aaaa: async () => NODATA,
    srv: async () => NODATA,
  },
  tls: {
    handshake: async (host): Promise<TlsHandshake> => {
      // A fresh chain per handshake, as a real one is parsed from the wire each time.
      const leaf: CertificateInfo = { subject: `CN=${host}`, issuer: ca.subject, dnsNames: [host], ipAddresses: [], notBefore: NOW - 86_400_000, notAfter: NOW + 89 * 86_400_000, selfSigned: false, fingerprint256: fingerprint(host) };
      const one = { ok: true as const, address: ADDRESS, port: 443, protocol: 'TLSv1.3', chain: [leaf, { ...ca }], chainStatus: 'Trusted' as const, verifyError: null };
      return { ...one, perAddress: [one] };
    },
  },
  http: {
    request: async (req): Promise<HttpResponse> => (req.scheme === 'http'
      ? { ok: true, status: 302, headers: { location: `https://${req.host}${req.path}`, 'content-length': '0' }, body: '', truncated: false }
      : { ok: true, status: 401, headers: { 'www-authenticate': 'Basic realm="mail"', 'content-type': 'text/html', 'content-length': '58' }, body: '<html><body><h1>401 Authorization Required</h1></body></html>', truncated: false }),
  },
};

const targets: CheckTarget[] = Array.from({ length: n }, (_, i) => ({
  domain: `d${i}.example`, aliases: [], externalHost: EXTERNAL, autodiscoverHosts: [{ domain: `d${i}.example`, host: `autodiscover.d${i}.example` }],
  nameservers: [], require: 'Any', includeHttp: true, release: 'r1',
}));

interface Keeping {
  options: Pick<RunChecksOptions, 'retain'>;
  /** What the check runs make of a run's rows before keeping them as the latest results. */
  asKept?: (results: CheckResult[], pool: StringPool) => CheckResult[];
  /** Also each MailDomain's status with those rows, as the informer caches it: parsed from the
   *  JSON the apiserver sends, strings pooled (cacheTransform). */
  cachedStatus?: boolean;
}

async function kept(k: Keeping): Promise<number> {
  const before = settledHeapUsed();
  // A pool per variant: one shared across them would hold the strings of the one before.
  const pool = new StringPool();
  const cache = new ProbeCache({ clock: io.clock, ttlMs: 300_000 });
  const snapshots = new Map<string, CheckResult[]>();
  const statuses = new Map<string, unknown>();
  for (let i = 0; i < targets.length; i += 50) {
    const batch = targets.slice(i, i + 50);
    const results = await Promise.all(batch.map((t) => runChecks(t, io, { cache, ...k.options })));
    batch.forEach((t, j) => {
      const rows = k.asKept ? k.asKept(results[j]!, pool) : results[j]!;
      snapshots.set(t.domain, rows);
      if (k.cachedStatus) {
        const wire = JSON.stringify({ status: { observedGeneration: 1, checks: checkRows(undefined, rows.filter((r) => !r.name.endsWith(EXTERNAL)), new Date(NOW)) } });
        statuses.set(t.domain, poolStrings(JSON.parse(wire) as unknown, pool));
      }
    });
  }
  const bytes = settledHeapUsed() - before;
  if (snapshots.size !== n || cache.size === 0 || (k.cachedStatus && statuses.size !== n)) throw new Error('nothing kept');
  return Math.round(bytes / n);
}

const whole = await kept({ options: {} });
// What CheckRuns keeps: the slim details, redacted for status, strings pooled (since 2026-12-05).
const asCheckRunsKeep = (rows: CheckResult[], pool: StringPool) => poolStrings(redactResults(rows), pool);
const retained = await kept({ options: { retain: detailsReadAfterRun }, asKept: asCheckRunsKeep });
// With each MailDomain's cached status beside them: the rows' strings pooled (the status parsed
// from them comes back as the same strings) against not pooled (held twice).
const withStatus = await kept({ options: { retain: detailsReadAfterRun }, asKept: asCheckRunsKeep, cachedStatus: true });
const withStatusUnpooled = await kept({ options: { retain: detailsReadAfterRun }, asKept: (rows) => redactResults(rows), cachedStatus: true });
process.stdout.write(`${JSON.stringify({ domains: n, bytesPerMailDomain: { whole, retained, withStatus, withStatusUnpooled } })}\n`);
