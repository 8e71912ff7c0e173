// The allocator under the operator's native load, each variant in processes of its own, rounds
// interleaved, reported as ratios to glibc's malloc as it ships (measured in the same run).
// The load is what fills malloc's arenas in the operator: TLS handshakes (OpenSSL's state, the
// peer's certificate parsed), kept-alive HTTPS responses read into Buffers, and list pages
// parsed from JSON. The JavaScript it leaves behind is dropped and collected before reading,
// so what differs between variants is what the allocator keeps, not V8's heap.
//
//   node bench/memory/allocator.ts [--handshakes 3000] [--pages 200] [--rounds 3]
//
// Figures per variant (medians over rounds): the RSS outside V8's heap once the load is over
// and the process has idled 3 s (RSS minus V8's resident heap pages: the binary, the
// allocator, V8's own mappings), the kernel's high-water mark of the RSS, the load's wall
// time, and the RSS outside V8's heap again 3 s after writing a heap snapshot.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import v8 from 'node:v8';
import { createTestPki } from '../../src/dev/pki.ts';
import { imageAllocatorEnv } from '../scale/harness.ts';
import { rssSplit } from '../scale/rss-split.ts';
import { median, positiveInteger } from '../measure.ts';

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string', default: '3000' },
    pages: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    // Internal: one process's load against the parent's server.
    child: { type: 'string' },
  },
});
const handshakes = positiveInteger('handshakes', values.handshakes!);
const pages = positiveInteger('pages', values.pages!);
const rounds = positiveInteger('rounds', values.rounds!);

interface Reading { outsideHeapMiB: number; mallocMiB: number; hwmMiB: number; loadMs: number; afterSnapshotMiB: number }

const HOST = 'probe.allocator.test';
const PARALLEL = 50; // the check engine's default per-interval concurrency is of this order

/** One page of a list, as the apiserver sends an informer: ~250 KiB of JSON. */
function listPage(): string {
  const items = Array.from({ length: 500 }, (_, i) => ({
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
    metadata: { name: `u${i}-d${i % 50}`, namespace: 'hoster', uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, resourceVersion: String(100_000 + i), generation: 1, creationTimestamp: '2026-12-06T00:00:00Z' },
    spec: { domainRef: { name: `d${i % 50}` }, address: `u${i}@d${i % 50}.test`, mapiEnabled: i % 7 !== 0 },
    status: { observedGeneration: 1, mapiEnabled: i % 7 !== 0, conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'MAPI is enabled for this mailbox', lastTransitionTime: '2026-12-06T00:00:01Z', observedGeneration: 1 }] },
  }));
  return JSON.stringify({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailboxList', metadata: { resourceVersion: '200000' }, items });
}

async function childLoad(target: { port: number; ca: string }): Promise<Reading> {
  const started = performance.now();
  // Handshakes as the tls/ checks make them: a fresh connection, the chain verified against
  // the CA, the peer's certificate read, the socket closed.
  for (let done = 0; done < handshakes; done += PARALLEL) {
    await Promise.all(Array.from({ length: Math.min(PARALLEL, handshakes - done) }, () => new Promise<void>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: target.port, servername: HOST, ca: target.ca, timeout: 10_000 }, () => {
        socket.getPeerX509Certificate();
        socket.end();
        resolve();
      });
      socket.on('error', reject);
      socket.on('timeout', () => socket.destroy(new Error('handshake timed out')));
    })));
  }
  // List pages over one kept-alive connection, parsed as the informer parses them.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: target.ca, servername: HOST });
  let kept = 0;
  for (let i = 0; i < pages; i++) {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: target.port, path: '/list', agent, servername: HOST, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('request timed out')));
    });
    kept += (JSON.parse(body) as { items: unknown[] }).items.length;
  }
  agent.destroy();
  if (kept !== pages * 500) throw new Error(`read ${kept} items of ${pages * 500}`);
  const loadMs = performance.now() - started;
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc(); gc();
  await delay(3000); // jemalloc's background thread purges after its decay time (1 s in the image)
  gc();
  const outsideHeap = (): { totalMiB: number; mallocMiB: number } => {
    const rss = rssSplit(readFileSync('/proc/self/smaps', 'utf8'));
    return { totalMiB: rss.totalMiB - v8.getHeapStatistics().total_physical_size / 1048576, mallocMiB: rss.mallocMiB };
  };
  const afterLoad = outsideHeap();
  const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  // A heap snapshot, as one taken to look into the operator's memory (--heapsnapshot-signal):
  // V8 builds it in native memory, which the allocator keeps or gives back.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'allocator-snapshot-'));
  v8.writeHeapSnapshot(path.join(dir, 'heap.heapsnapshot'));
  rmSync(dir, { recursive: true, force: true });
  gc(); gc();
  await delay(3000);
  return { outsideHeapMiB: afterLoad.totalMiB, mallocMiB: afterLoad.mallocMiB, hwmMiB: hwm, loadMs, afterSnapshotMiB: outsideHeap().totalMiB };
}

if (values.child !== undefined) {
  const reading = await childLoad(JSON.parse(values.child) as { port: number; ca: string });
  process.stdout.write(`${JSON.stringify(reading)}\n`);
  process.exit(0);
}

const pki = createTestPki('allocator bench');
const leaf = pki.issue({ dnsNames: [HOST] });
const page = listPage();
const server = https.createServer({ cert: leaf.chainPem, key: leaf.keyPem, keepAliveTimeout: 30_000 }, (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(req.url === '/list' ? page : '{}');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const target = JSON.stringify({ port: (server.address() as { port: number }).port, ca: pki.rootPem });

const image = imageAllocatorEnv();
const VARIANTS: Record<string, Record<string, string>> = {
  // glibc's malloc with no setting: the baseline.
  'glibc malloc': { LD_PRELOAD: '', MALLOC_CONF: '', GLIBC_TUNABLES: '' },
  // glibc's malloc with the thresholds the image fixed before jemalloc.
  'glibc malloc, thresholds fixed at 128 KiB': { LD_PRELOAD: '', MALLOC_CONF: '', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072' },
  // What the image runs.
  'the image (jemalloc)': { GLIBC_TUNABLES: '', ...image },
};

/** The child runs the load under the image's young generation size, without the old
 *  generation's cap (this load keeps no heap). Asynchronously: this process serves it. */
async function runChild(env: Record<string, string>): Promise<Reading> {
  const { stdout: out } = await promisify(execFile)(process.execPath, ['--expose-gc', '--max-semi-space-size=8', import.meta.filename, '--handshakes', String(handshakes), '--pages', String(pages), '--child', target], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Reading;
}

const readings = new Map<string, Reading[]>(Object.keys(VARIANTS).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, env] of Object.entries(VARIANTS)) readings.get(name)!.push(await runChild(env));
}
server.close();
pki.cleanup();

const med = (name: string, field: keyof Reading): number => median(readings.get(name)!.map((x) => x[field]));
const base = 'glibc malloc';
process.stdout.write(`\n## allocator (${handshakes} TLS handshakes, ${pages} list pages of 500 Mailboxes; medians of ${rounds} interleaved rounds; ratios to glibc's malloc)\n\n`);
process.stdout.write(`| allocator | RSS outside V8's heap after 3 s idle, MiB (ratio) | of it glibc malloc's arenas, MiB | RSS high-water mark, MiB (ratio) | load time, s (ratio) | RSS outside V8's heap 3 s after a heap snapshot, MiB (ratio) |\n|---|---|---|---|---|---|\n`);
for (const name of readings.keys()) {
  const ratio = (field: keyof Reading) => (med(name, field) / med(base, field)).toFixed(2);
  process.stdout.write(`| ${name} | ${med(name, 'outsideHeapMiB').toFixed(1)} (${ratio('outsideHeapMiB')}×) | ${med(name, 'mallocMiB').toFixed(1)} | ${med(name, 'hwmMiB').toFixed(1)} (${ratio('hwmMiB')}×) | ${(med(name, 'loadMs') / 1000).toFixed(1)} (${ratio('loadMs')}×) | ${med(name, 'afterSnapshotMiB').toFixed(1)} (${ratio('afterSnapshotMiB')}×) |\n`);
}
