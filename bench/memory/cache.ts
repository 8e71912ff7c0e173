// Bytes of JS heap per cached Mailbox, measured in this process (run with --expose-gc): the
// real Informer fills its store from JSON list pages through a transform, and with
// `--view` the operator's own structures on top (ClusterView's indexes, the Mailbox
// controller's address index, one parse of every spec as a reconcile pass does).
// With `--status-writes`, every Mailbox then gets a watch event for a status write (a new
// version, same spec), as each does once the operator has reconciled it; what the cache and the
// structures on top hold after that is measured.
//
//   node --expose-gc bench/memory/cache.ts [--mailboxes 20000] [--view] [--status-writes]
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeObject, Manager } from '../../src/kube/index.ts';
import { Informer, cacheTransform, stripManagedFields } from '../../src/kube/informer.ts';
import { ClusterView } from '../../src/controllers/cluster-view.ts';
import { registerMailboxController } from '../../src/controllers/mailbox/controller.ts';
import { compactMailbox } from '../../src/controllers/mailbox/cached-mailbox.ts';
import { packedMailboxStore } from '../../src/controllers/mailbox/mailbox-store.ts';
import type { ObjectStore } from '../../src/kube/informer.ts';
import { fakeApi, mailbox, MAILBOXES } from './fixtures.ts';
import { positiveInteger } from '../measure.ts';
import { eachVariantInItsOwnProcess, settledHeapUsed } from './settled-heap.ts';

const { values } = parseArgs({ options: { mailboxes: { type: 'string', default: '20000' }, view: { type: 'boolean', default: false }, 'kubectl-apply': { type: 'boolean', default: false }, 'status-writes': { type: 'boolean', default: false }, variant: { type: 'string' } } });
const n = positiveInteger('mailboxes', values.mailboxes!);

const items = Array.from({ length: n }, (_, i) => mailbox(i, { kubectlApply: values['kubectl-apply'] ?? false }));
const api = fakeApi(items);
items.length = 0; // only the JSON pages stay, as in a response body

/** A Manager stand-in: informers on the fake API, controllers that only record. */
function fakeManager(transform: ((o: KubeObject) => KubeObject) | undefined, store: (() => ObjectStore<KubeObject>) | undefined): { manager: Manager; informers: Informer[] } {
  const informers: Informer[] = [];
  const byKind = new Map<string, Informer>();
  const manager = {
    client: api.client,
    logger: { child: () => manager.logger, info() {}, debug() {}, warn() {}, error() {} },
    informer(resource: typeof MAILBOXES, req: { namespaces?: string[] } = {}) {
      const id = `${resource.plural}/${JSON.stringify(req.namespaces ?? [])}`;
      let inf = byKind.get(id);
      if (!inf) {
        inf = new Informer({ client: api.client, resource, ...(transform ? { transform } : {}), ...(store ? { store } : {}), watchTimeoutSeconds: 3600 });
        byKind.set(id, inf);
        informers.push(inf);
      }
      return inf;
    },
    addController: () => ({ enqueue() {} }),
    events: { record() {} },
  } as unknown as Manager;
  return { manager, informers };
}

/** A MODIFIED event per Mailbox, as its status write brings back; waits until the last is cached. */
async function writeEveryStatus(mailboxes: Informer): Promise<void> {
  const rv = (i: number) => 1_000_000 + i;
  for (let i = 0; i < n; i += 1000) {
    api.send(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ type: 'MODIFIED', object: mailbox(i + j, { rv: rv(i + j), kubectlApply: values['kubectl-apply'] ?? false }) })));
    await delay(0);
  }
  const last = mailbox(n - 1);
  while (mailboxes.get(last.metadata.namespace, last.metadata.name!)?.metadata.resourceVersion !== String(rv(n - 1))) await delay(5);
}

/** Per variant: time to take in a status write of every Mailbox and parse what changed. */
const statusWriteMs: Record<string, number> = {};

async function measure(label: string, { transform, store }: Variant): Promise<[string, number]> {
  const base = settledHeapUsed();
  const { manager, informers } = fakeManager(transform, store);
  let view: ClusterView | undefined;
  let mailboxes: Informer;
  if (values.view) {
    view = new ClusterView(manager, { tenancy: 'Open' });
    registerMailboxController({ manager, view });
    mailboxes = view.mailboxes;
  } else {
    mailboxes = manager.informer(MAILBOXES);
  }
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  if (view) for (const o of mailboxes.list()) view.parseMailboxSpec(o);
  if (values['status-writes']) {
    const started = performance.now();
    await writeEveryStatus(mailboxes);
    if (view) for (const o of mailboxes.list()) view.parseMailboxSpec(o);
    statusWriteMs[label] = Math.round(performance.now() - started);
  }
  if (mailboxes.list().length !== n) throw new Error(`cached ${mailboxes.list().length} of ${n}`);
  const bytes = (settledHeapUsed() - base) / n;
  await Promise.all(informers.map((i) => i.stop()));
  return [label, Math.round(bytes)];
}

interface Variant { transform?: (o: KubeObject) => KubeObject; store?: () => ObjectStore<KubeObject> }
const compactRecord = (o: KubeObject) => compactMailbox(cacheTransform(o));
const VARIANTS: Record<string, Variant> = {
  asListed: { transform: (o: KubeObject) => o },
  withoutManagedFields: { transform: stripManagedFields },
  cacheTransform: { transform: cacheTransform },
  // The compact record (ClusterView's `compact` for Mailboxes), each kept as an object.
  compactRecord: { transform: compactRecord },
  // What ClusterView asks of the Mailbox informer now: the compact record, kept in columns.
  packedStore: { transform: compactRecord, store: packedMailboxStore },
};

if (values.variant === undefined) {
  // Each variant in a process of its own (see eachVariantInItsOwnProcess), merged into one line.
  // With the operator's structures on top, only the packed store: ClusterView's indexes of
  // Mailboxes (by domain, by address) are the store's own now, and no other store has them.
  const lines = eachVariantInItsOwnProcess(import.meta.filename, Object.keys(VARIANTS).filter((v) => !values.view || VARIANTS[v]!.store !== undefined));
  const merge = (field: string) => Object.assign({}, ...lines.map((l) => l[field] ?? {})) as Record<string, number>;
  process.stdout.write(`${JSON.stringify({ mailboxes: n, view: values.view, bytesPerMailbox: merge('bytesPerMailbox'), ...(values['status-writes'] ? { statusWriteMs: merge('statusWriteMs') } : {}) })}\n`);
} else {
  if (!(values.variant in VARIANTS)) throw new Error(`--variant ${values.variant}: pass one of ${Object.keys(VARIANTS).join(', ')}`);
  const [label, bytes] = await measure(values.variant, VARIANTS[values.variant]!);
  process.stdout.write(`${JSON.stringify({ bytesPerMailbox: { [label]: bytes }, ...(values['status-writes'] ? { statusWriteMs } : {}) })}\n`);
}
