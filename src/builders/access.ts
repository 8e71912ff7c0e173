// The per-domain MAPI access list a MAPI server reads (format documented in
// docs/access-format.md). A ConfigMap holds at most 1 MiB, and 100,000 mailboxes take
// about 4 MB of JSON, so the list is split by a hash of the address over a fixed number of
// shard ConfigMaps. The number is fixed so the pod's projected volume never changes: a
// mailbox change rewrites one shard and never restarts a pod.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { MailDomain } from '../api/maildomain.ts';
import { childMetadata, childNames } from './names.ts';
import { mailDomains } from './hosts.ts';

export const ACCESS_FORMAT = 'mapi-operator.io/access/v1';
export const ACCESS_SHARDS = 16;
export const ACCESS_INDEX_KEY = 'access.json';

export interface MailboxAccess {
  address: string;
  /** Effective: the domain's mapi.enabled AND the mailbox's mapiEnabled. */
  mapiEnabled: boolean;
}

export const shardName = (base: string, shard: number): string => `${base}-${String(shard).padStart(2, '0')}`;
export const shardKey = (shard: number): string => `mailboxes-${String(shard).padStart(2, '0')}.json`;

/** FNV-1a over the UTF-8 bytes of the lower-cased address: cheap, stable across languages,
 *  well spread. Called for every mailbox on every rebuild of the list, so ASCII addresses
 *  (nearly all) are hashed without allocating a Buffer. */
export function shardOf(address: string): number {
  const lower = address.toLowerCase();
  let h = 0x811c9dc5;
  let ascii = true;
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c > 0x7f) { ascii = false; break; }
    h = Math.imul(h ^ c, 0x01000193) >>> 0;
  }
  if (!ascii) {
    h = 0x811c9dc5;
    for (const byte of Buffer.from(lower, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h % ACCESS_SHARDS;
}

export function accessShardNames(md: Pick<MailDomain, 'metadata' | 'spec'>): string[] {
  const base = childNames(md).accessConfigMap;
  return Array.from({ length: ACCESS_SHARDS }, (_, i) => shardName(base, i));
}

export function desiredAccessConfigMaps(md: MailDomain, mailboxes: MailboxAccess[]): V1ConfigMap[] {
  const base = childNames(md).accessConfigMap;
  const shards: Record<string, boolean>[] = Array.from({ length: ACCESS_SHARDS }, () => ({}));
  // Keys in a stable order (the lower-cased address), so an unchanged list is the same bytes.
  const entries = mailboxes.map((m) => [m.address.toLowerCase(), m.mapiEnabled] as const);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [address, mapiEnabled] of entries) shards[shardOf(address)]![address] = mapiEnabled;
  const index = {
    format: ACCESS_FORMAT,
    domain: md.spec.domain,
    domains: mailDomains(md.spec),
    mapiEnabled: md.spec.mapi.enabled,
    // Mailboxes not listed get this value (Exchange's default: MAPI on).
    defaultMailboxMapiEnabled: md.spec.mapi.enabled,
    shards: shards.map((_, i) => shardKey(i)),
  };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: childMetadata(md, base), data: { [ACCESS_INDEX_KEY]: `${JSON.stringify(index, null, 2)}\n` } },
    ...shards.map((entries, i): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: childMetadata(md, shardName(base, i)),
      data: { [shardKey(i)]: JSON.stringify(entries) },
    })),
  ];
}
