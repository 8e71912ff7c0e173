// The MAPI access list of one MapiServer (`mapi-operator.io/access/v1`, docs/access-format.md):
// every hosted domain's switch in an index, every Mailbox's effective switch in shards keyed by
// a hash of the address. The gatekeeper in each MAPI pod reads it from a projected volume.
//
// Sizing: a ConfigMap holds 1 MiB and 100,000 mailboxes take 3 to 4 MiB of JSON, so big
// lists are split, but only as far as the content needs: the shard count is the smallest power
// of two (1 … 64) that keeps every shard under 256 KiB, and a list of one shard lives in the
// index ConfigMap itself. The pod template lists all 64 possible shard ConfigMaps as optional
// sources, so it never changes when the list grows or shrinks.
//
// This runs on every change of any Mailbox of the server, at up to hundreds of thousands of
// mailboxes: one pass to hash and size, one sort per shard, one join per shard.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { MapiServer } from '../api/mapiserver.ts';
import { accessShardName, childMetadata, serverChildNames } from './names.ts';

export const ACCESS_FORMAT = 'mapi-operator.io/access/v1';
export const ACCESS_INDEX_KEY = 'access.json';
export const MAX_ACCESS_SHARDS = 64;
/** A shard stays under a quarter of a ConfigMap, so a list grows a long way before it is re-split. */
export const ACCESS_SHARD_LIMIT_BYTES = 256 * 1024;
/** The apiserver's limit on a ConfigMap's data (keys and values together). */
export const CONFIGMAP_DATA_LIMIT_BYTES = 1024 * 1024;

export interface AccessListInput {
  /** The MailDomains the server accepted. */
  domains: { name: string /* MailDomain name */; domains: string[] /* domain + aliases */; mapiEnabled: boolean }[];
  /** Every Mailbox of those domains; an address alone means MAPI on (the common case: the
   *  MapiServer controller keeps this list, and at 100,000 Mailboxes an object per entry was
   *  4.6 MiB of its memory, a heap snapshot at 5,000 MailDomains). */
  mailboxes: AccessEntry[];
}

/** A Mailbox in the access list: its address (MAPI on), or its address and effective value. */
export type AccessEntry = string | { address: string; mapiEnabled: boolean /* effective: domain AND mailbox */ };
export const entryAddress = (e: AccessEntry): string => (typeof e === 'string' ? e : e.address);
export const entryMapiEnabled = (e: AccessEntry): boolean => typeof e === 'string' || e.mapiEnabled;

/** The file contents of the list, before they are wrapped in ConfigMaps. */
export interface AccessListFiles {
  /** Power of two, 1 … 64. */
  count: number;
  /** access.json */
  index: string;
  /** shards[i] is mailboxes-<i>.json. */
  shards: string[];
}

export const accessShardKey = (i: number): string => `mailboxes-${i}.json`;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text` as given. */
export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Nearly every address is ASCII, whose UTF-8 bytes are its char codes: no Buffer needed.
    if (c > 0x7f) return fnv1a32Bytes(Buffer.from(text, 'utf8'));
    h = Math.imul(h ^ c, FNV_PRIME) >>> 0;
  }
  return h;
}

function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME) >>> 0;
  return h;
}

/** The shard an address lives in: fnv1a32(lowercase(address)) mod count. */
export function shardOf(address: string, count: number): number {
  return fnv1a32(address.toLowerCase()) % count;
}

/** All 64 possible shard ConfigMaps, in shard order: the pod template lists each as optional. */
export function accessShardNames(server: Pick<MapiServer, 'metadata'>): string[] {
  return Array.from({ length: MAX_ACCESS_SHARDS }, (_, i) => accessShardName(server, i));
}

/**
 * One JSON member `"address":flag` per mailbox, with the bytes it adds to a shard and the
 * shard it belongs to at 64 shards (the shard at any smaller power of two follows from it).
 */
interface Entries {
  members: string[];
  bucket64: Uint8Array;
  /** Bytes of the 64-shard buckets, each member counted with its separating comma. */
  bytes64: Float64Array;
  count64: Uint32Array;
}

function entriesOf(mailboxes: AccessListInput['mailboxes']): Entries {
  const n = mailboxes.length;
  const members = new Array<string>(n);
  const bucket64 = new Uint8Array(n);
  const bytes64 = new Float64Array(MAX_ACCESS_SHARDS);
  const count64 = new Uint32Array(MAX_ACCESS_SHARDS);
  for (let i = 0; i < n; i++) {
    const m = mailboxes[i]!;
    const address = entryAddress(m).toLowerCase();
    const flag = entryMapiEnabled(m) ? 'true' : 'false';
    // Hash and check in one pass: plain printable ASCII needs no JSON escaping and is its own
    // UTF-8, so the member is a concatenation and its size is its length.
    let h = FNV_OFFSET;
    let plain = true;
    for (let j = 0; j < address.length; j++) {
      const c = address.charCodeAt(j);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) { plain = false; break; }
      h = Math.imul(h ^ c, FNV_PRIME) >>> 0;
    }
    let member: string;
    let bytes: number;
    if (plain) {
      // Joined rather than a template: a template of this length makes a rope, which the sort
      // below then flattens comparison by comparison (4x the time of the whole sort).
      member = ['"', address, '":', flag].join('');
      bytes = member.length;
    } else {
      h = fnv1a32(address);
      member = [JSON.stringify(address), ':', flag].join('');
      bytes = Buffer.byteLength(member, 'utf8');
    }
    const b = h & (MAX_ACCESS_SHARDS - 1);
    members[i] = member;
    bucket64[i] = b;
    bytes64[b]! += bytes + 1;
    count64[b]! += 1;
  }
  return { members, bucket64, bytes64, count64 };
}

/** Largest shard, in bytes, if the list were split into `count` shards. */
function largestShardBytes(e: Entries, count: number): number {
  let largest = 0;
  for (let s = 0; s < count; s++) {
    let bytes = 0;
    let members = 0;
    for (let b = s; b < MAX_ACCESS_SHARDS; b += count) {
      bytes += e.bytes64[b]!;
      members += e.count64[b]!;
    }
    // "{" + members joined by "," + "}": one comma fewer than members.
    largest = Math.max(largest, bytes + 2 - (members > 0 ? 1 : 0));
  }
  return largest;
}

function indexJson(server: Pick<MapiServer, 'metadata'>, domains: AccessListInput['domains'], count: number): string {
  const byName = new Map<string, { mapiEnabled: boolean; mailDomain: string }>();
  // A domain two MailDomains both list (the controller should not let that happen) resolves
  // the same way whatever the input order: switched off wins, then the first MailDomain by name.
  const sorted = [...domains].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const md of sorted) {
    for (const raw of md.domains) {
      const domain = raw.toLowerCase();
      const seen = byName.get(domain);
      if (!seen || (seen.mapiEnabled && !md.mapiEnabled)) byName.set(domain, { mapiEnabled: md.mapiEnabled, mailDomain: md.name });
    }
  }
  // Keys in sorted order at every level (what stableJson would write, without its generic walk
  // on this hot path): an unchanged list is the same bytes, so nothing is re-applied.
  const domainMembers = [...byName.keys()]
    .sort()
    .map((d) => `${JSON.stringify(d)}:{"mailDomain":${JSON.stringify(byName.get(d)!.mailDomain)},"mapiEnabled":${byName.get(d)!.mapiEnabled}}`);
  const files = Array.from({ length: count }, (_, i) => JSON.stringify(accessShardKey(i)));
  return `{"domains":{${domainMembers.join(',')}},"format":${JSON.stringify(ACCESS_FORMAT)},"server":${JSON.stringify(server.metadata.name)},"shards":{"count":${count},"files":[${files.join(',')}]}}\n`;
}

function shardJson(members: string[]): string {
  // Default sort compares UTF-16 units, which for `"address":flag` members is address order;
  // the two members of an address listed twice end up adjacent, `false` first.
  members.sort();
  let unique = members;
  for (let i = 1; i < members.length; i++) {
    if (sameAddress(members[i - 1]!, members[i]!)) {
      // A second Mailbox with the same address cannot switch MAPI back on: the first (false) stays.
      unique = members.filter((m, j) => j === 0 || !sameAddress(members[j - 1]!, m));
      break;
    }
  }
  return `{${unique.join(',')}}`;
}

/** `"a":false` then `"a":true` (or the same member twice); `":` ends an address, escaped inside one. */
function sameAddress(previous: string, member: string): boolean {
  if (previous === member) return true;
  return previous.length === member.length + 1 && member.endsWith(':true') && previous.startsWith(member.slice(0, -4));
}

// What was last built from an input, kept with it: a caller that passes the same input object
// again (the MapiServer controller does while no Mailbox or MailDomain of the server changed)
// gets the same files and ConfigMaps without hashing and sorting 100,000 addresses again, and
// the same objects, whose applied hash the controller then need not compute again either.
// Inputs are only read here, never changed, so the same object always means the same list.
const built = new WeakMap<AccessListInput, { owner: string; files: AccessListFiles; configMaps?: V1ConfigMap[] }>();
const ownerOf = (server: Pick<MapiServer, 'metadata'>): string => `${server.metadata.namespace}/${server.metadata.name}/${server.metadata.uid}`;

/** The files of the list: the index and `count` shards, each shard under 256 KiB where 64 shards allow it. */
export function accessListFiles(server: Pick<MapiServer, 'metadata'>, input: AccessListInput): AccessListFiles {
  const owner = ownerOf(server);
  const held = built.get(input);
  if (held && held.owner === owner) return held.files;
  const files = keepUnchangedFiles(server, buildAccessListFiles(server, input));
  built.set(input, { owner, files });
  return files;
}

// The files last built per server ("namespace/name"). A Mailbox switched off changes one shard,
// an alias only the index; a rebuild makes every file anew, and the cache keeps the strings of
// the build it adopted (adoptBuiltAccessData) because the unchanged ConfigMaps are not applied
// again: every unchanged shard was then held twice, by the cache and by the new build (~4.7 MiB
// at 5,000 MailDomains and 100,000 Mailboxes, a heap snapshot after one alias and one Mailbox
// changed). Held strongly, so that no collection between two builds can break the chain: the
// last build is what the controller holds anyway; forgetAccessFiles drops a deleted server's.
const lastFiles = new Map<string, AccessListFiles>();

/** `files`, with each file equal to the last build's for this server replaced by that string. */
function keepUnchangedFiles(server: Pick<MapiServer, 'metadata'>, files: AccessListFiles): AccessListFiles {
  const key = `${server.metadata.namespace}/${server.metadata.name}`;
  const last = lastFiles.get(key);
  lastFiles.set(key, files);
  if (!last) return files;
  if (last.index === files.index) files.index = last.index;
  if (last.count === files.count) {
    for (let i = 0; i < files.count; i++) if (last.shards[i] === files.shards[i]) files.shards[i] = last.shards[i]!;
  }
  return files;
}

/** Drops what keepUnchangedFiles holds for a server that is gone. */
export function forgetAccessFiles(namespace: string, name: string): void {
  lastFiles.delete(`${namespace}/${name}`);
}

function buildAccessListFiles(server: Pick<MapiServer, 'metadata'>, input: AccessListInput): AccessListFiles {
  const entries = entriesOf(input.mailboxes);
  let count = 1;
  while (count < MAX_ACCESS_SHARDS && largestShardBytes(entries, count) >= ACCESS_SHARD_LIMIT_BYTES) count *= 2;
  let index = indexJson(server, input.domains, count);
  // One shard shares its ConfigMap with the index; a long index can push the pair over the limit.
  if (count === 1 && dataBytes({ [ACCESS_INDEX_KEY]: index, [accessShardKey(0)]: '' }) + largestShardBytes(entries, 1) > CONFIGMAP_DATA_LIMIT_BYTES) {
    count = 2;
    index = indexJson(server, input.domains, count);
  }
  const buckets: string[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < entries.members.length; i++) buckets[entries.bucket64[i]! & (count - 1)]!.push(entries.members[i]!);
  return { count, index, shards: buckets.map(shardJson) };
}

function dataBytes(data: Record<string, string>): number {
  let n = 0;
  for (const [key, value] of Object.entries(data)) n += key.length + Buffer.byteLength(value, 'utf8');
  return n;
}

/**
 * The ConfigMaps of the list: shard ConfigMaps first, the index last. Applied in this order,
 * the index never names a shard that is not written yet. One shard lives in the index
 * ConfigMap; more live in `<server>-mapi-access-<i>`, and the index ConfigMap then holds only
 * the index. Shard ConfigMaps beyond the count must be deleted: see unneededAccessShardNames.
 */
export function desiredAccessConfigMaps(server: MapiServer, input: AccessListInput): V1ConfigMap[] {
  const files = accessListFiles(server, input);
  const held = built.get(input)!;
  if (!held.configMaps) {
    held.configMaps = buildAccessConfigMaps(server, input, files);
    for (const cm of held.configMaps) rememberBuilt(cm);
  }
  return held.configMaps;
}

// The access ConfigMaps last built, by "namespace/name", held weakly (the memo above holds them
// while their input lives): what the cache's copy of a live one can share its strings with.
const lastBuilt = new Map<string, WeakRef<V1ConfigMap>>();
/** Past this many names, the names whose ConfigMaps are gone are dropped (deleted servers). */
const SWEEP_BUILT_ABOVE = 4_096;

function rememberBuilt(cm: V1ConfigMap): void {
  lastBuilt.set(`${cm.metadata?.namespace}/${cm.metadata?.name}`, new WeakRef(cm));
  if (lastBuilt.size > SWEEP_BUILT_ABOVE) for (const [key, ref] of lastBuilt) if (ref.deref() === undefined) lastBuilt.delete(key);
}

/**
 * A live ConfigMap as the cache takes it in, with each data value that equals what this process
 * last built for it replaced by the built string itself. The apiserver sends back what the
 * operator applied, so the cache and the builder each held a copy of every shard and of the
 * index: ~2.7 MiB of JSON at 5,000 MailDomains and 100,000 Mailboxes (a heap snapshot). The
 * values are compared whole; anything else (a hand edit, another list) is kept as received.
 */
export function adoptBuiltAccessData<T extends { metadata: { namespace?: string; name?: string } }>(obj: T): T {
  const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
  const ref = lastBuilt.get(key);
  if (!ref) return obj;
  const cm = ref.deref();
  if (!cm) {
    lastBuilt.delete(key);
    return obj;
  }
  const data = (obj as { data?: Record<string, string> }).data;
  if (!data || !cm.data) return obj;
  for (const k of Object.keys(data)) {
    const mine = cm.data[k];
    if (mine !== undefined && mine === data[k]) data[k] = mine;
  }
  return obj;
}

function buildAccessConfigMaps(server: MapiServer, input: AccessListInput, files: AccessListFiles): V1ConfigMap[] {
  const indexName = serverChildNames(server).accessConfigMap;
  const configMap = (name: string, data: Record<string, string>): V1ConfigMap => {
    const bytes = dataBytes(data);
    if (bytes > CONFIGMAP_DATA_LIMIT_BYTES) {
      throw new Error(
        `access list of MapiServer ${server.metadata.namespace}/${server.metadata.name}: ConfigMap ${name} would hold ${bytes} bytes, over the ${CONFIGMAP_DATA_LIMIT_BYTES} a ConfigMap holds ` +
          `(${input.mailboxes.length} Mailboxes, ${input.domains.length} MailDomains; ${MAX_ACCESS_SHARDS} shards carry about 400,000 Mailboxes): split the MailDomains across more MapiServers`,
      );
    }
    return { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMetadata(server, name), data };
  };
  if (files.count === 1) return [configMap(indexName, { [ACCESS_INDEX_KEY]: files.index, [accessShardKey(0)]: files.shards[0]! })];
  return [
    ...files.shards.map((shard, i) => configMap(accessShardName(server, i), { [accessShardKey(i)]: shard })),
    configMap(indexName, { [ACCESS_INDEX_KEY]: files.index }),
  ];
}

/** Names of the ConfigMaps the list needs for this input (the index first). */
export function accessConfigMapNames(server: MapiServer, input: AccessListInput): string[] {
  const { count } = accessListFiles(server, input);
  const shards = count === 1 ? [] : Array.from({ length: count }, (_, i) => accessShardName(server, i));
  return [serverChildNames(server).accessConfigMap, ...shards];
}

/**
 * The possible shard ConfigMaps that the desired list does not include: the controller deletes
 * those it owns, after applying the desired ones (so a shrinking list never names a missing file).
 */
export function unneededAccessShardNames(server: Pick<MapiServer, 'metadata'>, desired: V1ConfigMap[]): string[] {
  const wanted = new Set(desired.map((cm) => cm.metadata?.name));
  return accessShardNames(server).filter((name) => !wanted.has(name));
}

// Read once per version of the live index: with thousands of domains it is hundreds of KiB
// of JSON, and a cached object never changes (the informer replaces it).
const liveCounts = new WeakMap<V1ConfigMap, number | undefined>();

/** The shard count a live index ConfigMap declares; undefined when there is none or it cannot be read. */
export function liveAccessShardCount(index: V1ConfigMap | undefined): number | undefined {
  if (!index) return undefined;
  if (liveCounts.has(index)) return liveCounts.get(index);
  const count = readShardCount(index);
  liveCounts.set(index, count);
  return count;
}

function readShardCount(index: V1ConfigMap): number | undefined {
  const text = index.data?.[ACCESS_INDEX_KEY];
  if (!text) return undefined;
  try {
    const count = (JSON.parse(text) as { shards?: { count?: unknown } }).shards?.count;
    return typeof count === 'number' && Number.isInteger(count) && count >= 1 ? count : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The order to apply the list in, given the count the live index declares, so a pod that
 * picks up the volume between two writes never reads a shard of one split through the
 * index of another:
 * - growing (count up): the index first. It names shards that do not exist yet, and a
 *   reader keeps its last good list while a listed file is missing; the old shards it still
 *   finds hold a superset of what the new split puts there.
 * - otherwise: the shards first, the index last (desiredAccessConfigMaps' order). Shrinking,
 *   the new shards are supersets of the old ones the old index reads; from several shards to
 *   one, the index ConfigMap carries its own mailboxes-0.json, which the pod template projects
 *   last so it wins over the old shard ConfigMap of that name.
 * Delete unneededAccessShardNames only after all of these are applied.
 */
export function accessApplyOrder(desired: V1ConfigMap[], liveCount: number | undefined): V1ConfigMap[] {
  const desiredCount = desired.length === 1 ? 1 : desired.length - 1;
  if (liveCount === undefined || desiredCount <= liveCount) return desired;
  return [desired.at(-1)!, ...desired.slice(0, -1)];
}
