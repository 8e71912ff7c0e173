// Bytes of JS heap per Mailbox that the Mailbox controller keeps of its server's access list
// (run with --expose-gc): every shard ConfigMap as the builder writes it, read the way the
// controller reads it (readAccessConfigMap, a Map per shard), against the shards parsed into
// plain objects (what it kept before), in the same process on the same ConfigMaps.
// With the address strings the cache already holds as keys (what the controller passes now).
// Prints one JSON line: { mailboxes, configMaps, bytesPerMailbox: { parsedObjects, readAccessConfigMap, withCachedAddresses } }.
//
//   node --expose-gc bench/memory/access-entries.ts [--mailboxes 100000]
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/kube/index.ts';
import { desiredAccessConfigMaps, entryAddress } from '../../src/builders/access.ts';
import { parseMapiServerSpec } from '../../src/api/parse.ts';
import { readAccessConfigMap } from '../../src/controllers/mailbox/controller.ts';
import { accessInput } from '../access-list.ts';
import { positiveInteger } from '../measure.ts';
import { settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { mailboxes: { type: 'string', default: '100000' } } });
const n = positiveInteger('mailboxes', values.mailboxes!);

const spec = parseMapiServerSpec({ externalHost: 'mail.hoster.example', image: 'registry.example/bm-mapi:5.3.0', tls: { issuerRef: { name: 'letsencrypt' } } });
if (!spec.ok) throw new Error(spec.message);
const server = { apiVersion: 'mapi-operator.io/v1alpha2' as const, kind: 'MapiServer' as const, metadata: { name: 'bluemind', namespace: 'mail', uid: 'u' }, spec: spec.value };
const input = accessInput(n);
// Copies of the ConfigMaps, as the informer holds what the watch decoded: a set per way of
// reading them (readAccessConfigMap keeps what it read per ConfigMap object).
const built = desiredAccessConfigMaps(server, input);
const copies = () => built.map((cm) => JSON.parse(JSON.stringify(cm)) as KubeObject);
// The address strings the Mailbox controller's cache already holds (its Mailboxes' specs).
const cachedAddresses = new Map(input.mailboxes.map((m) => { const a = entryAddress(m).toLowerCase(); return [a, a]; }));

function kept(read: (cm: KubeObject) => unknown): number {
  const configMaps = copies();
  const before = settledHeapUsed();
  const held = configMaps.map(read);
  const bytes = settledHeapUsed() - before;
  if (held.length !== configMaps.length) throw new Error('nothing kept');
  return Math.round(bytes / n);
}

const parsedObjects = kept((cm) => Object.entries((cm as { data?: Record<string, string> }).data ?? {}).filter(([k]) => k.startsWith('mailboxes-')).map(([, v]) => JSON.parse(v) as unknown));
const own = kept((cm) => readAccessConfigMap(cm));
const canonical = kept((cm) => readAccessConfigMap(cm, (a) => cachedAddresses.get(a) ?? a));
process.stdout.write(`${JSON.stringify({ mailboxes: n, configMaps: built.length, bytesPerMailbox: { parsedObjects, readAccessConfigMap: own, withCachedAddresses: canonical } })}\n`);
