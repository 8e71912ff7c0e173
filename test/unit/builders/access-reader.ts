// A tiny reader of the access list for the tests, written from docs/access-format.md alone:
// the files a projected volume shows for a set of ConfigMaps, the list they make, and the
// decision for an address.
import type { V1ConfigMap } from '@kubernetes/client-node';

/** The files of a projected volume: every source's keys; a later source wins a name (as the kubelet does). */
export function projectedFiles(configMaps: Map<string, V1ConfigMap>, sources: string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of sources) for (const [key, value] of Object.entries(configMaps.get(name)?.data ?? {})) files.set(key, value);
  return files;
}

export interface List {
  domains: Record<string, { mapiEnabled: boolean }>;
  shards: Record<string, boolean>[];
}

/** The list the files make, or `previous` when the index names a missing file (a reader keeps its last good list). */
export function readList(files: Map<string, string>, previous?: List): List | undefined {
  const indexText = files.get('access.json');
  if (indexText === undefined) return previous;
  const index = JSON.parse(indexText) as { format: string; domains: List['domains']; shards: { count: number; files: string[] } };
  if (index.format !== 'mapi-operator.io/access/v1') return previous;
  if (index.shards.files.length !== index.shards.count) throw new Error('shards.files must list shards.count files');
  const shards: Record<string, boolean>[] = [];
  for (const file of index.shards.files) {
    const text = files.get(file);
    if (text === undefined) return previous;
    shards.push(JSON.parse(text) as Record<string, boolean>);
  }
  return { domains: index.domains, shards };
}

/** FNV-1a 32 over UTF-8, byte by byte, independently of the operator's. */
export function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export type Verdict = 'allow' | 'allow-unknown-domain' | 'deny-domain' | 'deny-mailbox';

export function decide(list: List, address: string): Verdict {
  const a = address.toLowerCase();
  const d = a.slice(a.lastIndexOf('@') + 1);
  const domain = list.domains[d];
  if (!domain) return 'allow-unknown-domain';
  if (!domain.mapiEnabled) return 'deny-domain';
  if (list.shards[fnv(a) % list.shards.length]![a] === false) return 'deny-mailbox';
  return 'allow';
}
