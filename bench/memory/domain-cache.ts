// Bytes of JS heap per cached MailDomain (run with --expose-gc), Ready ones as a hoster's
// operator leaves them: the namespaced cache the controllers read, then — as the operator
// has it with --namespace / watchNamespaces — a second, cluster-wide cache of the same objects
// for host claims across namespaces, kept whole, without status, or without status and sharing
// each version's metadata and spec with the first (now). The second
// cache is measured on top of the first, so strings and condition lists the first already
// pooled are not counted twice, as in the operator.
// Each variant of the second cache is measured in a process of its own. Prints one JSON line:
// { domains, bytesPerMailDomain: { namespaced: bytes, variant: bytes the second cache adds } }.
//
//   node --expose-gc bench/memory/domain-cache.ts [--domains 5000] [--variant NAME]
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/kube/index.ts';
import { Informer, cacheTransform, dropStatus } from '../../src/kube/informer.ts';
import { compactMailDomain } from '../../src/controllers/cluster-view.ts';
import { requestTransform } from '../../src/kube/manager.ts';
import { mailDomainStatusPacker } from '../../src/controllers/maildomain/packed-status.ts';
import { fakeApi, mailDomain, MAILDOMAINS } from './fixtures.ts';
import { positiveInteger } from '../measure.ts';
import { eachVariantInItsOwnProcess, settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { domains: { type: 'string', default: '5000' }, variant: { type: 'string' } } });
const n = positiveInteger('domains', values.domains!);

const items = Array.from({ length: n }, (_, i) => mailDomain(i));
const api = fakeApi(items, 500, MAILDOMAINS.plural);
items.length = 0; // only the JSON pages stay, as in a response body

async function cache(transform: (o: KubeObject) => KubeObject, namespaces: string[]): Promise<Informer> {
  const inf = new Informer({ client: api.client, resource: MAILDOMAINS, namespaces, transform, watchTimeoutSeconds: 3600 });
  inf.start();
  await inf.waitForSync();
  if (inf.list().length !== n) throw new Error(`cached ${inf.list().length} of ${n}`);
  return inf;
}

const SECOND_CACHE = {
  clusterWideWhole: { first: cacheTransform, second: cacheTransform },
  clusterWideWithoutStatus: { first: cacheTransform, second: (o: KubeObject) => cacheTransform(dropStatus(o)) },
  // What ClusterView asks for: both caches through the MailDomain compact transform, the second
  // to take in a version sharing the first's metadata and spec (VersionTwins).
  clusterWideTwins: { first: (o: KubeObject) => compactMailDomain(cacheTransform(o)), second: (o: KubeObject) => compactMailDomain(cacheTransform(dropStatus(o))) },
  // The same, each status in the namespaced cache kept deflated (FieldPacker): the informer
  // requests' own transforms.
  packedStatus: { first: requestTransform({ compact: compactMailDomain, pack: mailDomainStatusPacker }), second: requestTransform({ withoutStatus: true, compact: compactMailDomain }) },
} as const;

if (values.variant === undefined) {
  // Each variant in a process of its own (see eachVariantInItsOwnProcess), merged into one line.
  // What the second cache adds is what both hold less what the namespaced cache holds alone
  // (measured where it takes the plain transform): with twins, the first cache holds each
  // version's parts for the second until it takes them, so its own figure counts them.
  const lines = eachVariantInItsOwnProcess(import.meta.filename, Object.keys(SECOND_CACHE)) as Array<{ bytesPerMailDomain: Record<string, number>; bothCaches: Record<string, number> }>;
  const namespaced = lines.find((l) => 'clusterWideWithoutStatus' in l.bytesPerMailDomain)!.bytesPerMailDomain.namespaced!;
  const out: Record<string, number> = { namespaced };
  for (const l of lines) for (const [variant, both] of Object.entries(l.bothCaches)) out[variant] = both - namespaced;
  // With the status packed the namespaced cache itself is smaller: its own figure, and both.
  const packed = lines.find((l) => 'packedStatus' in l.bytesPerMailDomain)!;
  out.namespacedPacked = packed.bytesPerMailDomain.namespaced!;
  out.bothPacked = packed.bothCaches.packedStatus!;
  process.stdout.write(`${JSON.stringify({ domains: n, bytesPerMailDomain: out })}\n`);
} else {
  const transforms = SECOND_CACHE[values.variant as keyof typeof SECOND_CACHE];
  if (!transforms) throw new Error(`--variant ${values.variant}: pass one of ${Object.keys(SECOND_CACHE).join(', ')}`);
  const base = settledHeapUsed();
  const namespaced = await cache(transforms.first, ['tenant-a']);
  const withFirst = settledHeapUsed();
  const second = await cache(transforms.second, []);
  const both = settledHeapUsed();
  const out = { namespaced: Math.round((withFirst - base) / n), [values.variant]: Math.round((both - withFirst) / n) };
  await second.stop();
  await namespaced.stop();
  process.stdout.write(`${JSON.stringify({ domains: n, bytesPerMailDomain: out, bothCaches: { [values.variant]: Math.round((both - base) / n) } })}\n`);
}
