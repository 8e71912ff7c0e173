// The MAPI access list the operator publishes (format `mapi-operator.io/access/v1`, documented in
// docs/access-format.md) and the decision it implies for an address. Pure: parsing and deciding
// only; reading the mounted directory is access-reader.ts.

export const ACCESS_LIST_FORMAT = 'mapi-operator.io/access/v1';
export const ACCESS_INDEX_FILE = 'access.json';
const MAX_SHARDS = 64;
const SHARD_FILE = /^[A-Za-z0-9._-]+\.json$/;

export interface AccessIndex {
  server: string;
  /** Lower-cased domain (or alias) → its domain-wide switch. */
  domains: Map<string, boolean>;
  shardFiles: string[];
}

export interface AccessList {
  server: string;
  domains: Map<string, boolean>;
  /** shards[i]: lower-cased address → effective MAPI setting; an address lives in shard fnv1a32(address) mod count. */
  shards: Map<string, boolean>[];
}

export type Decision =
  | { allow: true; reason: 'enabled' | 'unknown-domain' | 'no-list' | 'unattributed' }
  | { allow: false; reason: 'domain-disabled' | 'mailbox-disabled' };

export class AccessListError extends Error {}

function fail(file: string, field: string, fix: string): never {
  throw new AccessListError(`${file}: ${field} ${fix}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses `access.json`; every error names the field and what it should be. */
export function parseAccessIndex(text: string, file = ACCESS_INDEX_FILE): AccessIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(file, 'content', `is not JSON (${(err as Error).message}); the operator writes it, check the ConfigMap`);
  }
  if (!isRecord(doc)) fail(file, 'content', 'must be a JSON object');
  if (doc.format !== ACCESS_LIST_FORMAT) fail(file, 'format', `is ${JSON.stringify(doc.format)}; this gatekeeper reads only "${ACCESS_LIST_FORMAT}" (upgrade the gatekeeper image with the operator)`);
  if (typeof doc.server !== 'string') fail(file, 'server', 'must be the MapiServer name (a string)');
  if (!isRecord(doc.domains)) fail(file, 'domains', 'must be an object from domain to {"mapiEnabled": boolean}');
  const domains = new Map<string, boolean>();
  for (const [name, entry] of Object.entries(doc.domains)) {
    if (!isRecord(entry) || typeof entry.mapiEnabled !== 'boolean') fail(file, `domains["${name}"].mapiEnabled`, 'must be true or false');
    domains.set(name.toLowerCase(), entry.mapiEnabled);
  }
  if (!isRecord(doc.shards)) fail(file, 'shards', 'must be {"count": n, "files": [...]}');
  const count = doc.shards.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SHARDS || (count & (count - 1)) !== 0) {
    fail(file, 'shards.count', `is ${JSON.stringify(count)}; must be a power of two from 1 to ${MAX_SHARDS}`);
  }
  const files = doc.shards.files;
  if (!Array.isArray(files) || files.length !== count) fail(file, 'shards.files', `must list exactly shards.count (${count}) file names`);
  for (const [i, f] of files.entries()) {
    // A file name only: the list must never make the reader open anything outside its directory.
    if (typeof f !== 'string' || !SHARD_FILE.test(f) || f.startsWith('..')) fail(file, `shards.files[${i}]`, `is ${JSON.stringify(f)}; must be a plain file name such as "mailboxes-${i}.json"`);
  }
  return { server: doc.server, domains, shardFiles: files as string[] };
}

/** Parses one shard file: lower-cased address → effective setting. */
export function parseAccessShard(text: string, file: string): Map<string, boolean> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(file, 'content', `is not JSON (${(err as Error).message})`);
  }
  if (!isRecord(doc)) fail(file, 'content', 'must be an object from address to true/false');
  const shard = new Map<string, boolean>();
  for (const [address, enabled] of Object.entries(doc)) {
    if (typeof enabled !== 'boolean') fail(file, `["${address}"]`, 'must be true or false');
    shard.set(address.toLowerCase(), enabled);
  }
  return shard;
}

/** FNV-1a, 32-bit, over the UTF-8 bytes (the operator's shard function). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** The decision rule of docs/access-format.md for one address. */
export function decideAddress(list: AccessList | undefined, address: string): Decision {
  if (!list) return { allow: true, reason: 'no-list' };
  const domainDecision = decideDomain(list, domainOf(address));
  if (!domainDecision.allow || domainDecision.reason === 'unknown-domain') return domainDecision;
  const lower = address.toLowerCase();
  const shard = list.shards[fnv1a32(lower) % list.shards.length];
  if (shard?.get(lower) === false) return { allow: false, reason: 'mailbox-disabled' };
  return { allow: true, reason: 'enabled' };
}

/** The domain switch alone (a MAPI request whose mailbox is not known yet). */
export function decideDomain(list: AccessList | undefined, domain: string): Decision {
  if (!list) return { allow: true, reason: 'no-list' };
  const enabled = list.domains.get(domain.toLowerCase());
  if (enabled === undefined) return { allow: true, reason: 'unknown-domain' };
  if (!enabled) return { allow: false, reason: 'domain-disabled' };
  return { allow: true, reason: 'enabled' };
}

/** Who a MAPI request is for, as far as it can be told. */
export interface Attribution {
  /** From `MailboxId=<guid>@<domain>`. */
  domain?: string;
  /** Addresses: the one learned for the MailboxId GUID, and the authenticated user's. */
  addresses: string[];
}

/** A request is refused when any address it is attributed to, or its domain, is switched off. */
export function decideAttribution(list: AccessList | undefined, who: Attribution): Decision {
  if (!list) return { allow: true, reason: 'no-list' };
  let allowed: Decision | undefined;
  for (const address of who.addresses) {
    const d = decideAddress(list, address);
    if (!d.allow) return d;
    allowed ??= d;
  }
  if (who.domain !== undefined) {
    const d = decideDomain(list, who.domain);
    if (!d.allow) return d;
    allowed ??= who.addresses.length > 0 || d.reason === 'unknown-domain' ? d : { allow: true, reason: 'unattributed' };
  }
  return allowed ?? { allow: true, reason: 'unattributed' };
}
