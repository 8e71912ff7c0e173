// A steady operator-like load for comparing V8 flags: N Mailboxes cached with the operator's
// own structures (ClusterView indexes, the Mailbox controller's handlers), then E watch
// events (status rewrites, as JSON lines through the real watch decoder), each followed by
// the garbage a reconcile makes (the status compared, an apply body serialised). Prints one
// JSON line: RSS peak/end, heap, elapsed time and events per second.
//
//   node [V8 flags] bench/memory/workload.ts [--mailboxes 20000] [--events 100000]
import { parseArgs } from 'node:util';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { KubeObject, Manager } from '../../src/kube/index.ts';
import { Informer, type ObjectStore } from '../../src/kube/informer.ts';
import { statusChanged } from '../../src/kube/status-diff.ts';
import { ClusterView } from '../../src/controllers/cluster-view.ts';
import { registerMailboxController } from '../../src/controllers/mailbox/controller.ts';
import { fakeApi, mailbox, MAILBOXES } from './fixtures.ts';

const { values } = parseArgs({ options: { mailboxes: { type: 'string', default: '20000' }, events: { type: 'string', default: '100000' }, batch: { type: 'string', default: '500' } } });
const n = Number(values.mailboxes);
const events = Number(values.events);
const batch = Number(values.batch);

let rssPeak = 0;
const sample = () => { rssPeak = Math.max(rssPeak, process.memoryUsage.rss()); };
const sampler = setInterval(sample, 50);

const api = fakeApi(Array.from({ length: n }, (_, i) => mailbox(i)));
const informers: Informer[] = [];
const byId = new Map<string, Informer>();
const manager = {
  client: api.client,
  logger: { child: () => manager.logger, info() {}, debug() {}, warn() {}, error() {} },
  informer(resource: typeof MAILBOXES, req: { namespaces?: string[]; store?: () => ObjectStore<KubeObject> } = {}) {
    const id = `${resource.plural}/${JSON.stringify(req.namespaces ?? [])}`;
    let inf = byId.get(id);
    if (!inf) {
      inf = new Informer({ client: api.client, resource, watchTimeoutSeconds: 3600, ...(req.store ? { store: req.store } : {}) });
      byId.set(id, inf);
      informers.push(inf);
    }
    return inf;
  },
  addController: () => ({ enqueue() {} }),
  events: { record() {} },
} as unknown as Manager;
const view = new ClusterView(manager, { tenancy: 'Open' });
registerMailboxController({ manager, view });
let sink = 0;
// What a reconcile does with each changed Mailbox, less the request.
view.mailboxes.addHandlers({
  onUpdate: (old, obj) => {
    view.parseMailboxSpec(obj);
    if (statusChanged(old.status, obj.status)) sink += JSON.stringify({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace }, status: obj.status }).length;
  },
});
for (const i of informers) i.start();
await Promise.all(informers.map((i) => i.waitForSync()));
for (const o of view.mailboxes.list()) view.parseMailboxSpec(o);

const t0 = performance.now();
let sent = 0;
while (sent < events) {
  const lines: Array<{ type: 'MODIFIED'; object: KubeObject }> = [];
  for (let k = 0; k < batch && sent < events; k++, sent++) {
    const i = sent % n;
    lines.push({ type: 'MODIFIED', object: mailbox(i, { rv: 100_000 + sent, ready: Math.floor(sent / n) % 2 === 1 }) });
  }
  api.send(lines);
  // Let the watch decoder and the handlers take the batch before the next one.
  while (view.mailboxes.stats.events < sent) await yieldToLoop();
  sample();
}
const elapsedMs = performance.now() - t0;
clearInterval(sampler);
sample();
const m = process.memoryUsage();
const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
process.stdout.write(`${JSON.stringify({ mailboxes: n, events, elapsedMs: Math.round(elapsedMs), eventsPerSec: Math.round(events / (elapsedMs / 1000)), rssPeakMiB: mib(rssPeak), rssEndMiB: mib(m.rss), heapTotalMiB: mib(m.heapTotal), heapUsedMiB: mib(m.heapUsed), sink: sink > 0 })}\n`);
await Promise.all(informers.map((i) => i.stop()));
