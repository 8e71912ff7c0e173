// The rollout gate (DESIGN.md "The gate"): pure, from check results to open or closed with the
// reason and a message naming what is missing. What the controller does with a closed gate
// (hold, keep running pods, roll back) is decided elsewhere.
import type { CheckResult, CheckTarget } from '../checks/types.ts';
import { normalizeHost } from '../checks/host-names.ts';

export interface GateDecision {
  open: boolean;
  /** CamelCase: GatePassed, CertificateNotReady, ExternalHostTlsFailed, AutodiscoverNotPublished, AutodiscoverTlsFailed. */
  reason: string;
  message: string;
}

export type GateTarget = Pick<CheckTarget, 'require' | 'externalHost' | 'autodiscoverHosts' | 'certificate'>;

/** tls/ Warning is "expiring within 7 days": it still works, so it counts. */
const TLS_OK = new Set(['Passed', 'Warning']);
/** dns/ Warning is "published through SRV only" (or partly elsewhere): Outlook still finds it. */
const DNS_OK = new Set(['Passed', 'Warning']);

interface DomainVerdict {
  domain: string;
  host: string;
  published: boolean;
  served: boolean;
  missing: string;
}

export function gateDecision(results: CheckResult[], target: GateTarget): GateDecision {
  const byName = new Map(results.map((r) => [r.name, r]));
  const describe = (name: string): string => {
    const r = byName.get(name);
    return r ? `${name} ${r.status} (${r.reason})` : `${name} has not run`;
  };

  if (target.certificate) {
    const cert = byName.get('certificate');
    if (cert?.status !== 'Passed') {
      return closed('CertificateNotReady', `${describe('certificate')}: ${cert?.message ?? 'no result'}`);
    }
  }
  const externalTls = `tls/${normalizeHost(target.externalHost)}`;
  if (!TLS_OK.has(byName.get(externalTls)?.status ?? '')) {
    return closed('ExternalHostTlsFailed', `${describe(externalTls)}: ${byName.get(externalTls)?.message ?? 'no result'}`);
  }

  const verdicts = target.autodiscoverHosts.map((entry): DomainVerdict => {
    const host = normalizeHost(entry.host);
    const dns = byName.get(`dns/${host}`);
    const published = DNS_OK.has(dns?.status ?? '');
    // For an SRV-published domain the certificate Outlook meets is the SRV target's.
    const srvTarget = dns?.reason === 'SrvRecordOnly' && typeof dns.details['srvTarget'] === 'string' ? dns.details['srvTarget'] : undefined;
    const tlsName = `tls/${srvTarget ?? host}`;
    const served = TLS_OK.has(byName.get(tlsName)?.status ?? '');
    const missing = !published ? describe(`dns/${host}`) : !served ? describe(tlsName) : '';
    return { domain: normalizeHost(entry.domain), host, published, served, missing };
  });
  const ready = verdicts.filter((v) => v.published && v.served);
  const notReady = verdicts.filter((v) => !(v.published && v.served));

  const enough = target.require === 'All' ? verdicts.length > 0 && notReady.length === 0 : ready.length > 0;
  if (enough) {
    const names = ready.map((v) => v.domain).join(', ');
    const certificate = target.certificate ? 'certificate, ' : '';
    return { open: true, reason: 'GatePassed', message: `${certificate}tls/${normalizeHost(target.externalHost)} and autodiscover for ${names} pass (require: ${target.require})` };
  }
  if (verdicts.length === 0) {
    return closed('AutodiscoverNotPublished', 'No autodiscover host is declared: add spec.autodiscover.hosts or let them default to autodiscover.<domain>');
  }
  const failing = target.require === 'All' ? notReady : verdicts;
  const reason = failing.some((v) => !v.published) ? 'AutodiscoverNotPublished' : 'AutodiscoverTlsFailed';
  const need = target.require === 'All' ? 'every domain needs' : 'the domain or at least one alias needs';
  return closed(reason, `Autodiscover is not ready (require: ${target.require}; ${need} dns/ and tls/ passing): ${failing.map((v) => `${v.domain}: ${v.missing}`).join('; ')}`);
}

function closed(reason: string, message: string): GateDecision {
  return { open: false, reason, message };
}
