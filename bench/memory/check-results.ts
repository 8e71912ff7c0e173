// Bytes of JS heap per MailDomain that its check results keep after a run (run with
// --expose-gc): N MailDomains of one server checked through one ProbeCache, as the operator
// runs them, each MailDomain's last results kept as its snapshot is. Whole (what the CLI prints)
// against what the operator keeps (detailsReadAfterRun, then the status redaction its check
// runs apply), measured in the same process.
// The probes answer from memory with details shaped and sized like real ones (a two-certificate
// chain with SHA-256 fingerprints, per-address outcomes, HTTP exchanges); nothing is dialled.
// Prints one JSON line: { domains, bytesPerMailDomain: { whole, retained } }.
//
//   node --expose-gc bench/memory/check-results.ts [--domains 2000]
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { runChecks, type RunChecksOptions } from '../../src/checks/engine.ts';
import { ProbeCache } from '../../src/checks/probe-cache.ts';
import { detailsReadAfterRun } from '../../src/checks/retained-details.ts';
import { redactResults } from '../../src/policy/status-redaction.ts';
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

async function kept(options: Pick<RunChecksOptions, 'retain'>, asKept: (results: CheckResult[]) => CheckResult[] = (r) => r): Promise<number> {
  const before = settledHeapUsed();
  const cache = new ProbeCache({ clock: io.clock, ttlMs: 300_000 });
  const snapshots = new Map<string, CheckResult[]>();
  for (let i = 0; i < targets.length; i += 50) {
    const batch = targets.slice(i, i + 50);
    const results = await Promise.all(batch.map((t) => runChecks(t, io, { cache, ...options })));
    batch.forEach((t, j) => snapshots.set(t.domain, asKept(results[j]!)));
  }
  const bytes = settledHeapUsed() - before;
  if (snapshots.size !== n || cache.size === 0) throw new Error('nothing kept');
  return Math.round(bytes / n);
}

const whole = await kept({});
const retained = await kept({ retain: detailsReadAfterRun }, redactResults);
process.stdout.write(`${JSON.stringify({ domains: n, bytesPerMailDomain: { whole, retained } })}\n`);
