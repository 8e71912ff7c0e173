// Bytes of JS heap per Mailbox that the Mailbox controller keeps of its server's access list
// (run with --expose-gc): every shard ConfigMap as the builder writes it, read the way the
// controller reads it (readAccessConfigMap, a Map per shard), against the shards parsed into
// plain objects (what it kept before), in the same process on the same ConfigMaps.
// Prints one JSON line: { mailboxes, configMaps, bytesPerMailbox: { parsedObjects, readAccessConfigMap } }.
//
//   node --expose-gc bench/memory/access-entries.ts [--mailboxes 100000]
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/kube/index.ts';
import { desiredAccessConfigMaps } from '../../src/builders/access.ts';
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
// Copies of the ConfigMaps, as the informer holds what the watch decoded.
const configMaps = desiredAccessConfigMaps(server, accessInput(n)).map((cm) => JSON.parse(JSON.stringify(cm)) as KubeObject);

function kept(read: (cm: KubeObject) => unknown): number {
  const before = settledHeapUsed();
  const held = configMaps.map(read);
  const bytes = settledHeapUsed() - before;
  if (held.length !== configMaps.length) throw new Error('nothing kept');
  return Math.round(bytes / n);
}

const parsedObjects = kept((cm) => Object.entries((cm as { data?: Record<string, string> }).data ?? {}).filter(([k]) => k.startsWith('mailboxes-')).map(([, v]) => JSON.parse(v) as unknown));
const now = kept((cm) => readAccessConfigMap(cm));
process.stdout.write(`${JSON.stringify({ mailboxes: n, configMaps: configMaps.length, bytesPerMailbox: { parsedObjects, readAccessConfigMap: now } })}\n`);
