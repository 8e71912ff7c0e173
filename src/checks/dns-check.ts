// dns/<autodiscover host>: is autodiscover published for the domain, the way Outlook looks it
// up ([MS-OXDSCLI] and KB 3211279: the autodiscover.<domain> host, then the SRV record
// _autodiscover._tcp.<domain>)?
import type { AddressResolution } from './address-resolution.ts';
import { resolveAddresses } from './address-resolution.ts';
import { normalizeHost } from './host-names.ts';
import type { AutodiscoverHost, CheckResult, DnsResolver, SrvRecord } from './types.ts';

export interface DnsCheckInput {
  entry: AutodiscoverHost;
  externalHost: string;
  /** Where the SRV record may point: hosts the MailDomain serves (and its certificate covers). */
  servedHosts: string[];
  /** The externalHost's own resolution, shared by all dns/ checks of one run. */
  external: AddressResolution;
}

export function dnsCheckName(host: string): string {
  return `dns/${normalizeHost(host)}`;
}

export async function checkAutodiscoverDns(input: DnsCheckInput, dns: DnsResolver): Promise<CheckResult> {
  const host = normalizeHost(input.entry.host);
  const externalHost = normalizeHost(input.externalHost);
  const resolution = await resolveAddresses(host, dns);
  const result = (status: CheckResult['status'], reason: string, message: string, details: Record<string, unknown> = {}): CheckResult => ({
    name: dnsCheckName(host),
    status,
    reason,
    message,
    details: { chain: resolution.chain, ...details },
  });
  const fix = `publish a CNAME ${host} → ${externalHost}`;

  if (resolution.ok) {
    if (!input.external.ok) {
      return result('Failed', 'ExternalHostNotResolved',
        `${externalHost} could not be resolved in DNS (${describeFailure(input.external)}), so ${host} cannot be compared with it: publish an A/AAAA record for ${externalHost}`,
        { addresses: resolution.addresses });
    }
    const externalAddresses = input.external.addresses;
    const inside = resolution.addresses.filter((a) => externalAddresses.includes(a));
    const outside = resolution.addresses.filter((a) => !externalAddresses.includes(a));
    const details = { addresses: resolution.addresses, externalAddresses };
    const viaExternalHost = resolution.chain.slice(1).includes(externalHost);
    if (outside.length === 0) {
      return viaExternalHost
        ? result('Passed', 'CnameToExternalHost', `CNAME → ${resolution.chain.slice(1).join(' → ')} (${inside.join(', ')})`, details)
        : result('Passed', 'AddressOfExternalHost', `${host} resolves to ${inside.join(', ')}, the address of ${externalHost}`, details);
    }
    if (inside.length > 0) {
      return result('Warning', 'SomeAddressesElsewhere',
        `${host} resolves to ${outside.join(', ')} besides ${externalHost}'s ${inside.join(', ')}: clients sent there may reach another server; ${fix}`, details);
    }
    return result('Failed', 'WrongAddress',
      `${host} resolves to ${resolution.addresses.join(', ')}, not to ${externalHost} (${externalAddresses.join(', ')}): ${fix}`, details);
  }

  switch (resolution.failure) {
    case 'NXDOMAIN':
    case 'NODATA':
      return srvFallback(input, dns, resolution, result);
    case 'DANGLING_CNAME': {
      const last = resolution.chain[resolution.chain.length - 1];
      return result('Failed', 'DanglingCname',
        `${host} is a CNAME to ${last}, which has no address (${resolution.cause}): ${fix}`);
    }
    case 'CNAME_LOOP':
      return result('Failed', 'CnameLoop', `${host} is a CNAME loop (${resolution.chain.join(' → ')}): ${fix}`);
    case 'CHAIN_TOO_LONG':
      return result('Failed', 'CnameChainTooLong',
        `${host} follows more than 8 CNAMEs (${resolution.chain.join(' → ')}); resolvers give up: ${fix}`);
    case 'SERVFAIL':
      return result('Failed', 'ServerFailure',
        `${host} could not be resolved in DNS (SERVFAIL): the domain's name servers fail to answer (broken zone or DNSSEC); fix the zone, then ${fix}`);
    case 'REFUSED':
      return result('Failed', 'QueryRefused',
        `${host} could not be resolved in DNS (REFUSED): the name server refuses to answer for this name; check checks.nameservers and the zone delegation`);
    case 'TIMEOUT':
      return result('Failed', 'QueryTimedOut',
        `${host} could not be resolved in DNS (time-out): no name server answered; check checks.nameservers and that port 53 is reachable`);
    case 'ERROR':
      return result('Failed', 'DnsError', `${host} could not be resolved in DNS (${resolution.detail})`);
  }
}

type ResultMaker = (status: CheckResult['status'], reason: string, message: string, details?: Record<string, unknown>) => CheckResult;

/** Outlook's last step ([MS-OXDSCLI] DNS SRV lookup): SRV `_autodiscover._tcp.<domain>`, port 443 only. */
async function srvFallback(input: DnsCheckInput, dns: DnsResolver, resolution: AddressResolution & { ok: false }, result: ResultMaker): Promise<CheckResult> {
  const host = normalizeHost(input.entry.host);
  const externalHost = normalizeHost(input.externalHost);
  const srvName = `_autodiscover._tcp.${normalizeHost(input.entry.domain)}`;
  const srv = await dns.srv(srvName);
  // RFC 2782: a single record with target "." says the service is decidedly not available.
  const records = srv.ok ? srv.records.filter((r) => normalizeHost(r.name) !== '') : [];
  const noHost = resolution.failure === 'NXDOMAIN'
    ? `${host} could not be resolved in DNS (NXDOMAIN)`
    : `${host} has no A/AAAA/CNAME record (NODATA)`;
  if (records.length === 0) {
    const srvNote = srv.ok || srv.failure === 'NXDOMAIN' || srv.failure === 'NODATA' ? '' : ` (${srvName} SRV: ${srv.failure})`;
    return result('Failed', resolution.failure === 'NXDOMAIN' ? 'NameNotFound' : 'NoAddressRecord',
      `${noHost}: publish a CNAME ${host} → ${externalHost} (no ${srvName} SRV record publishes autodiscover either${srvNote})`,
      { srv: srv.ok ? [] : srv.failure });
  }
  const best = preferredSrv(records.filter((r) => r.port === 443));
  if (!best) {
    const other = preferredSrv(records) as SrvRecord;
    return result('Failed', 'SrvWrongPort',
      `${noHost}; ${srvName} SRV points at ${normalizeHost(other.name)}:${other.port}, but Outlook only follows SRV records on port 443: publish the SRV record on port 443, or better a CNAME ${host} → ${externalHost}`,
      { srv: records });
  }
  const target = normalizeHost(best.name);
  if (!input.servedHosts.map(normalizeHost).includes(target)) {
    // A hoster's shared autodiscover name is how many hosted domains publish autodiscover.
    // Outlook follows it after asking the user to allow the redirect: Microsoft KB 940881 ("A
    // new feature is available that enables Outlook 2007 to use DNS Service Location (SRV)
    // records to locate the Exchange Autodiscover service") describes the prompt; [MS-OXDSCLI]
    // "Locations Found from SRV DNS Records" adds https://<target>/Autodiscover/Autodiscover.xml
    // to the candidate URIs. (The KB is cited from memory: the prompt is what users report for
    // every Outlook since 2007, its exact wording may differ.) So the domain is published, with
    // a prompt; tls/<target> judges the certificate users meet there.
    return result('Warning', 'SrvRecordOnly',
      `${noHost}; ${srvName} SRV → ${target}:443, a host outside this MailDomain (a hoster's shared autodiscover name?), publishes autodiscover: Outlook asks every user to allow the redirect to ${target} and then trusts what it answers (see tls/${target}); to serve autodiscover yourself without a prompt, publish a CNAME ${host} → ${externalHost}`,
      { srv: records, srvTarget: target, srvTargetDeclared: false });
  }
  return result('Warning', 'SrvRecordOnly',
    `${noHost}; ${srvName} SRV → ${target}:443 publishes autodiscover, but Outlook asks the user to confirm the redirect: publish a CNAME ${host} → ${externalHost}`,
    { srv: records, srvTarget: target, srvTargetDeclared: true });
}

/** RFC 2782 order: lowest priority first, then (deterministically here) the highest weight. */
export function preferredSrv(records: SrvRecord[]): SrvRecord | undefined {
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
}

function describeFailure(resolution: AddressResolution & { ok: false }): string {
  return resolution.failure === 'DANGLING_CNAME' ? `dangling CNAME, ${resolution.cause}` : resolution.failure;
}
