// Bytes of JS heap per cached child of a MailDomain (run with --expose-gc): its autodiscover
// Certificate (issued) and Ingress, as the operator's informers hold them, whole and with their
// spec and status packed (packed-children.ts), and what reading one back costs (its spec and
// status, as a reconcile reads them: best of 5 passes over all of them). Each variant in a
// process of its own. Prints one JSON line:
// { children, bytesPerObject: { certificate, certificatePacked, ingress, ingressPacked }, readMicros: { … } }.
//
//   node --expose-gc bench/memory/children-cache.ts [--children 5000] [--variant NAME]
import { parseArgs } from 'node:util';
import type { KubeObject } from '../../src/kube/index.ts';
import { Informer } from '../../src/kube/informer.ts';
import { requestTransform } from '../../src/kube/manager.ts';
import { CERTIFICATES, INGRESSES } from '../../src/controllers/resources.ts';
import { certificatePacker, ingressPacker } from '../../src/controllers/packed-children.ts';
import { autodiscoverCertificate, autodiscoverIngress, fakeApi } from './fixtures.ts';
import { positiveInteger } from '../measure.ts';
import { eachVariantInItsOwnProcess, settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { children: { type: 'string', default: '5000' }, variant: { type: 'string' } } });
const n = positiveInteger('children', values.children!);

const VARIANTS = {
  certificate: { resource: CERTIFICATES, make: autodiscoverCertificate, transform: requestTransform({}) },
  certificatePacked: { resource: CERTIFICATES, make: autodiscoverCertificate, transform: requestTransform({ pack: certificatePacker }) },
  ingress: { resource: INGRESSES, make: autodiscoverIngress, transform: requestTransform({}) },
  ingressPacked: { resource: INGRESSES, make: autodiscoverIngress, transform: requestTransform({ pack: ingressPacker }) },
} as const;

if (values.variant === undefined) {
  const lines = eachVariantInItsOwnProcess(import.meta.filename, Object.keys(VARIANTS)) as Array<{ bytesPerObject: Record<string, number>; readMicros: Record<string, number> }>;
  const bytes: Record<string, number> = {};
  const reads: Record<string, number> = {};
  for (const l of lines) {
    Object.assign(bytes, l.bytesPerObject);
    Object.assign(reads, l.readMicros);
  }
  process.stdout.write(`${JSON.stringify({ children: n, bytesPerObject: bytes, readMicros: reads })}\n`);
} else {
  const v = VARIANTS[values.variant as keyof typeof VARIANTS];
  if (!v) throw new Error(`--variant ${values.variant}: pass one of ${Object.keys(VARIANTS).join(', ')}`);
  const items = Array.from({ length: n }, (_, i) => v.make(i));
  const api = fakeApi(items, 500, v.resource.plural);
  items.length = 0; // only the JSON pages stay, as in a response body
  const base = settledHeapUsed();
  const inf = new Informer({ client: api.client, resource: v.resource, namespaces: ['tenant-a'], transform: (o: KubeObject) => v.transform(o), watchTimeoutSeconds: 3600 });
  inf.start();
  await inf.waitForSync();
  if (inf.list().length !== n) throw new Error(`cached ${inf.list().length} of ${n}`);
  const held = settledHeapUsed() - base;
  const cached = inf.list();
  let best = Infinity;
  let sink = 0;
  for (let pass = 0; pass < 5; pass++) {
    const start = performance.now();
    for (const o of cached) {
      const { spec, status } = o as KubeObject & { spec?: object; status?: object };
      if (spec && status) sink++;
    }
    best = Math.min(best, performance.now() - start);
  }
  if (sink !== 5 * n) throw new Error(`read ${sink} of ${5 * n}`);
  await inf.stop();
  process.stdout.write(`${JSON.stringify({ bytesPerObject: { [values.variant]: Math.round(held / n) }, readMicros: { [values.variant]: Number(((best * 1000) / n).toFixed(2)) } })}\n`);
}
