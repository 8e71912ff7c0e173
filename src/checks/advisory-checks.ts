// Checks that warn and never block the gate: things that make Outlook show a prompt or take a
// detour although autodiscover itself is published correctly.
import { AUTODISCOVER_PATH } from './autodiscover-pox.ts';
import { normalizeHost } from './host-names.ts';
import { describeConnectFailure } from './http-check.ts';
import { combineAddressResults } from './per-address.ts';
import { dnsProblem, judgeTlsHandshake } from './tls-check.ts';
import type { CertificateState, CheckResult, HttpClient, HttpResponse, SingleTlsHandshake, TlsHandshake } from './types.ts';

export function rootDomainCheckName(domain: string): string {
  return `rootdomain/${normalizeHost(domain)}`;
}

/**
 * Outlook tries https://<domain>/autodiscover/autodiscover.xml before autodiscover.<domain>
 * (Microsoft KB 3211279, "Outlook 2016 implementation of Autodiscover"). What is there decides
 * whether that first step costs the user anything:
 * - nothing (no address, connection refused or reset): the request fails at once and Outlook
 *   moves on to the next candidate URI ([MS-OXDSCLI] 3.1.5.x "Nonfunctional URIs": the client
 *   SHOULD retry with the next URI in its list) — harmless, so Passed;
 * - a certificate not valid for <domain>: Outlook may show a certificate warning — Warning;
 * - a peer that accepts TCP (or TLS) and never answers: every Outlook waits for its own
 *   time-out before moving on — Warning. (Field reports put that wait near 20 s per address,
 *   e.g. Dave Stork, "Optimizing the Outlook AutoDiscover process by skipping the root domain
 *   query", blogs.dirteam.com, 2014; Microsoft documents no figure, so the message gives none.) The fixes: answer (any status, a 404 will do) or
 *   refuse on 443, or the ExcludeHttpsRootDomain client policy (DWORD 1 under
 *   HKCU\Software\Microsoft\Office\16.0\Outlook\AutoDiscover, Microsoft KB 2212902
 *   "Unexpected Autodiscover behavior when you have registry settings under the \Autodiscover
 *   key"), which skips this step;
 * - packets dropped (TCP connect times out): Outlook waits for the TCP time-out too — Warning,
 *   unless a firewall between the checker and the Internet is the cause, which the message says.
 * `answers` are the POX requests sent to each address that completed the handshake (only when
 * the http/ probes run), by address.
 */
export function judgeRootDomain(domainName: string, handshake: TlsHandshake, now: number, answers: Record<string, HttpResponse> = {}): CheckResult {
  const domain = normalizeHost(domainName);
  const perAddress = handshake.perAddress ?? [];
  if (perAddress.length === 0) return judgeRootAddress(domain, handshake, now, undefined);
  return combineAddressResults(domain, perAddress.map((h, i) => ({
    address: h.address ?? `address ${i + 1}`,
    result: judgeRootAddress(domain, h, now, h.address ? answers[h.address] : undefined),
  })), handshake.addressesNotProbed ?? 0);
}

function rootFixes(domain: string): string {
  return `make https://${domain} answer at once (any HTTP status) or refuse connections on port 443, or deploy the ExcludeHttpsRootDomain Outlook policy so clients skip https://${domain}`;
}

function judgeRootAddress(domain: string, handshake: SingleTlsHandshake, now: number, answer: HttpResponse | undefined): CheckResult {
  const name = rootDomainCheckName(domain);
  const where = handshake.address ? `https://${domain} (${handshake.address})` : `https://${domain}`;
  if (!handshake.ok) {
    const details = { failure: handshake.failure, detail: handshake.detail, address: handshake.address };
    if (handshake.failure === 'NOT_RESOLVED') {
      const dns = dnsProblem(domain, { dnsFailure: handshake.dnsFailure, dnsChain: handshake.dnsChain, detail: handshake.detail });
      if (dns.status === 'Unknown') return { name, status: 'Unknown', reason: dns.reason, message: dns.message, details: { ...details, dnsFailure: handshake.dnsFailure } };
      return { name, status: 'Passed', reason: 'RootDomainNotServing', message: `${domain} has no address (${handshake.dnsFailure ?? handshake.detail}), so Outlook moves on to the autodiscover host at once`, details };
    }
    if (handshake.failure === 'TIMEOUT' && handshake.connected) {
      return {
        name, status: 'Warning', reason: 'RootDomainStalls',
        message: `${where} accepts TCP connections and never completes TLS (${handshake.detail}): Outlook tries https://${domain}${AUTODISCOVER_PATH} first and every user waits for its time-out; ${rootFixes(domain)}`,
        details,
      };
    }
    if (handshake.failure === 'TIMEOUT') {
      return {
        name, status: 'Warning', reason: 'RootDomainConnectTimedOut',
        message: `${where} does not accept or refuse TCP connections (${handshake.detail}): if packets are dropped on the Internet too, Outlook waits for the TCP time-out before it moves on; ${rootFixes(domain)} (if only this checker's network drops them, ignore this)`,
        details,
      };
    }
    if (handshake.failure === 'NOT_ALLOWED') {
      return { name, status: 'Unknown', reason: 'RootDomainNotProbed', message: `${where} was not probed: ${handshake.detail}`, details };
    }
    return {
      name, status: 'Passed', reason: handshake.failure === 'REFUSED' ? 'RootDomainRefuses' : 'RootDomainNotServing',
      message: `${where} does not answer (${describeConnectFailure(handshake.failure)}), which fails at once, so Outlook moves on to the autodiscover host without a prompt or a wait`,
      details,
    };
  }
  const tls = judgeTlsHandshake(domain, handshake, now);
  if (tls.status === 'Failed') {
    return {
      name, status: 'Warning', reason: 'RootDomainCertificateInvalid',
      message: `${where} answers with a certificate not valid for ${domain} (${tls.message}); Outlook tries https://${domain}${AUTODISCOVER_PATH} first and may show a certificate warning: serve a valid certificate for ${domain} or stop answering on port 443`,
      details: { ...tls.details, tlsReason: tls.reason },
    };
  }
  if (answer && !answer.ok && (answer.failure === 'TIMEOUT' || answer.failure === 'INCOMPLETE') && answer.connected) {
    return {
      name, status: 'Warning', reason: 'RootDomainStalls',
      message: `${where} completes TLS but does not answer POST ${AUTODISCOVER_PATH} (${answer.detail}): Outlook tries it first and every user waits for its time-out; ${rootFixes(domain)}`,
      details: { ...tls.details, answer: answer.detail },
    };
  }
  const answered = answer?.ok ? ` and answers POST ${AUTODISCOVER_PATH} with HTTP ${answer.status}` : '';
  return { name, status: 'Passed', reason: 'RootDomainCertificateValid', message: `${where} answers with a valid certificate for ${domain}${answered}`, details: tls.details };
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
    // A name server that did not answer says nothing about the redirect: Unknown, as rootdomain/
    // and tls/ say it, not "not offered". A Passed row would also be kept for the whole interval
    // (ProbeCache), so the retry after a DNS time-out would repeat it until the next interval:
    // at 5,000 MailDomains six domains' rows flipped back in the idle window, six status writes.
    if (response.failure === 'NOT_RESOLVED') {
      const dns = dnsProblem(host, { dnsFailure: response.dnsFailure, dnsChain: response.dnsChain, detail: response.detail, dnsCheck: `dns/${host}` });
      if (dns.status === 'Unknown') {
        return { name, status: 'Unknown', reason: dns.reason, message: `${request} was not sent: ${dns.message}`, details: { failure: response.failure, detail: response.detail, dnsFailure: response.dnsFailure } };
      }
    }
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

/** The `certificate` row's reason while cert-manager works on an issuance that has not failed:
 *  Unknown, not Failed (the gate reads it as no verdict yet). */
export const CERTIFICATE_ISSUING = 'Issuing';

export function judgeCertificate(state: CertificateState): CheckResult {
  return state.ready
    ? { name: 'certificate', status: 'Passed', reason: 'CertificateReady', message: state.message || 'The Certificate is Ready', details: { certManagerReason: state.reason } }
    : {
        name: 'certificate', status: 'Failed', reason: 'CertificateNotReady',
        message: `The Certificate is not Ready (${state.reason || 'no reason'}): ${state.message || 'cert-manager has not issued it yet'}; see kubectl describe certificate and its CertificateRequest`,
        details: { certManagerReason: state.reason },
      };
}
