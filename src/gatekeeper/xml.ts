// A minimal, bounded XML tokenizer for the few-hundred-byte Autodiscover POX documents
// ([MS-OXDSCLI] 2.2.3/2.2.4). Why not a library: the operator image carries no XML
// dependency, and what the gatekeeper needs is narrow — element names, one attribute, text
// and the character offsets of an element. Safety comes from what it refuses:
//   - any DOCTYPE/ENTITY declaration (a POX document never has one), so no entity can be
//     defined, let alone expanded (no "billion laughs", no external entities);
//   - any entity reference other than the five predefined ones and character references;
//   - a document over the size cap, nesting deeper than MAX_DEPTH, unbalanced tags.
// Anything refused is "malformed" and the caller answers as the protocol does for an invalid
// request.

export class XmlError extends Error {}

export interface XmlElement {
  /** Local name (prefix stripped). */
  name: string;
  attributes: Map<string, string>;
  /** Offsets in the document string: `<` of the start tag and just after the end tag's `>`. */
  start: number;
  end: number;
  parent: XmlElement | undefined;
  children: XmlElement[];
  /** Character data directly inside, decoded. */
  text: string;
}

export const MAX_DEPTH = 32;
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?$/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

export function decodeEntities(raw: string, at: number): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlError(`unterminated reference near offset ${at}`);
    if (ref in PREDEFINED) return PREDEFINED[ref]!;
    const m = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(ref);
    if (!m) throw new XmlError(`entity "&${ref};" near offset ${at} is not allowed (only the five predefined ones and character references)`);
    const code = m[1]!.startsWith('x') ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
    if (code > 0x10ffff || code === 0) throw new XmlError(`character reference "&${ref};" near offset ${at} is out of range`);
    return String.fromCodePoint(code);
  });
}

function parseAttributes(text: string, at: number): Map<string, string> {
  const attributes = new Map<string, string>();
  const re = /\s*([^\s=/>]+)\s*=\s*("([^"<]*)"|'([^'<]*)')/y;
  let i = 0;
  while (i < text.length) {
    if (/^\s*$/.test(text.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new XmlError(`malformed attribute near offset ${at + i}`);
    const name = m[1]!;
    if (!NAME.test(name)) throw new XmlError(`bad attribute name "${name.slice(0, 40)}" near offset ${at + i}`);
    if (attributes.has(localName(name)) && !name.startsWith('xmlns')) throw new XmlError(`duplicate attribute "${name}" near offset ${at + i}`);
    attributes.set(localName(name), decodeEntities(m[3] ?? m[4] ?? '', at + i));
    i = re.lastIndex;
  }
  return attributes;
}

/** Parses a whole document into an element tree; throws XmlError on anything it refuses. */
export function parseXml(doc: string, maxChars: number): XmlElement {
  if (doc.length > maxChars) throw new XmlError(`document is ${doc.length} characters, over the ${maxChars} limit`);
  let i = doc.charCodeAt(0) === 0xfeff ? 1 : 0;
  let root: XmlElement | undefined;
  let current: XmlElement | undefined;
  let depth = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const textEnd = lt < 0 ? doc.length : lt;
    if (textEnd > i) {
      const text = doc.slice(i, textEnd);
      if (current) current.text += decodeEntities(text, i);
      else if (text.trim() !== '') throw new XmlError(`text outside the root element near offset ${i}`);
    }
    if (lt < 0) break;
    if (doc.startsWith('<?', lt)) {
      const end = doc.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlError(`unterminated processing instruction at offset ${lt}`);
      i = end + 2;
    } else if (doc.startsWith('<!--', lt)) {
      const end = doc.indexOf('-->', lt + 4);
      if (end < 0) throw new XmlError(`unterminated comment at offset ${lt}`);
      i = end + 3;
    } else if (doc.startsWith('<![CDATA[', lt)) {
      const end = doc.indexOf(']]>', lt + 9);
      if (end < 0 || !current) throw new XmlError(`bad CDATA section at offset ${lt}`);
      current.text += doc.slice(lt + 9, end);
      i = end + 3;
    } else if (doc.startsWith('<!', lt)) {
      // DOCTYPE, ENTITY, ELEMENT, ATTLIST: a POX document has none, and refusing them is what
      // makes entity expansion impossible.
      throw new XmlError(`declaration "${doc.slice(lt, lt + 12)}" at offset ${lt} is not allowed (no DTDs or entities)`);
    } else if (doc.startsWith('</', lt)) {
      const end = doc.indexOf('>', lt);
      if (end < 0) throw new XmlError(`unterminated end tag at offset ${lt}`);
      const qname = doc.slice(lt + 2, end).trim();
      if (!current || localName(qname) !== current.name) throw new XmlError(`end tag </${qname.slice(0, 40)}> at offset ${lt} does not match ${current ? `<${current.name}>` : 'any open element'}`);
      current.end = end + 1;
      current = current.parent;
      depth--;
      i = end + 1;
    } else {
      const end = doc.indexOf('>', lt);
      if (end < 0) throw new XmlError(`unterminated tag at offset ${lt}`);
      let inner = doc.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const nameMatch = /^[^\s/>]+/.exec(inner);
      const qname = nameMatch?.[0] ?? '';
      if (!NAME.test(qname)) throw new XmlError(`bad element name "${qname.slice(0, 40)}" at offset ${lt}`);
      if (!current && root) throw new XmlError(`second root element <${qname}> at offset ${lt}`);
      if (++depth > MAX_DEPTH) throw new XmlError(`elements nested deeper than ${MAX_DEPTH} at offset ${lt}`);
      const element: XmlElement = {
        name: localName(qname), attributes: parseAttributes(inner.slice(qname.length), lt + 1 + qname.length),
        start: lt, end: end + 1, parent: current, children: [], text: '',
      };
      if (current) current.children.push(element);
      else root = element;
      if (selfClosing) depth--;
      else current = element;
      i = end + 1;
    }
  }
  if (!root) throw new XmlError('no root element');
  if (current) throw new XmlError(`element <${current.name}> is not closed`);
  return root;
}

/** Every element below (and including) `root` with this local name, in document order. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name) out.push(e);
    for (const c of e.children) walk(c);
  };
  walk(root);
  return out;
}
