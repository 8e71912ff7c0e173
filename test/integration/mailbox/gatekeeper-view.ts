// The access list of a MapiServer as the gatekeeper in a MAPI pod sees it: the server's access
// ConfigMaps projected into one directory in the pod template's source order (a later source
// wins a file name both hold), then parsed with the gatekeeper's own parser and decided with
// its own rule. The Mailbox tests read the list only through this, never by hand.
import assert from 'node:assert/strict';
import type { Kubectl } from '../../../src/dev/kube.ts';
import { shardOf } from '../../../src/builders/access.ts';
import { ACCESS_INDEX_FILE, decideAddress, parseAccessIndex, parseAccessShard, type AccessList, type Decision } from '../../../src/gatekeeper/access-list.ts';

export type AccessCm = {
  metadata: { name: string; resourceVersion: string; ownerReferences?: { kind: string; name: string }[] };
  data?: Record<string, string>;
};

export interface GatekeeperView {
  /** The server's access ConfigMaps that exist (index and shards), by name. */
  cms: Map<string, AccessCm>;
  /** name → resourceVersion: which ConfigMaps a change rewrote. */
  versions: Map<string, string>;
  /** Undefined while there is no index yet. */
  list?: AccessList;
  /** shards.count of the index. */
  count: number;
  /** domain (lower case) → the index's entry, with the MailDomain it belongs to. */
  domains: Record<string, { mapiEnabled: boolean; mailDomain: string }>;
  /** Every address of every shard → its effective value. */
  entries: Map<string, boolean>;
  /** The ConfigMaps the count needs: the index alone for one shard, index + count shards otherwise. */
  neededNames: string[];
  decide(address: string): Decision;
}

const indexName = (server: string) => `${server}-mapi-access`;
const shardCmName = (server: string, i: number) => `${server}-mapi-access-${i}`;
/** The template's projected sources: the 64 possible shards, the index last. */
const projectedOrder = (server: string) => [...Array.from({ length: 64 }, (_, i) => shardCmName(server, i)), indexName(server)];

/** Bytes a ConfigMap's data takes against the apiserver's 1 MiB limit (keys and values). */
export const dataBytes = (cm: AccessCm): number =>
  Object.entries(cm.data ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/** Reads the list once (one LIST of the namespace's ConfigMaps); asserts every address sits in shard shardOf(address, count). */
export async function readAccess(k: Kubectl, namespace: string, server: string): Promise<GatekeeperView> {
  const all = await k.json<{ items: AccessCm[] }>(['get', 'configmaps', '-n', namespace, '-l', `mapi-operator.io/mapiserver=${server}`]);
  const mine = new RegExp(`^${server}-mapi-access(-\\d+)?$`);
  const cms = new Map(all.items.filter((cm) => mine.test(cm.metadata.name)).map((cm) => [cm.metadata.name, cm]));
  const versions = new Map([...cms].map(([n, cm]) => [n, cm.metadata.resourceVersion]));
  const files = new Map<string, string>();
  for (const name of projectedOrder(server)) for (const [file, text] of Object.entries(cms.get(name)?.data ?? {})) files.set(file, text);
  const indexText = files.get(ACCESS_INDEX_FILE);
  const empty: GatekeeperView = { cms, versions, count: 0, domains: {}, entries: new Map(), neededNames: [indexName(server)], decide: (a) => decideAddress(undefined, a) };
  if (indexText === undefined) return empty;
  const index = parseAccessIndex(indexText);
  const raw = JSON.parse(indexText) as { domains: GatekeeperView['domains']; shards: { count: number } };
  const count = raw.shards.count;
  assert.deepEqual(index.shardFiles, Array.from({ length: count }, (_, i) => `mailboxes-${i}.json`), 'shards.files names mailboxes-<i>.json in order');
  const shards = index.shardFiles.map((f) => {
    const text = files.get(f);
    assert.ok(text !== undefined, `${f}, named by the index, is in the projected directory`);
    return parseAccessShard(text, f);
  });
  const entries = new Map<string, boolean>();
  shards.forEach((shard, i) => {
    for (const [address, value] of shard) {
      assert.equal(shardOf(address, count), i, `${address} belongs in shard ${shardOf(address, count)} of ${count}, found in ${i}`);
      entries.set(address, value);
    }
  });
  const list: AccessList = { server: index.server, domains: index.domains, shards };
  return {
    cms, versions, list, count, domains: raw.domains, entries,
    neededNames: count === 1 ? [indexName(server)] : [indexName(server), ...Array.from({ length: count }, (_, i) => shardCmName(server, i))],
    decide: (address) => decideAddress(list, address),
  };
}

/** The ConfigMap a gatekeeper finds an address's shard in. */
export const shardConfigMapOf = (server: string, address: string, count: number): string =>
  count === 1 ? indexName(server) : shardCmName(server, shardOf(address, count));

/** Exactly the ConfigMaps the content needs exist: no leftover shard of an earlier, larger split. */
export const onlyNeeded = (v: GatekeeperView): boolean =>
  v.cms.size === v.neededNames.length && v.neededNames.every((n) => v.cms.has(n));
