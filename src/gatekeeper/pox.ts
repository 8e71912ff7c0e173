// Autodiscover POX ([MS-OXDSCLI]: the request and its response) as the gatekeeper reads it:
// the address a request asks for, the MailboxId GUIDs an answer hands out, and the answer
// without its mapiHttp block for an address whose MAPI is off.
import { findAll, parseXml, XmlError, type XmlElement } from './xml.ts';

/** A POX request is a few hundred bytes; this leaves room for any client and bounds memory. */
export const MAX_POX_REQUEST_BYTES = 64 * 1024;
/** An answer with every optional Protocol block is a few KiB. */
export const MAX_POX_RESPONSE_BYTES = 1024 * 1024;

export type PoxRequest = { ok: true; address: string } | { ok: false; problem: string };

const ADDRESS = /^[^\s@<>"]{1,256}@[^\s@<>"]{1,255}$/;

/** The `Autodiscover/Request/EMailAddress` of a POX request, lower-cased. */
export function readPoxRequest(body: Buffer): PoxRequest {
  if (body.length > MAX_POX_REQUEST_BYTES) return { ok: false, problem: `request body is ${body.length} bytes, over ${MAX_POX_REQUEST_BYTES}` };
  let root: XmlElement;
  try {
    root = parseXml(body.toString('utf8'), MAX_POX_REQUEST_BYTES);
  } catch (err) {
    if (err instanceof XmlError) return { ok: false, problem: err.message };
    throw err;
  }
  if (root.name !== 'Autodiscover') return { ok: false, problem: `root element is <${root.name}>, not <Autodiscover>` };
  const requests = root.children.filter((c) => c.name === 'Request');
  if (requests.length !== 1) return { ok: false, problem: `${requests.length} <Request> elements; exactly one expected` };
  // More than one address would let the gatekeeper and the server read different ones: refuse.
  const addresses = requests[0]!.children.filter((c) => c.name === 'EMailAddress');
  if (addresses.length !== 1) return { ok: false, problem: `${addresses.length} <EMailAddress> elements; exactly one expected` };
  const address = addresses[0]!.text.trim();
  if (!ADDRESS.test(address)) return { ok: false, problem: 'EMailAddress is not an e-mail address' };
  return { ok: true, address: address.toLowerCase() };
}

/** A `MailboxId=<guid>@<domain>` value from a MAPI URL, lower-cased, or undefined. */
export function mailboxIdOf(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).toLowerCase() !== 'mailboxid') continue;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      return undefined;
    }
    return /^[^\s@]{1,128}@[^\s@]{1,255}$/.test(value) ? value.toLowerCase() : undefined;
  }
  return undefined;
}

export interface PoxAnswer {
  /** The MailboxId values of the mapiHttp block(s). */
  mailboxIds: string[];
  /** `User/AutoDiscoverSMTPAddress`, the primary address when the request named an alias. */
  smtpAddress: string | undefined;
  /** The answer with every `<Protocol Type="mapiHttp">` removed. */
  withoutMapiHttp(): string;
  hasMapiHttp: boolean;
}

/** Reads an Autodiscover answer; undefined when it is not well-formed XML (an HTML error page). */
export function readPoxAnswer(text: string): PoxAnswer | undefined {
  let root: XmlElement;
  try {
    root = parseXml(text, MAX_POX_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof XmlError) return undefined;
    throw err;
  }
  // [MS-OXDSCLI]: the Protocol element with a Type attribute of "mapiHttp".
  const blocks = findAll(root, 'Protocol').filter((p) => p.attributes.get('Type')?.toLowerCase() === 'mapihttp');
  const mailboxIds = new Set<string>();
  for (const block of blocks) {
    for (const urlElement of [...findAll(block, 'InternalUrl'), ...findAll(block, 'ExternalUrl')]) {
      const id = mailboxIdOf(urlElement.text.trim());
      if (id) mailboxIds.add(id);
    }
  }
  const smtp = findAll(root, 'AutoDiscoverSMTPAddress')[0]?.text.trim().toLowerCase();
  return {
    mailboxIds: [...mailboxIds],
    smtpAddress: smtp && ADDRESS.test(smtp) ? smtp : undefined,
    hasMapiHttp: blocks.length > 0,
    withoutMapiHttp: () => {
      let out = text;
      // From the last block backwards so earlier offsets stay valid; the indentation before a
      // block goes with it so the answer reads as if the server never wrote it.
      for (const block of [...blocks].sort((a, b) => b.start - a.start)) {
        let from = block.start;
        while (from > 0 && (out[from - 1] === ' ' || out[from - 1] === '\t')) from--;
        if (from > 0 && out[from - 1] === '\n') from--;
        if (from > 0 && out[from - 1] === '\r') from--;
        out = out.slice(0, from) + out.slice(block.end);
      }
      return out;
    },
  };
}

const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

/** The POX error answer ([MS-OXDSCLI] Error element; 600 is "Invalid Request"). */
export function poxErrorAnswer(code: '600' | '603', message: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="${RESPONSE_NS}">
  <Response>
    <Error Time="${new Date().toISOString().slice(11, 23)}" Id="0">
      <ErrorCode>${code}</ErrorCode>
      <Message>${message}</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
`;
}
