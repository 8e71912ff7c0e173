// One MapiServer reconcile with N MailDomains of 20 Mailboxes each in the caches, the way a
// hoster runs it: how long it takes when nothing changed (a resync, a domain's verdict
// moving) and when one Mailbox was switched off, as a ratio against building the server's
// access list from scratch for the same Mailboxes, measured in the same run. The apiserver
// is the unit tests' stand-in (test/support/fake-kube.ts): this measures the operator's own
// work between its caches and its requests, not the apiserver.
//
//   npm run bench:server -- [--domains 5000] [--rounds 9]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../src/kube/index.ts';
import { ClusterView } from '../src/controllers/cluster-view.ts';
import { registerMapiServerController, MAPISERVER_CONTROLLER } from '../src/controllers/mapiserver/controller.ts';
import { DomainStandings } from '../src/controllers/domain-standings.ts';
import type { CheckRuns } from '../src/controllers/checks/check-runs.ts';
import { desiredAccessConfigMaps, type AccessListInput } from '../src/builders/access.ts';
import { e2eServer, e2eDomain, e2eMailbox } from '../src/dev/world.ts';
import { fakeKube } from '../test/support/fake-kube.ts';

const { values } = parseArgs({ options: { domains: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '9' } } });
const domains = Number(values.domains);
const rounds = Number(values.rounds);
const NS = 'tenant-a';

export async function serverReconcileBench(n: number, samples: number) {
  const kube = fakeKube();
  kube.put({ ...e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53', domains: 'Any', replicas: 1 }) } as KubeObject);
  for (let d = 0; d < n; d++) {
    kube.put(e2eDomain({ name: `d${d}`, namespace: NS, server: 's0', domain: `d${d}.test` }) as KubeObject);
    for (let m = 0; m < 20; m++) kube.put(e2eMailbox({ name: `d${d}-u${m}`, namespace: NS, domainRef: `d${d}`, address: `u${m}@d${d}.test` }) as KubeObject);
  }
  const view = new ClusterView(kube.manager, { tenancy: 'Open' });
  const checks = { snapshot: () => undefined, ensure: () => undefined, forget: () => false } as unknown as CheckRuns;
  registerMapiServerController({ manager: kube.manager, view, checks, standings: new DomainStandings() });
  await kube.start();
  const reconcile = kube.reconcilers.get(MAPISERVER_CONTROLLER)!;
  const ctx = { log: kube.manager.logger, signal: new AbortController().signal };
  const once = async () => {
    const t = performance.now();
    await reconcile(`${NS}/s0`, ctx);
    const ms = performance.now() - t;
    await kube.settle();
    return ms;
  };
  const first = await once();
  await once(); // the status and children written by the first come back through the watches
  // The baseline: the access list built from scratch (a new input: nothing kept) for the same Mailboxes.
  const input: AccessListInput = {
    domains: Array.from({ length: n }, (_, d) => ({ name: `d${d}`, domains: [`d${d}.test`], mapiEnabled: true })),
    mailboxes: Array.from({ length: n * 20 }, (_, i) => ({ address: `u${i % 20}@d${Math.floor(i / 20)}.test`, mapiEnabled: true })),
  };
  const server = view.parseServer(view.servers.get(NS, 's0')!);
  if (!server.ok) throw new Error(server.message);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const unchanged: number[] = [];
  const toggled: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < samples; r++) {
    let t = performance.now();
    desiredAccessConfigMaps(server.value, { ...input });
    base.push(performance.now() - t);
    unchanged.push(await once());
    const name = `d${(r * 37) % n}-u${r % 20}`;
    const mb = kube.get('Mailbox', NS, name)!;
    kube.put({ ...mb, spec: { ...(mb.spec as object), mapiEnabled: !(mb.spec as { mapiEnabled: boolean }).mapiEnabled } });
    await kube.settle();
    const writes = kube.writes.length;
    t = performance.now();
    toggled.push(await once());
    if (!kube.writes.slice(writes).some((w) => w.startsWith('ConfigMap'))) throw new Error(`switching ${name} wrote no access list ConfigMap`);
  }
  await kube.stop();
  return { first, unchanged: median(unchanged), toggled: median(toggled), base: median(base) };
}

if (import.meta.main) {
  const r = await serverReconcileBench(domains, rounds);
  const row = (name: string, ms: number) => `${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ${r.base.toFixed(1).padStart(9)} ${(ms / r.base).toFixed(2).padStart(7)}x`;
  console.log(`MapiServer reconcile, ${domains.toLocaleString('en')} MailDomains, ${(domains * 20).toLocaleString('en')} Mailboxes (baseline: the access list built from scratch)`);
  console.log(`${'case'.padEnd(44)} ${'ms'.padStart(9)} ${'base ms'.padStart(9)} ${'ratio'.padStart(8)}`);
  console.log(row('first reconcile (creates every child)', r.first));
  console.log(row('nothing changed', r.unchanged));
  console.log(row('one Mailbox switched', r.toggled));
}
