// Memory benchmark (issue 14), no cluster needed; every figure is measured in this run and
// V8 flags are compared with a baseline measured in the same run (ratios, not absolutes).
//
//   npm run bench:memory -- [--mailboxes 20000] [--events 60000] [--rounds 2] [--domains 5000] [--section all|modules|cache|domains|children|checks|metrics|access|flags|allocator]
//
// 1. modules: RSS and JS heap of a process that loaded the operator's `run` command, against
//    an empty Node process and against @kubernetes/client-node alone (what it would add).
// 2. cache: JS heap per cached Mailbox through the real Informer: as listed, without
//    managedFields only, with cacheTransform (what every other kind gets) and as the compact
//    record (compactMailbox) kept as an object, and that record in the columns the Mailbox
//    informer keeps (PackedMailboxStore); alone
//    and with the ClusterView and Mailbox controller structures on top (bench/memory/cache.ts).
// 2b. domains: JS heap per cached Ready MailDomain, and what the second, cluster-wide cache
//    that --namespace adds costs whole and without status (bench/memory/domain-cache.ts).
// 2c. checks: JS heap per MailDomain its last check results keep, with every detail of the
//    probes and with what the operator keeps (bench/memory/check-results.ts).
// 2c'. metrics: JS heap per MailDomain the check metrics keep between scrapes, and one
//    scrape's time (bench/memory/check-metrics.ts).
// 2d. access: JS heap per Mailbox the Mailbox controller keeps of the access list
//    (bench/memory/access-entries.ts).
// 3. flags: the same operator-like load (N Mailboxes cached, E watch events with reconcile
//    garbage: bench/memory/workload.ts) under the image's V8 flags and others, rounds
//    interleaved; median RSS and throughput as ratios to the no-flag baseline.
// 4. allocator: the RSS outside V8's heap after TLS handshakes and list pages, under glibc's
//    malloc, with the thresholds the image used to fix, and with the jemalloc the image
//    preloads; rounds interleaved, ratios to glibc's malloc (bench/memory/allocator.ts).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '../measure.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values } = parseArgs({
  options: {
    mailboxes: { type: 'string', default: '20000' },
    events: { type: 'string', default: '60000' },
    rounds: { type: 'string', default: '2' },
    domains: { type: 'string', default: '5000' },
    section: { type: 'string', default: 'all' },
  },
});
const sections = values.section === 'all' ? ['modules', 'cache', 'domains', 'children', 'checks', 'metrics', 'access', 'flags', 'allocator'] : [values.section!];

/** The flags the image and the chart set (Dockerfile NODE_OPTIONS), with the old-space cap
 *  as it works out for the chart's default 384 MiB limit (70 %: ~269 MiB). */
export const IMAGE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=269'];

function node(args: string[], timeoutMs = 600_000): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 20 }).trim().split('\n').at(-1)!;
}

const mib = (b: number) => (b / 1048576).toFixed(1);

if (sections.includes('modules')) {
  const probe = (what: string) => `const m=${what};await m;globalThis.gc();globalThis.gc();const u=process.memoryUsage();console.log(JSON.stringify({rss:u.rss,heapUsed:u.heapUsed,heapTotal:u.heapTotal}))`;
  const read = (what: string) => JSON.parse(node(['--expose-gc', '--input-type=module', '-e', probe(what)])) as { rss: number; heapUsed: number; heapTotal: number };
  const empty = read('Promise.resolve()');
  const run = read(`import(${JSON.stringify(path.join(root, 'src/cli/run-command.ts'))})`);
  const clientNode = read(`import('@kubernetes/client-node')`);
  process.stdout.write(`\n## modules (after two full GCs)\n\n| process | RSS MiB | heap used MiB | heap total MiB |\n|---|---|---|---|\n`);
  for (const [label, r] of [['empty node', empty], ['`run` command loaded', run], ['@kubernetes/client-node alone (not loaded by `run` any more)', clientNode]] as const) {
    process.stdout.write(`| ${label} | ${mib(r.rss)} | ${mib(r.heapUsed)} | ${mib(r.heapTotal)} |\n`);
  }
}

if (sections.includes('cache')) {
  process.stdout.write(`\n## cache (${values.mailboxes} Mailboxes, JS heap bytes per Mailbox after full GCs)\n\n| what is cached | as listed | without managedFields | cacheTransform (every other kind) | compact record | in columns (Mailboxes) |\n|---|---|---|---|---|---|\n`);
  for (const view of [false, true]) {
    const r = JSON.parse(node(['--expose-gc', 'bench/memory/cache.ts', '--mailboxes', values.mailboxes!, ...(view ? ['--view'] : [])])) as { bytesPerMailbox: Record<string, number> };
    const b = r.bytesPerMailbox;
    // With the view, only the packed store runs (ClusterView's Mailbox indexes are the store's).
    const cell = (x: number | undefined) => (x === undefined ? '—' : b.withoutManagedFields === undefined || x === b.withoutManagedFields ? String(x) : `${x} (${((x / b.withoutManagedFields) * 100).toFixed(0)} %)`);
    process.stdout.write(`| ${view ? 'informer + ClusterView + Mailbox controller (their indexes in the store)' : 'informer store only'} | ${cell(b.asListed)} | ${cell(b.withoutManagedFields)} | ${cell(b.cacheTransform)} | ${cell(b.compactRecord)} | ${cell(b.packedStore)} |\n`);
  }
}

if (sections.includes('domains')) {
  const r = JSON.parse(node(['--expose-gc', 'bench/memory/domain-cache.ts', '--domains', values.domains!])) as { bytesPerMailDomain: Record<string, number> };
  const b = r.bytesPerMailDomain;
  const mibAt = (bytes: number) => ((bytes * Number(values.domains)) / 1048576).toFixed(1);
  process.stdout.write(`\n## MailDomain caches (${values.domains} Ready MailDomains, JS heap bytes per MailDomain after full GCs)\n\n| cache | bytes per MailDomain | MiB at ${values.domains} |\n|---|---|---|\n`);
  process.stdout.write(`| the controllers' (namespaced) | ${b.namespaced} | ${mibAt(b.namespaced!)} |\n`);
  process.stdout.write(`| + cluster-wide for host claims (--namespace set), whole (before) | ${b.clusterWideWhole} | ${mibAt(b.clusterWideWhole!)} |\n`);
  process.stdout.write(`| + cluster-wide for host claims, without status | ${b.clusterWideWithoutStatus} (${((b.clusterWideWithoutStatus! / b.clusterWideWhole!) * 100).toFixed(0)} %) | ${mibAt(b.clusterWideWithoutStatus!)} |\n`);
  process.stdout.write(`| + cluster-wide for host claims, without status, each version's metadata and spec shared with the namespaced cache | ${b.clusterWideTwins} | ${mibAt(b.clusterWideTwins!)} |\n`);
  process.stdout.write(`| the controllers' (namespaced), each status packed (now) | ${b.namespacedPacked} (${((b.namespacedPacked! / b.namespaced!) * 100).toFixed(0)} %) | ${mibAt(b.namespacedPacked!)} |\n`);
  process.stdout.write(`| both caches, the namespaced one's statuses packed (now) | ${b.bothPacked} | ${mibAt(b.bothPacked!)} |\n`);
}

if (sections.includes('children')) {
  const r = JSON.parse(node(['--expose-gc', 'bench/memory/children-cache.ts', '--children', values.domains!])) as { bytesPerObject: Record<string, number>; readMicros: Record<string, number> };
  const b = r.bytesPerObject;
  const t = r.readMicros;
  const mibAt = (bytes: number) => ((bytes * Number(values.domains)) / 1048576).toFixed(1);
  process.stdout.write(`\n## A MailDomain's children in the caches (${values.domains} of each, JS heap bytes per object after full GCs; reading one's spec and status, best of 5 passes)\n\n| cache | whole | spec and status packed (now) | MiB at ${values.domains}, whole → packed | one read, whole → packed (µs) |\n|---|---|---|---|---|\n`);
  for (const [label, kind] of [['Certificates (issued)', 'certificate'], ['Ingresses', 'ingress']] as const) {
    const whole = b[kind]!;
    const packed = b[`${kind}Packed`]!;
    process.stdout.write(`| ${label} | ${whole} | ${packed} (${((packed / whole) * 100).toFixed(0)} %) | ${mibAt(whole)} → ${mibAt(packed)} | ${t[kind]} → ${t[`${kind}Packed`]} |\n`);
  }
}

if (sections.includes('checks')) {
  const r = JSON.parse(node(['--expose-gc', 'bench/memory/check-results.ts', '--domains', values.domains!])) as { bytesPerMailDomain: { whole: number; retained: number; withStatus: number; withStatusUnpooled: number } };
  const b = r.bytesPerMailDomain;
  const mibAt = (bytes: number) => ((bytes * Number(values.domains)) / 1048576).toFixed(1);
  process.stdout.write(`\n## check results kept after a run (${values.domains} MailDomains of one server, one probe cache; JS heap bytes per MailDomain after full GCs)\n\n| details kept | bytes per MailDomain | MiB at ${values.domains} | / whole |\n|---|---|---|---|\n`);
  process.stdout.write(`| whole (what \`mapi-operator check\` prints; the operator before) | ${b.whole} | ${mibAt(b.whole)} | 1.00 |\n`);
  process.stdout.write(`| detailsReadAfterRun (the operator now) | ${b.retained} | ${mibAt(b.retained)} | ${(b.retained / b.whole).toFixed(2)} |\n`);
  process.stdout.write(`\nWith each MailDomain's status cached beside them (the informer's parse of the same rows):\n\n| rows' strings | bytes per MailDomain | MiB at ${values.domains} | / not pooled |\n|---|---|---|---|\n`);
  process.stdout.write(`| not pooled (held in the results and again in the status) | ${b.withStatusUnpooled} | ${mibAt(b.withStatusUnpooled)} | 1.00 |\n`);
  process.stdout.write(`| pooled as the cache pools a status (the operator now) | ${b.withStatus} | ${mibAt(b.withStatus)} | ${(b.withStatus / b.withStatusUnpooled).toFixed(2)} |\n`);
}

if (sections.includes('metrics')) {
  const r = JSON.parse(node(['--expose-gc', 'bench/memory/check-metrics.ts', '--domains', values.domains!])) as { bytesPerMailDomain: number; scrapeMs: number; scrapeBytes: number };
  process.stdout.write(`\n## check metrics (${values.domains} MailDomains, 7 rows a run, 5 of them the domain's series)\n\n| JS heap kept per MailDomain | MiB at ${values.domains} | one scrape | its text |\n|---|---|---|---|\n`);
  process.stdout.write(`| ${r.bytesPerMailDomain} B | ${((r.bytesPerMailDomain * Number(values.domains)) / 1048576).toFixed(1)} | ${r.scrapeMs} ms | ${(r.scrapeBytes / 1048576).toFixed(1)} MiB |\n`);
}

if (sections.includes('access')) {
  const r = JSON.parse(node(['--expose-gc', 'bench/memory/access-entries.ts', '--mailboxes', values.mailboxes!])) as { configMaps: number; bytesPerMailbox: { parsedObjects: number; readAccessConfigMap: number; withCachedAddresses: number } };
  const b = r.bytesPerMailbox;
  process.stdout.write(`\n## the access list as the Mailbox controller keeps it (${values.mailboxes} Mailboxes in ${r.configMaps} ConfigMaps; JS heap bytes per Mailbox after full GCs)\n\n| shards read as | bytes per Mailbox | / parsed objects |\n|---|---|---|\n`);
  process.stdout.write(`| parsed objects (before) | ${b.parsedObjects} | 1.00 |\n| readAccessConfigMap: a Map per shard, its own address strings (before) | ${b.readAccessConfigMap} | ${(b.readAccessConfigMap / b.parsedObjects).toFixed(2)} |\n| the same, keyed by the address strings the cache holds (now) | ${b.withCachedAddresses} | ${(b.withCachedAddresses / b.parsedObjects).toFixed(2)} |\n`);
}

if (sections.includes('flags')) {
  const variants: Array<[string, string[]]> = [
    ['no flags (baseline: V8 sizes the heap from the machine)', []],
    ['--max-semi-space-size=8', ['--max-semi-space-size=8']],
    ['--max-old-space-size=269', ['--max-old-space-size=269']],
    [`image: ${IMAGE_FLAGS.join(' ')}`, IMAGE_FLAGS],
    ['--optimize-for-size', ['--optimize-for-size']],
  ];
  const results = new Map<string, Array<{ rssPeakMiB: number; rssEndMiB: number; heapTotalMiB: number; eventsPerSec: number }>>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [label, flags] of variants) {
      const r = JSON.parse(node([...flags, 'bench/memory/workload.ts', '--mailboxes', values.mailboxes!, '--events', values.events!]));
      results.set(label, [...(results.get(label) ?? []), r]);
    }
  }
  const base = results.get(variants[0]![0])!;
  const baseRss = median(base.map((r) => r.rssPeakMiB));
  const baseRate = median(base.map((r) => r.eventsPerSec));
  process.stdout.write(`\n## V8 flags (${values.mailboxes} Mailboxes, ${values.events} watch events; median of ${values.rounds} interleaved rounds)\n\n| flags | peak RSS MiB | RSS at end | heap total at end | events/s | peak RSS / baseline | throughput / baseline |\n|---|---|---|---|---|---|---|\n`);
  for (const [label] of variants) {
    const rs = results.get(label)!;
    const rss = median(rs.map((r) => r.rssPeakMiB));
    const rate = median(rs.map((r) => r.eventsPerSec));
    process.stdout.write(`| ${label} | ${rss.toFixed(1)} | ${median(rs.map((r) => r.rssEndMiB)).toFixed(1)} | ${median(rs.map((r) => r.heapTotalMiB)).toFixed(1)} | ${rate} | ${(rss / baseRss).toFixed(2)} | ${(rate / baseRate).toFixed(2)} |\n`);
  }
}

if (sections.includes('allocator')) {
  // Its own table; --rounds as for the flags.
  process.stdout.write(execFileSync(process.execPath, ['bench/memory/allocator.ts', '--rounds', values.rounds!], { cwd: root, encoding: 'utf8', timeout: 1_800_000 }));
}
