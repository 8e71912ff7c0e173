// The Autodiscover "POX" exchange ([MS-OXDSCLI] request and response schemas), reduced to what
// the checks need: the request Outlook sends, and from the answer the mapiHttp protocol block
// (Protocol Type="mapiHttp") or the error code.

const REQUEST_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006';
const RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml';

export function poxRequestBody(emailAddress: string): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${REQUEST_SCHEMA}">`,
    '  <Request>',
    `    <EMailAddress>${escapeXml(emailAddress)}</EMailAddress>`,
    `    <AcceptableResponseSchema>${RESPONSE_SCHEMA}</AcceptableResponseSchema>`,
    '  </Request>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

/** X-MapiHttpCapability: without it Exchange leaves the mapiHttp block out (Exchange's POX request headers). */
export function poxRequestHeaders(emailAddress: string): Record<string, string> {
  return {
    'Content-Type': 'text/xml; charset=utf-8',
    'X-MapiHttpCapability': '1',
    'X-AnchorMailbox': emailAddress,
    'User-Agent': 'mapi-operator-check',
  };
}

export interface MapiHttpSettings {
  mailStoreUrls: string[];
  addressBookUrls: string[];
}

export type PoxAnswer =
  | { kind: 'settings'; mapiHttp: MapiHttpSettings | null; protocols: string[] }
  | { kind: 'error'; errorCode: string; message: string }
  | { kind: 'redirect'; action: string; target: string }
  | { kind: 'unreadable'; detail: string };

/** Meanings of the POX error codes ([MS-OXDSCLI], the Error element of the response). */
export const POX_ERROR_CODES: Record<string, string> = {
  '500': 'the e-mail address was not found',
  '501': 'the e-mail address is not valid',
  '600': 'invalid request',
  '601': 'the requested configuration is not available',
  '602': 'the e-mail address is not valid',
  '603': 'internal server error',
};

export function parsePoxResponse(xml: string): PoxAnswer {
  if (!/<(?:\w+:)?Autodiscover[\s>]/.test(xml)) return { kind: 'unreadable', detail: 'no <Autodiscover> element' };
  const error = /<(?:\w+:)?Error[\s>][\s\S]*?<\/(?:\w+:)?Error>/.exec(xml);
  if (error) {
    const code = textOf(error[0], 'ErrorCode') ?? '';
    return { kind: 'error', errorCode: code, message: textOf(error[0], 'Message') ?? POX_ERROR_CODES[code] ?? '' };
  }
  const action = textOf(xml, 'Action');
  if (action === 'redirectUrl' || action === 'redirectAddr') {
    return { kind: 'redirect', action, target: textOf(xml, action === 'redirectUrl' ? 'RedirectUrl' : 'RedirectAddr') ?? '' };
  }
  const protocols = [...xml.matchAll(/<(?:\w+:)?Protocol\b([^>]*)>([\s\S]*?)<\/(?:\w+:)?Protocol>/g)];
  const types = protocols.map((m) => attribute(m[1] ?? '', 'Type') ?? textOf(m[2] ?? '', 'Type') ?? '');
  const mapi = protocols.find((m) => attribute(m[1] ?? '', 'Type') === 'mapiHttp');
  if (!mapi) return { kind: 'settings', mapiHttp: null, protocols: types };
  const body = mapi[2] ?? '';
  return {
    kind: 'settings',
    protocols: types,
    mapiHttp: { mailStoreUrls: urlsIn(body, 'MailStore'), addressBookUrls: urlsIn(body, 'AddressBook') },
  };
}

function urlsIn(xml: string, element: string): string[] {
  const block = new RegExp(`<(?:\\w+:)?${element}>([\\s\\S]*?)</(?:\\w+:)?${element}>`).exec(xml)?.[1] ?? '';
  return ['ExternalUrl', 'InternalUrl'].map((tag) => textOf(block, tag)).filter((u): u is string => !!u);
}

function textOf(xml: string, element: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${element}>([\\s\\S]*?)</(?:\\w+:)?${element}>`).exec(xml);
  return match ? unescapeXml((match[1] ?? '').trim()) : undefined;
}

function attribute(attributes: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(attributes)?.[1];
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/**
 * Whether `xml` is one whole Autodiscover document: a single <Autodiscover> root whose every
 * element is closed in order, nothing but whitespace (comments, processing instructions)
 * after it. Outlook's XML parser rejects anything less, so a body cut off at the size cap or
 * by a closed connection is no answer however it begins. Returns why not, or null.
 * Not a full XML validator (entities and attribute syntax are not checked): it catches
 * truncation and foreign documents, which is what a front in the way produces.
 */
export function incompleteAutodiscoverDocument(xml: string): string | null {
  // Comments, CDATA, processing instructions and the doctype carry no elements.
  const text = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(/<!DOCTYPE[^>]*>/gi, '');
  const tags = text.matchAll(/<(\/?)([A-Za-z_][\w.:-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g);
  const open: string[] = [];
  let root: string | undefined;
  let rootClosedAt = -1;
  for (const tag of tags) {
    const [whole, closing, name = '', , selfClosing] = tag;
    if (rootClosedAt >= 0) return `content after the closing </${root}>`;
    if (closing) {
      const expected = open.pop();
      if (expected !== name) return expected ? `</${name}> closes <${expected}>` : `</${name}> without an opening tag`;
    } else if (!selfClosing) {
      if (open.length === 0 && root !== undefined) return 'more than one root element';
      root ??= name;
      open.push(name);
    } else {
      root ??= name;
    }
    if (open.length === 0) rootClosedAt = (tag.index ?? 0) + whole.length;
  }
  if (root === undefined) return 'no XML element';
  if (!/^(?:\w+:)?Autodiscover$/.test(root)) return `the root element is <${root}>, not <Autodiscover>`;
  if (open.length > 0) return `the document ends inside <${open[open.length - 1]}> (no closing </${open[0]}>)`;
  if (text.slice(rootClosedAt).trim() !== '' || /</.test(text.slice(rootClosedAt))) return `content after the closing </${root}>`;
  return null;
}
