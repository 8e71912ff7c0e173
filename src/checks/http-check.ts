// http/<host>: does the mail server itself answer behind the front? An unauthenticated
// autodiscover POST and MAPI/HTTP PINGs must reach it (401 with a challenge, or 200 with an
// X-ResponseCode); with probe credentials, the authenticated autodiscover answer must hand
// Outlook a mapiHttp block pointing at https://<externalHost> ([MS-OXDSCLI] response schema, Protocol Type="mapiHttp"), and
// those MAPI endpoints must answer a PING ([MS-OXCMAPIHTTP]: the X-ResponseCode header).
import { randomUUID } from 'node:crypto';
import { AUTODISCOVER_PATH, incompleteAutodiscoverDocument, parsePoxResponse, poxRequestBody, poxRequestHeaders, POX_ERROR_CODES } from './autodiscover-pox.ts';
import { normalizeHost } from './host-names.ts';
import { combineAddressResults } from './per-address.ts';
import { dnsProblem } from './tls-check.ts';
import type { CheckResult, ConnectFailure, HttpClient, HttpRequest, HttpResponse, ProbeCredentials, ResolutionCause } from './types.ts';

export const MAPI_ENDPOINTS = ['/mapi/emsmdb/', '/mapi/nspi/'] as const;

export interface HttpCheckInput {
  host: string;
  /** The external host also gets the MAPI PINGs; autodiscover hosts get the POX request. */
  role: 'external' | 'autodiscover';
  /** Mail domain used for X-AnchorMailbox when there are no credentials (autodiscover hosts;
   *  the external host, shared by every domain of the server, uses its own name). */
  domain?: string;
  externalHost: string;
  /** Given to the one host that runs the authenticated probes. */
  credentials?: ProbeCredentials;
  /** The dns/ row that explains this host's DNS, if there is one. */
  dnsCheck?: string;
}

export interface ProbeRecord {
  probe: string;
  request: string;
  served: boolean;
  status?: number;
  outcome: string;
  /** Why the host did not resolve, when it did not. */
  dns?: ResolutionCause;
  /** The address was one the checks never connect to: nothing was sent. */
  notAllowed?: string;
}

export function httpCheckName(host: string): string {
  return `http/${normalizeHost(host)}`;
}

export async function checkHttpServed(input: HttpCheckInput, http: HttpClient): Promise<CheckResult> {
  const host = normalizeHost(input.host);
  const externalHost = normalizeHost(input.externalHost);
  const address = input.credentials?.address ?? probeAddress(input);
  const probes: ProbeRecord[] = [];
  const result = (status: CheckResult['status'], reason: string, message: string, extra: Record<string, unknown> = {}): CheckResult => ({
    name: httpCheckName(host), status, reason, message, details: { probes, ...extra },
  });

  // No secret is sent here, so these go out without TLS verification: tls/<host> judges the
  // certificate, this check only whether the mail server answers behind it.
  const unauthenticated: Promise<ProbeRecord>[] = [
    http.request({
      scheme: 'https', host, method: 'POST', path: AUTODISCOVER_PATH,
      headers: poxRequestHeaders(address), body: poxRequestBody(address), verifyTls: false,
    }).then((pox) => judgeServed('autodiscover', `POST https://${host}${AUTODISCOVER_PATH}`, pox, 'autodiscover')),
  ];
  if (input.role === 'external') {
    for (const path of MAPI_ENDPOINTS) {
      unauthenticated.push(http.request({ scheme: 'https', host, method: 'POST', path, headers: mapiPingHeaders(), body: '', verifyTls: false })
        .then((ping) => judgeServed(path, `POST https://${host}${path} (PING)`, ping, 'mapi')));
    }
  }
  probes.push(...(await Promise.all(unauthenticated)));
  const notServed = probes.filter((p) => !p.served);
  const unresolved = notServed.find((p) => p.dns);
  if (unresolved?.dns && notServed.every((p) => p.dns)) {
    const verdict = dnsProblem(host, { ...unresolved.dns, dnsCheck: input.dnsCheck });
    return result(verdict.status, verdict.reason, verdict.status === 'Failed'
      ? `${verdict.message}; until then its HTTP endpoints cannot be reached (see tls/${host})`
      : verdict.message, { dnsFailure: unresolved.dns.dnsFailure });
  }
  const refused = notServed.find((p) => p.notAllowed);
  if (refused && notServed.every((p) => p.notAllowed)) {
    return result('Failed', 'AddressNotAllowed',
      `${host} resolves to an address the checks never connect to (${refused.notAllowed}), nor can Outlook clients use it: its HTTP endpoints were not probed; publish the public address of the front (see tls/${host})`);
  }
  if (notServed.length > 0) {
    const mapiDown = notServed.some((p) => p.probe.startsWith('/mapi'));
    const what = notServed.map((p) => `${p.request}: ${p.outcome}`).join('; ');
    return result('Failed', mapiDown ? 'MapiNotServed' : 'AutodiscoverNotServed',
      `The mail server does not answer on ${host}: ${what}; check the MAPI pods are ready and the ingress routes /autodiscover and /mapi to their Service`);
  }
  if (!input.credentials) {
    return result('Passed', 'Served', `${host}: ${probes.map((p) => `${p.probe} ${p.outcome}`).join(', ')}`);
  }
  return authenticatedProbes(host, externalHost, input.credentials, http, probes, result);
}

/** Who the unauthenticated POX request asks about: a mailbox of the host's own mail domain,
 *  or, for the external host (one probe for every domain of the server), of the host itself. */
export function probeAddress(input: Pick<HttpCheckInput, 'role' | 'domain' | 'host'>): string {
  return `autodiscover-probe@${normalizeHost(input.role === 'external' || !input.domain ? input.host : input.domain)}`;
}

type ResultMaker = (status: CheckResult['status'], reason: string, message: string, extra?: Record<string, unknown>) => CheckResult;

async function authenticatedProbes(
  host: string, externalHost: string, credentials: ProbeCredentials, http: HttpClient, probes: ProbeRecord[], result: ResultMaker,
): Promise<CheckResult> {
  const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  const request = `POST https://${host}${AUTODISCOVER_PATH} as ${credentials.username}`;
  // Credentials only ever travel over a verified TLS connection.
  const answer = await http.request({
    scheme: 'https', host, method: 'POST', path: AUTODISCOVER_PATH,
    headers: { ...poxRequestHeaders(credentials.address), Authorization: authorization },
    body: poxRequestBody(credentials.address), verifyTls: true,
  });
  if (!answer.ok) {
    probes.push({ probe: 'autodiscover (authenticated)', request, served: false, outcome: describeConnectFailure(answer.failure) });
    if (answer.failure === 'INCOMPLETE') {
      return result('Failed', 'AutodiscoverIncomplete', `The authenticated autodiscover answer from ${host} never ended (${answer.detail}): Outlook waits for it and then gives up; check the mail server and that the front does not hold the response`);
    }
    return result('Failed', 'AutodiscoverNotServed', `The authenticated autodiscover request to ${host} failed (${describeConnectFailure(answer.failure)}: ${answer.detail}); credentials are only sent over a verified TLS connection, see tls/${host}`);
  }
  if (answer.truncated) {
    probes.push({ probe: 'autodiscover (authenticated)', request, served: false, status: answer.status, outcome: `HTTP ${answer.status}, cut at the size cap` });
    return result('Failed', 'AutodiscoverIncomplete', `The authenticated autodiscover answer from ${host} is larger than the ${capKiB(answer)} KiB the checks read: an autodiscover answer is a few KiB, this is not one (a front answering with another document?)`);
  }
  probes.push({ probe: 'autodiscover (authenticated)', request, served: answer.status === 200, status: answer.status, outcome: `HTTP ${answer.status}` });
  if (answer.status === 401 || answer.status === 403) {
    return result('Failed', 'ProbeLoginFailed',
      `The probe account ${credentials.username} was refused by ${host} (HTTP ${answer.status}): check checks.probeCredentials and that Basic authentication is offered`);
  }
  if (answer.status !== 200) {
    return result('Failed', 'AutodiscoverNotServed', `The authenticated autodiscover request to ${host} answered HTTP ${answer.status}, expected 200`);
  }
  const whole = incompleteAutodiscoverDocument(answer.body);
  if (whole !== null && /<(?:\w+:)?Autodiscover[\s>]/.test(answer.body)) {
    return result('Failed', 'AutodiscoverIncomplete', `The autodiscover answer from ${host} is not a whole document (${whole}): Outlook cannot read it; check the mail server and that nothing cuts the response`);
  }
  const pox = parsePoxResponse(answer.body);
  switch (pox.kind) {
    case 'unreadable':
      return result('Failed', 'AutodiscoverUnreadable', `The autodiscover answer from ${host} is not an Autodiscover POX response (${pox.detail})`);
    case 'error':
      return result('Failed', 'AutodiscoverErrorCode',
        `Autodiscover on ${host} answered ErrorCode ${pox.errorCode} (${pox.message || POX_ERROR_CODES[pox.errorCode] || 'unknown'}) for ${credentials.address}: check the probe address exists in the mail server`,
        { errorCode: pox.errorCode });
    case 'redirect':
      return result('Failed', 'AutodiscoverRedirect',
        `Autodiscover on ${host} answered ${pox.action} → ${pox.target} instead of settings for ${credentials.address}: An Unexpected Redirect Response was Received`);
    case 'settings':
      break;
  }
  if (!pox.mapiHttp) {
    return result('Failed', 'NoMapiHttpProtocol',
      `The autodiscover answer from ${host} has no <Protocol Type="mapiHttp"> block (protocols: ${pox.protocols.join(', ') || 'none'}): enable MAPI over HTTP on the mail server`,
      { protocols: pox.protocols });
  }
  const urls = [...pox.mapiHttp.mailStoreUrls, ...pox.mapiHttp.addressBookUrls];
  const badUrls = urls.filter((u) => !isHttpsOn(u, externalHost));
  if (urls.length === 0 || badUrls.length > 0) {
    return result('Failed', 'MapiUrlNotExternalHost',
      `The mapiHttp block from ${host} points at ${urls.length === 0 ? 'no URL' : badUrls.join(', ')}, not at https://${externalHost}: set the mail server's external URL to https://${externalHost}`,
      { mapiHttp: pox.mapiHttp });
  }
  // [MS-OXCMAPIHTTP]: any X-ResponseCode proves the MAPI stack answered the PING.
  const pingTargets = [pox.mapiHttp.mailStoreUrls[0], pox.mapiHttp.addressBookUrls[0]].filter((u): u is string => !!u);
  for (const target of pingTargets) {
    const url = new URL(target);
    const path = `${url.pathname}${url.search}`;
    const ping = await http.request({
      scheme: 'https', host: normalizeHost(url.hostname), method: 'POST', path,
      headers: { ...mapiPingHeaders(), Authorization: authorization }, body: '', verifyTls: true,
    });
    const served = ping.ok && ping.status === 200 && ping.headers['x-responsecode'] !== undefined && incompleteMapiBody(ping) === null;
    probes.push({
      probe: `${url.pathname} (authenticated)`,
      request: `POST ${url.origin}${path} (PING as ${credentials.username})`,
      served,
      ...(ping.ok ? { status: ping.status } : {}),
      outcome: ping.ok ? `HTTP ${ping.status}, X-ResponseCode ${ping.headers['x-responsecode'] ?? 'missing'}${incompleteMapiBody(ping) ? `, ${incompleteMapiBody(ping)}` : ''}` : `${describeConnectFailure(ping.failure)} (${ping.detail})`,
    });
    if (!served) {
      return result('Failed', 'MapiPingFailed',
        `The MAPI endpoint ${url.origin}${url.pathname} did not answer an authenticated PING with a whole answer and an X-ResponseCode (${ping.ok ? `HTTP ${ping.status}${incompleteMapiBody(ping) ? `, ${incompleteMapiBody(ping)}` : ''}` : `${describeConnectFailure(ping.failure)}: ${ping.detail}`}): check the MAPI pods and that /mapi is not buffered by the front`);
    }
  }
  return result('Passed', 'Served',
    `${host}: served; autodiscover hands out MAPI over HTTP at https://${externalHost} and both endpoints answer PING`,
    { mapiHttp: pox.mapiHttp });
}

/** [MS-OXCMAPIHTTP] common request headers; PING needs no session cookie. */
export function mapiPingHeaders(): Record<string, string> {
  const client = `{${randomUUID().toUpperCase()}}`;
  return {
    'Content-Type': 'application/mapi-http',
    'X-RequestType': 'PING',
    'X-RequestId': `${client}:1`,
    'X-ClientInfo': `${client}:1`,
    'X-ClientApplication': 'Outlook/16.0.0000.0000',
    'User-Agent': 'mapi-operator-check',
  };
}

/**
 * Served = the mail server answered, completely: 401 with a WWW-Authenticate challenge, or 200
 * that only a MAPI server (X-ResponseCode) or autodiscover service (a whole <Autodiscover>
 * document) gives, the body ended within the time-out and the size cap. A 404, a 5xx, a
 * redirect, a 401 without challenge (some fronts), a body cut at the cap or one that never
 * ends, a reset or a time-out is not: Outlook would wait or fail on each of them.
 */
export function judgeServed(probe: string, request: string, response: HttpResponse, kind: 'autodiscover' | 'mapi'): ProbeRecord {
  if (!response.ok) {
    const outcome = `${describeConnectFailure(response.failure)} (${response.detail})`;
    const dns = response.failure === 'NOT_RESOLVED' ? { dnsFailure: response.dnsFailure, dnsChain: response.dnsChain } : undefined;
    return { probe, request, served: false, outcome, ...(dns ? { dns } : {}), ...(response.failure === 'NOT_ALLOWED' ? { notAllowed: response.detail } : {}) };
  }
  const status = response.status;
  if (response.truncated) {
    return { probe, request, served: false, status, outcome: `HTTP ${status} with a body cut at the ${capKiB(response)} KiB size cap (not a whole answer: an autodiscover or MAPI answer is a few KiB)` };
  }
  const challenge = response.headers['www-authenticate'];
  if (status === 401) {
    return challenge
      ? { probe, request, served: true, status, outcome: `401 challenge (${challenge.split(',').map((s) => s.trim().split(' ')[0]).join(', ')})` }
      : { probe, request, served: false, status, outcome: '401 without a WWW-Authenticate challenge' };
  }
  if (status === 200) {
    const code = response.headers['x-responsecode'];
    if (kind === 'mapi' && code !== undefined) {
      const incomplete = incompleteMapiBody(response);
      return incomplete
        ? { probe, request, served: false, status, outcome: `200, X-ResponseCode ${code}, but ${incomplete}` }
        : { probe, request, served: true, status, outcome: `200, X-ResponseCode ${code}` };
    }
    if (kind === 'autodiscover' && /<(?:\w+:)?Autodiscover[\s>]/.test(response.body)) {
      const incomplete = incompleteAutodiscoverDocument(response.body);
      return incomplete
        ? { probe, request, served: false, status, outcome: `200 with an incomplete autodiscover answer (${incomplete})` }
        : { probe, request, served: true, status, outcome: '200 autodiscover answer' };
    }
    return { probe, request, served: false, status, outcome: `200 without ${kind === 'mapi' ? 'X-ResponseCode' : 'an autodiscover answer'} (not the mail server)` };
  }
  if (status >= 300 && status < 400) {
    return { probe, request, served: false, status, outcome: `An Unexpected Redirect Response was Received (${status} → ${response.headers.location ?? 'no Location'})` };
  }
  return { probe, request, served: false, status, outcome: `HTTP ${status}` };
}

/**
 * [MS-OXCMAPIHTTP] response bodies start with PROCESSING/PENDING meta-tag lines and end with
 * DONE: one that started and never said DONE is cut off. An empty body (some servers answer a
 * PING with headers only) is whole.
 */
export function incompleteMapiBody(response: HttpResponse & { ok: true }): string | null {
  const body = response.body;
  if (body.trim() === '') return null;
  if (/^(?:PROCESSING|PENDING)\r?\n/.test(body) && !/(?:^|\n)DONE\r?\n/.test(body)) return 'the body has no DONE meta-tag (cut off)';
  return null;
}

function capKiB(response: HttpResponse & { ok: true }): number {
  return Math.round(Buffer.byteLength(response.body) / 1024);
}

/** The client with every request for `host` sent to one of its addresses (other hosts unchanged). */
export function pinnedTo(http: HttpClient, host: string, address: string): HttpClient {
  return { request: (req: HttpRequest) => http.request(normalizeHost(req.host) === host ? { ...req, address } : req) };
}

/**
 * http/<host> on each of its addresses (at most 8, as resolved for this run): one row whose
 * status is the worst address's. Without addresses (the host did not resolve) one unpinned run
 * reports why.
 */
export async function checkHttpServedOnAddresses(input: HttpCheckInput, http: HttpClient, addresses: string[], notProbed = 0): Promise<CheckResult> {
  const host = normalizeHost(input.host);
  if (addresses.length === 0) return checkHttpServed(input, http);
  const perAddress = await Promise.all(addresses.map(async (address) => ({ address, result: await checkHttpServed(input, pinnedTo(http, host, address)) })));
  return combineAddressResults(host, perAddress, notProbed);
}

function isHttpsOn(url: string, host: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && normalizeHost(parsed.hostname) === host && (parsed.port === '' || parsed.port === '443');
  } catch {
    return false;
  }
}

export function describeConnectFailure(failure: ConnectFailure): string {
  switch (failure) {
    case 'NOT_RESOLVED': return 'not resolved in DNS';
    case 'NOT_ALLOWED': return 'address not allowed';
    case 'REFUSED': return 'connection refused';
    case 'TIMEOUT': return 'timed out';
    case 'RESET': return 'connection reset';
    case 'HANDSHAKE': return 'TLS handshake failed';
    case 'INCOMPLETE': return 'answer never completed';
    case 'ERROR': return 'connection failed';
  }
}
