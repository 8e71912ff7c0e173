// MailDomain.spec → the check engine's target. Pure; secrets are read by the caller.
import type { MailDomainSpec } from '../../api/maildomain.ts';
import type { CheckTarget, ProbeCredentials } from '../../checks/types.ts';
import { autodiscoverHosts } from '../../builders/hosts.ts';

export interface CheckTargetExtras {
  caBundlePem?: string;
  probeCredentials?: ProbeCredentials;
  includeHttp: boolean;
  release?: string;
}

export function checkTargetFor(spec: MailDomainSpec, extras: CheckTargetExtras): CheckTarget {
  return {
    domain: spec.domain,
    aliases: spec.aliases,
    externalHost: spec.externalHost,
    autodiscoverHosts: autodiscoverHosts(spec),
    require: spec.checks.require,
    nameservers: spec.checks.nameservers,
    includeHttp: extras.includeHttp,
    ...(extras.release ? { release: extras.release } : {}),
    ...(extras.caBundlePem ? { caBundlePem: extras.caBundlePem } : {}),
    ...(extras.probeCredentials ? { probeCredentials: extras.probeCredentials } : {}),
  };
}
