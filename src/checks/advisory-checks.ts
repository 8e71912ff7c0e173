// Checks that warn and never block the gate: things that make Outlook show a prompt or take a
// detour although autodiscover itself is published correctly.
import { AUTODISCOVER_PATH } from './autodiscover-pox.ts';
import { normalizeHost } from './host-names.ts';
import { describeConnectFailure } from './http-check.ts';
import { judgeTlsHandshake } from './tls-check.ts';
import type { CertificateState, CheckResult, HttpClient, TlsHandshake } from './types.ts';

export function rootDomainCheckName(domain: string): string {
  return `rootdomain/${normalizeHost(domain)}`;
}

/**
 * Outlook tries https://<domain>/autodiscover/autodiscover.xml before autodiscover.<domain>
 * (KB 3211279). A web site there with a certificate not valid for <domain> makes Outlook warn
 * before it ever reaches the autodiscover host.
 */
export function judgeRootDomain(domainName: string, handshake: TlsHandshake, now: number): CheckResult {
  const domain = normalizeHost(domainName);
  const name = rootDomainCheckName(domain);
  if (!handshake.ok) {
    return {
      name, status: 'Passed', reason: 'RootDomainNotServing',
      message: `https://${domain} does not answer (${describeConnectFailure(handshake.failure)}), so Outlook moves on to the autodiscover host without a prompt`,
      details: { failure: handshake.failure, detail: handshake.detail },
    };
  }
  const tls = judgeTlsHandshake(domain, handshake, now);
  if (tls.status === 'Failed') {
    return {
      name, status: 'Warning', reason: 'RootDomainCertificateInvalid',
      message: `https://${domain} answers with a certificate not valid for ${domain} (${tls.message}); Outlook tries https://${domain}${AUTODISCOVER_PATH} first and may show a certificate warning: serve a valid certificate for ${domain} or stop answering on port 443`,
      details: { ...tls.details, tlsReason: tls.reason },
    };
  }
  return { name, status: 'Passed', reason: 'RootDomainCertificateValid', message: `https://${domain} answers with a valid certificate for ${domain}`, details: tls.details };
}

export function redirectCheckName(host: string): string {
  return `redirect/${normalizeHost(host)}`;
}

/** Outlook's HTTP redirect method: GET http://autodiscover.<d>/... answered by 301/302/307 to https. */
export async function checkHttpRedirect(hostName: string, http: HttpClient): Promise<CheckResult> {
  const host = normalizeHost(hostName);
  const name = redirectCheckName(host);
  const request = `GET http://${host}${AUTODISCOVER_PATH}`;
  const response = await http.request({ scheme: 'http', host, method: 'GET', path: AUTODISCOVER_PATH, headers: { 'User-Agent': 'mapi-operator-check' }, verifyTls: false });
  if (!response.ok) {
    return {
      name, status: 'Passed', reason: 'RedirectNotOffered',
      message: `${request} does not answer (${describeConnectFailure(response.failure)}); Outlook skips the HTTP redirect method`,
      details: { failure: response.failure, detail: response.detail },
    };
  }
  const location = response.headers.location ?? '';
  const details = { status: response.status, location };
  if ([301, 302, 307].includes(response.status) && location.toLowerCase().startsWith('https://')) {
    return { name, status: 'Passed', reason: 'RedirectToHttps', message: `${request} → ${response.status} ${location}`, details };
  }
  const seen = response.status >= 300 && response.status < 400 ? `${response.status} → ${location || 'no Location'}` : `HTTP ${response.status}`;
  return {
    name, status: 'Warning', reason: 'UnexpectedRedirectResponse',
    message: `An Unexpected Redirect Response was Received: ${request} answered ${seen}; Outlook's HTTP redirect method needs a 301, 302 or 307 to https://${host}${AUTODISCOVER_PATH}`,
    details,
  };
}

export function judgeCertificate(state: CertificateState): CheckResult {
  return state.ready
    ? { name: 'certificate', status: 'Passed', reason: 'CertificateReady', message: state.message || 'The Certificate is Ready', details: { certManagerReason: state.reason } }
    : {
        name: 'certificate', status: 'Failed', reason: 'CertificateNotReady',
        message: `The Certificate is not Ready (${state.reason || 'no reason'}): ${state.message || 'cert-manager has not issued it yet'}; see kubectl describe certificate and its CertificateRequest`,
        details: { certManagerReason: state.reason },
      };
}
