// The check engine: turns a CheckTarget into the list of check results, in a stable order
// (certificate, dns/, tls/ of the served hosts then of SRV targets, rootdomain/, http/,
// redirect/), each probe bounded and, when a ProbeCache is given, reused across callers for
// the cache's TTL.
import { createHash } from 'node:crypto';
import { resolveAddresses, type AddressResolution } from './address-resolution.ts';
import { checkHttpRedirect, judgeCertificate, judgeRootDomain, redirectCheckName, rootDomainCheckName } from './advisory-checks.ts';
import { checkAutodiscoverDns, dnsCheckName } from './dns-check.ts';
import { normalizeHost } from './host-names.ts';
import { MAX_ADDRESSES_PER_HOST } from './address-policy.ts';
import { AUTODISCOVER_PATH, poxRequestBody, poxRequestHeaders } from './autodiscover-pox.ts';
import { checkHttpServedOnAddresses, httpCheckName, type HttpCheckInput } from './http-check.ts';
import type { ProbeCache } from './probe-cache.ts';
import { boundedIO, ConcurrencyLimiter } from './probe-limits.ts';
import { certificateNotIssued, judgeTlsHandshake, tlsCheckName } from './tls-check.ts';
import type { AutodiscoverHost, CheckIO, CheckResult, CheckTarget, HttpClient, HttpResponse, ProbeCredentials, TlsHandshake } from './types.ts';

export interface RunChecksOptions {
  /** Shared across runs (and MailDomains) so one host is probed once per interval. */
  cache?: ProbeCache;
  /** Probes in flight at once, overall and per host. */
  globalConcurrency?: number;
  perHostConcurrency?: number;
  /** A check still running after this is reported Unknown (CheckTimedOut). */
  checkDeadlineMs?: number;
  /** What of each probe's result outlives the run (the cache and the caller keep it): the
   *  operator keeps only the details it reads afterwards (detailsReadAfterRun); the CLI,
   *  which prints them, keeps everything. */
  retain?: (result: CheckResult) => CheckResult;
}

export const DEFAULT_RUN_OPTIONS = { globalConcurrency: 8, perHostConcurrency: 2, checkDeadlineMs: 45_000 };

/** The hosts a target may be probed on: what it serves, plus its mail domains (root-domain warning). */
export function probeableHosts(target: Pick<CheckTarget, 'domain' | 'aliases' | 'externalHost' | 'autodiscoverHosts'>): string[] {
  return unique([target.externalHost, ...target.autodiscoverHosts.map((h) => h.host), target.domain, ...target.aliases].map(normalizeHost));
}

export async function runChecks(target: CheckTarget, io: CheckIO, options: RunChecksOptions = {}): Promise<CheckResult[]> {
  const settings = { ...DEFAULT_RUN_OPTIONS, ...options };
  const externalHost = normalizeHost(target.externalHost);
  const autodiscover = uniqueBy(target.autodiscoverHosts.map((h) => ({ domain: normalizeHost(h.domain), host: normalizeHost(h.host) })), (h) => h.host);
  const servedHosts = unique([externalHost, ...autodiscover.map((h) => h.host)]);
  const domains = unique([target.domain, ...target.aliases].map(normalizeHost));
  const limiter = new ConcurrencyLimiter(settings.globalConcurrency, settings.perHostConcurrency);
  const bounded = boundedIO(io, probeableHosts(target), limiter);
  // Probe results depend on the world as these name servers and trust anchors describe it.
  const context = { nameservers: [...target.nameservers].sort(), caBundle: sha256(target.caBundlePem ?? '') };
  const now = () => io.clock.now();
  // The dns/ row that already explains a host's DNS, so tls/ and http/ can point at it.
  const dnsCheckFor = (host: string) => (autodiscover.some((h) => h.host === host) ? dnsCheckName(host) : undefined);

  const retain = settings.retain;
  const run = (name: string, inputs: Record<string, unknown>, probe: () => Promise<CheckResult>): Promise<CheckResult> => {
    const guarded = retain ? () => withDeadline(name, settings.checkDeadlineMs, probe).then(retain) : () => withDeadline(name, settings.checkDeadlineMs, probe);
    return settings.cache ? settings.cache.get(name, { ...context, ...inputs }, guarded) : guarded();
  };

  // The external host ends every autodiscover host's CNAME chain and is dialled by every
  // MailDomain's probes: its resolution is kept as long as a probe result (to the end of the
  // interval), so all the runs of an interval share one (see sharingResolutions).
  const cache = settings.cache;
  if (cache) io.dns.shared?.keep(externalHost, cache.endOfInterval);
  // One resolution per host and run, shared by the dns/ rows and the per-address http/ probes.
  const resolutions = new Map<string, Promise<AddressResolution>>();
  const resolutionOf = (host: string) => {
    let pending = resolutions.get(host);
    if (!pending) resolutions.set(host, (pending = resolveAddresses(host, io.dns)));
    return pending;
  };

  const certificate = target.certificate ? [Promise.resolve(judgeCertificate(target.certificate))] : [];
  const dnsChecks = autodiscover.map((entry) => run(dnsCheckName(entry.host), { entry, externalHost, servedHosts }, async () =>
    checkAutodiscoverDns({ entry, externalHost, servedHosts, external: await resolutionOf(externalHost) }, io.dns)));
  // A host's tls/ probe is keyed by the certificate it should serve (when the caller knows it).
  const issuedFor = new Map((target.servedCertificates ?? []).map(([host, revision]) => [normalizeHost(host), revision]));
  const issued = (host: string) => (issuedFor.has(host) ? { certificate: issuedFor.get(host) } : {});
  const unissued = new Set((target.unissuedHosts ?? []).map(normalizeHost));
  const tlsChecks = servedHosts.map((host) => (unissued.has(host) ? Promise.resolve(certificateNotIssued(host)) : run(tlsCheckName(host), { host, ...issued(host) }, async () =>
    judgeTlsHandshake(host, await bounded.tls.handshake(host), now(), { dnsCheck: dnsCheckFor(host) }))));
  const srvTargetChecks = judgeSrvTargets(dnsChecks, servedHosts, (srvTargets) => {
    // An SRV target published for a declared domain is the one host beyond the declared ones
    // the checks connect to: TLS on 443 only (the dns/ row only names targets on port 443).
    const srvIO = boundedIO(io, srvTargets, limiter);
    return srvTargets.map((host) => run(tlsCheckName(host), { host }, async () => judgeTlsHandshake(host, await srvIO.tls.handshake(host), now())));
  });
  const rootChecks = domains.filter((d) => !servedHosts.includes(d)).map((domain) =>
    run(rootDomainCheckName(domain), { domain, includeHttp: target.includeHttp }, async () => {
      const handshake = await bounded.tls.handshake(domain);
      const answers = target.includeHttp ? await rootDomainAnswers(domain, handshake, bounded.http) : {};
      return judgeRootDomain(domain, handshake, now(), answers);
    }));
  const httpChecks: Promise<CheckResult>[] = [];
  if (target.includeHttp) {
    const authHost = target.probeCredentials ? authenticatedProbeHost(target.probeCredentials, autodiscover, externalHost) : undefined;
    for (const host of servedHosts) {
      const entry = autodiscover.find((h) => h.host === host);
      const credentials = host === authHost ? target.probeCredentials : undefined;
      const dnsCheck = dnsCheckFor(host);
      // The external host serves every MailDomain of the server and is probed the same for
      // each (no domain in its request or its key), so 100 MailDomains share one probe of it.
      const input: HttpCheckInput = host === externalHost
        ? { host, role: 'external', externalHost, ...(dnsCheck ? { dnsCheck } : {}) }
        : { host, role: 'autodiscover', domain: entry?.domain ?? normalizeHost(target.domain), externalHost, ...(dnsCheck ? { dnsCheck } : {}) };
      // The cache key carries a hash of the credentials, never the password itself, and, as
      // tls/'s, the certificate the host should serve: the front often starts serving a host
      // (or redirecting it) when its certificate arrives, so an issuance re-probes it at once
      // instead of an interval later (at a hoster's 5 minutes, in what looked like idle time).
      // Over HTTPS a host without its certificate can only fail (the front resets or serves
      // another name), and a failure is retried within seconds: at a hoster's onboarding that
      // was a handshake per host every few seconds until cert-manager got to it.
      if (unissued.has(host)) {
        httpChecks.push(Promise.resolve(certificateNotIssued(host, httpCheckName(host))));
        continue;
      }
      httpChecks.push(run(httpCheckName(host), { ...input, ...issued(host), credentials: credentials ? credentialsFingerprint(credentials) : null, release: target.release ?? null }, async () => {
        const resolution = await resolutionOf(host);
        const addresses = resolution.ok ? unique(resolution.addresses) : [];
        return checkHttpServedOnAddresses(credentials ? { ...input, credentials } : input, bounded.http,
          addresses.slice(0, MAX_ADDRESSES_PER_HOST), Math.max(0, addresses.length - MAX_ADDRESSES_PER_HOST));
      }));
    }
    for (const entry of autodiscover) {
      httpChecks.push(run(redirectCheckName(entry.host), { host: entry.host, ...issued(entry.host) }, () => checkHttpRedirect(entry.host, bounded.http)));
    }
  }
  const results = [
    ...(await Promise.all([...certificate, ...dnsChecks, ...tlsChecks])),
    ...(await srvTargetChecks),
    ...(await Promise.all([...rootChecks, ...httpChecks])),
  ];
  return markSrvPublishedHosts(results, externalHost);
}

/** tls/ rows for the SRV targets the dns/ rows name that are not served hosts (each once). */
async function judgeSrvTargets(
  dnsChecks: Promise<CheckResult>[], servedHosts: string[], probe: (targets: string[]) => Promise<CheckResult>[],
): Promise<CheckResult[]> {
  const dns = await Promise.all(dnsChecks);
  const targets = unique(dns.flatMap((r) => {
    const srvTarget = r.details['srvTarget'];
    return r.reason === 'SrvRecordOnly' && typeof srvTarget === 'string' ? [normalizeHost(srvTarget)] : [];
  })).filter((t) => t !== '' && !servedHosts.includes(t));
  return Promise.all(probe(targets));
}

/**
 * The POX request Outlook sends to https://<domain> first, to every address that completed the
 * TLS handshake: whether each answers, or holds the connection until the time-out.
 */
async function rootDomainAnswers(domain: string, handshake: TlsHandshake, http: HttpClient): Promise<Record<string, HttpResponse>> {
  const reached = (handshake.perAddress ?? []).flatMap((h) => (h.ok ? [h.address] : []));
  const address = `autodiscover-probe@${domain}`;
  const answers = await Promise.all(reached.map(async (a) => [a, await http.request({
    scheme: 'https', host: domain, method: 'POST', path: AUTODISCOVER_PATH,
    headers: poxRequestHeaders(address), body: poxRequestBody(address), verifyTls: false, address: a,
  })] as const));
  return Object.fromEntries(answers);
}

/**
 * An autodiscover host published only through SRV has no address by design: its tls/ and
 * http/ probes cannot resolve it, which is expected rather than broken (Outlook goes on to the
 * SRV target, whose own tls/ row the gate reads). Say so instead of reporting a failure.
 */
function markSrvPublishedHosts(results: CheckResult[], externalHost: string): CheckResult[] {
  const srvTargets = new Map<string, string>();
  for (const r of results) {
    const target = r.details['srvTarget'];
    if (r.name.startsWith('dns/') && r.reason === 'SrvRecordOnly' && typeof target === 'string') srvTargets.set(r.name.slice(4), target);
  }
  return results.map((r) => {
    const slash = r.name.indexOf('/');
    const host = r.name.slice(slash + 1);
    const target = srvTargets.get(host);
    if (!target || r.reason !== 'HostNotResolved' || !['tls', 'http'].includes(r.name.slice(0, slash))) return r;
    return {
      ...r,
      status: 'Warning',
      reason: 'PublishedBySrvOnly',
      message: `${host} has no address record; Outlook reaches autodiscover through the SRV record → ${target} instead (see tls/${target}); publish a CNAME ${host} → ${externalHost} to spare users the redirect prompt`,
    };
  });
}

/** Outlook asks the autodiscover host of the user's own domain; fall back to the first one. */
export function authenticatedProbeHost(credentials: ProbeCredentials, autodiscover: AutodiscoverHost[], externalHost: string): string {
  const domain = normalizeHost(credentials.address.split('@')[1] ?? '');
  return autodiscover.find((h) => h.domain === domain)?.host ?? autodiscover[0]?.host ?? externalHost;
}

async function withDeadline(name: string, deadlineMs: number, probe: () => Promise<CheckResult>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({
      name, status: 'Unknown', reason: 'CheckTimedOut',
      message: `${name} did not finish within ${Math.round(deadlineMs / 1000)} s; it will be retried`, details: {},
    }), deadlineMs);
  });
  try {
    return await Promise.race([probe(), late]);
  } catch (err) {
    return { name, status: 'Unknown', reason: 'CheckError', message: `${name} could not run: ${err instanceof Error ? err.message : String(err)}`, details: {} };
  } finally {
    clearTimeout(timer);
  }
}

function credentialsFingerprint(credentials: ProbeCredentials): string {
  return sha256(`${credentials.username}\u0000${credentials.password}\u0000${credentials.address}`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function uniqueBy<T>(values: T[], key: (value: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(key(v)) ? false : (seen.add(key(v)), true)));
}
