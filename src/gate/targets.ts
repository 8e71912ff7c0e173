// MapiServer and MailDomain → what the check engine probes. The operator's check scheduler and
// `mapi-operator check` both call these, so they cannot disagree on which hosts are probed or
// on which domain an explicit autodiscover host belongs to (autodiscoverHosts is the one mapping).
import type { MailDomainSpec } from '../api/maildomain.ts';
import type { MapiServerSpec } from '../api/mapiserver.ts';
import { autodiscoverHosts } from '../builders/hosts.ts';
import type { CheckTarget, ProbeCredentials, ServedCertificates } from '../checks/types.ts';

/** What the caller knows beyond the specs: secrets it read, and whether pods exist yet. */
export interface CheckTargetExtras {
  /** The http/ and redirect/ probes only make sense once MAPI pods run. */
  includeHttp: boolean;
  /** The MAPI release (pod template hash) the http/ probes judge; part of their cache key. */
  release?: string;
  /** spec.checks.caBundle, read by the caller. */
  caBundlePem?: string;
  /** spec.checks.probeCredentials, read by the caller. */
  probeCredentials?: ProbeCredentials;
  /** By served host, the revision of the certificate it should present (see CheckTarget). */
  servedCertificates?: ServedCertificates;
  /** Served hosts whose certificate was never issued (see CheckTarget). */
  unissuedHosts?: string[];
}

type ServerChecks = Pick<MapiServerSpec, 'externalHost' | 'checks'>;

function common(server: ServerChecks, extras: CheckTargetExtras): Pick<CheckTarget, 'externalHost' | 'nameservers' | 'includeHttp' | 'release' | 'caBundlePem' | 'probeCredentials' | 'servedCertificates' | 'unissuedHosts'> {
  return {
    externalHost: server.externalHost,
    nameservers: [...server.checks.nameservers],
    includeHttp: extras.includeHttp,
    ...(extras.release ? { release: extras.release } : {}),
    ...(extras.caBundlePem ? { caBundlePem: extras.caBundlePem } : {}),
    ...(extras.probeCredentials ? { probeCredentials: extras.probeCredentials } : {}),
    ...(extras.servedCertificates && extras.servedCertificates.length > 0 ? { servedCertificates: extras.servedCertificates } : {}),
    ...(extras.unissuedHosts && extras.unissuedHosts.length > 0 ? { unissuedHosts: [...extras.unissuedHosts].sort() } : {}),
  };
}

/**
 * One hosted domain: dns/, tls/, http/ and redirect/ of its autodiscover hosts and
 * rootdomain/ of its domains. The engine also probes the external host, which every domain
 * shares; the probe cache makes that one probe per interval however many domains there are.
 */
export function domainCheckTarget(md: Pick<MailDomainSpec, 'domain' | 'aliases' | 'autodiscover'>, server: ServerChecks, extras: CheckTargetExtras): CheckTarget {
  return {
    domain: md.domain,
    aliases: [...md.aliases],
    autodiscoverHosts: autodiscoverHosts(md),
    require: md.autodiscover.require,
    ...common(server, extras),
  };
}

/** The server-level rows: tls/<externalHost> and, once pods run, http/<externalHost>. */
export function serverCheckTarget(server: ServerChecks, extras: CheckTargetExtras): CheckTarget {
  return {
    // The external host stands in as "domain": it is served, so no rootdomain/ row comes of it.
    domain: server.externalHost,
    aliases: [],
    autodiscoverHosts: [],
    require: 'Any',
    ...common(server, extras),
  };
}
