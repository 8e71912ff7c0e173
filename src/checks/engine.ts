// The check engine: turns a CheckTarget into the list of check results, in a stable order
// (certificate, dns/, tls/, rootdomain/, http/, redirect/), each probe bounded and, when a
// ProbeCache is given, reused across callers for the cache's TTL.
import { createHash } from 'node:crypto';
import { resolveAddresses, type AddressResolution } from './address-resolution.ts';
import { checkHttpRedirect, judgeCertificate, judgeRootDomain, redirectCheckName, rootDomainCheckName } from './advisory-checks.ts';
import { checkAutodiscoverDns, dnsCheckName } from './dns-check.ts';
import { normalizeHost } from './host-names.ts';
import { checkHttpServed, httpCheckName } from './http-check.ts';
import type { ProbeCache } from './probe-cache.ts';
import { boundedIO, ConcurrencyLimiter } from './probe-limits.ts';
import { judgeTlsHandshake, tlsCheckName } from './tls-check.ts';
import type { AutodiscoverHost, CheckIO, CheckResult, CheckTarget, ProbeCredentials } from './types.ts';

export interface RunChecksOptions {
  /** Shared across runs (and MailDomains) so one host is probed once per interval. */
  cache?: ProbeCache;
  /** Probes in flight at once, overall and per host. */
  globalConcurrency?: number;
  perHostConcurrency?: number;
  /** A check still running after this is reported Unknown (CheckTimedOut). */
  checkDeadlineMs?: number;
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
  const bounded = boundedIO(io, probeableHosts(target), new ConcurrencyLimiter(settings.globalConcurrency, settings.perHostConcurrency));
  // Probe results depend on the world as these name servers and trust anchors describe it.
  const context = { nameservers: [...target.nameservers].sort(), caBundle: sha256(target.caBundlePem ?? '') };

  const run = (name: string, inputs: Record<string, unknown>, probe: () => Promise<CheckResult>): Promise<CheckResult> => {
    const guarded = () => withDeadline(name, settings.checkDeadlineMs, probe);
    return settings.cache ? settings.cache.get(name, { ...context, ...inputs }, guarded) : guarded();
  };

  let external: Promise<AddressResolution> | undefined;
  const externalResolution = () => (external ??= resolveAddresses(externalHost, io.dns));

  const checks: Promise<CheckResult>[] = [];
  if (target.certificate) checks.push(Promise.resolve(judgeCertificate(target.certificate)));
  for (const entry of autodiscover) {
    checks.push(run(dnsCheckName(entry.host), { entry, externalHost, servedHosts }, async () =>
      checkAutodiscoverDns({ entry, externalHost, servedHosts, external: await externalResolution() }, io.dns)));
  }
  for (const host of servedHosts) {
    checks.push(run(tlsCheckName(host), { host }, async () => judgeTlsHandshake(host, await bounded.tls.handshake(host), io.clock.now())));
  }
  for (const domain of domains.filter((d) => !servedHosts.includes(d))) {
    checks.push(run(rootDomainCheckName(domain), { domain }, async () => judgeRootDomain(domain, await bounded.tls.handshake(domain), io.clock.now())));
  }
  if (target.includeHttp) {
    const authHost = target.probeCredentials ? authenticatedProbeHost(target.probeCredentials, autodiscover, externalHost) : undefined;
    for (const host of servedHosts) {
      const entry = autodiscover.find((h) => h.host === host);
      const credentials = host === authHost ? target.probeCredentials : undefined;
      const input = { host, role: host === externalHost ? 'external' as const : 'autodiscover' as const, domain: entry?.domain ?? normalizeHost(target.domain), externalHost };
      // The cache key carries a hash of the credentials, never the password itself.
      checks.push(run(httpCheckName(host), { ...input, credentials: credentials ? credentialsFingerprint(credentials) : null, release: target.release ?? null }, () =>
        checkHttpServed(credentials ? { ...input, credentials } : input, bounded.http)));
    }
    for (const entry of autodiscover) {
      checks.push(run(redirectCheckName(entry.host), { host: entry.host }, () => checkHttpRedirect(entry.host, bounded.http)));
    }
  }
  return markSrvPublishedHosts(await Promise.all(checks), externalHost);
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
