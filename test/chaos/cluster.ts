// The chaos suite's world: a private control plane (its apiserver and etcd get restarted),
// cert-manager issuing from the test CA, BIND and the ingress front, with counting relays in
// the probes' way (to silence DNS or hang HTTPS) and the proxy in the operator's way (to
// answer 429/409/410). One MapiServer with many MailDomains and Mailboxes, like a hoster.
//
// `converged()` is the verdict after every fault: every resource Ready for its generation,
// every child present exactly once and owned by a live resource (nothing duplicated,
// orphaned or lost); `ReplicaGuard` watches the MAPI Deployment the whole time and records
// any scale-down of a running server.
import assert from 'node:assert/strict';
import type { OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { e2eDomain, e2eMailbox, e2eServer } from '../../src/dev/world.ts';
import { applyObject, KubeClient, loadKubeConfig, type KubeObject } from '../../src/kube/index.ts';
import { pool, startBenchOperator, startBenchWorld, type ProxiedBenchWorld } from '../../bench/scale/harness.ts';
import { startDnsRelay, startTlsRelay, type DnsRelay, type TlsRelay } from '../../bench/scale/relays.ts';
import { toFront, type Zones } from '../../src/dev/world.ts';

export const NS = 'chaos';
export const SERVER = 's0';
export const MAILBOXES_PER_DOMAIN = 3;
/** Domain names the zones publish from the start; tests create d0 … d(n-1) of them. */
export const DOMAIN_POOL = 120;
export const domainOf = (i: number) => `d${i}.chaos.test`;

export interface ChaosCluster {
  bw: ProxiedBenchWorld;
  dns: DnsRelay;
  tls: TlsRelay;
  admin: KubeClient;
  /** The MailDomains that should exist (index → domain index), for converged(). */
  domains: Set<number>;
  operator(name: string, args?: string[]): Promise<OperatorProcess>;
  /** Creates MailDomains d<i> (with their Mailboxes) for each i, concurrently. */
  addDomains(indexes: number[]): Promise<void>;
  guard: ReplicaGuard;
  stop(): Promise<void>;
}

export async function startChaosCluster(label: string): Promise<ChaosCluster> {
  const zones: Zones = { [`${SERVER}.test`]: toFront('mail') };
  for (let i = 0; i < DOMAIN_POOL; i++) zones[domainOf(i)] = toFront('autodiscover');
  const bw = await startBenchWorld(zones, { label: `chaos-${label}`, nodes: 1 });
  const dns = await startDnsRelay(bw.world.dns.nameserver);
  const tls = await startTlsRelay(bw.world.front.httpsPort);
  const admin = new KubeClient(loadKubeConfig(bw.env.controlPlane.kubeconfigPath));
  await bw.world.k.ok(['create', 'namespace', NS]);
  await bw.world.publishCa(NS);
  await applyObject(admin, e2eServer({ name: SERVER, namespace: NS, externalHost: `mail.${SERVER}.test`, nameserver: dns.nameserver, domains: 'Any', replicas: 2 }) as KubeObject, { fieldManager: 'chaos' });
  const domains = new Set<number>();
  const guard = new ReplicaGuard(admin);
  const running: OperatorProcess[] = [];
  return {
    bw, dns, tls, admin, domains, guard,
    async operator(name, args = []) {
      const op = await startBenchOperator(bw, { namespaces: [NS], name: `chaos-${name}`, args: ['--https-port', String(tls.port), ...args] });
      running.push(op);
      return op;
    },
    async addDomains(indexes) {
      const objs: object[] = [];
      for (const i of indexes) {
        objs.push(e2eDomain({ name: `d${i}`, namespace: NS, server: SERVER, domain: domainOf(i) }));
        for (let m = 0; m < MAILBOXES_PER_DOMAIN; m++) objs.push(e2eMailbox({ name: `d${i}-u${m}`, namespace: NS, domainRef: `d${i}`, address: `u${m}@${domainOf(i)}` }));
        domains.add(i);
      }
      await pool(objs as KubeObject[], 8, async (o) => { await applyObject(admin, o, { fieldManager: 'chaos' }); });
    },
    async stop() {
      guard.stop();
      for (const op of running) await op.kill9();
      await dns.stop();
      await tls.stop();
      await bw.stop();
    },
  };
}

type Cond = { type: string; status: string; reason?: string };
interface Obj extends KubeObject {
  spec?: { replicas?: number };
  status?: { conditions?: Cond[]; observedGeneration?: number; readyReplicas?: number };
}

const GROUPS: Record<string, string> = {
  certificates: '/apis/cert-manager.io/v1', ingresses: '/apis/networking.k8s.io/v1', services: '/api/v1', deployments: '/apis/apps/v1',
  poddisruptionbudgets: '/apis/policy/v1', configmaps: '/api/v1',
  mapiservers: '/apis/mapi-operator.io/v1alpha2', maildomains: '/apis/mapi-operator.io/v1alpha2', mailboxes: '/apis/mapi-operator.io/v1alpha2',
};

export async function list(client: KubeClient, plural: string, labelSelector?: string): Promise<Obj[]> {
  const r = await client.request<{ items: Obj[] }>({ path: `${GROUPS[plural]}/namespaces/${NS}/${plural}`, query: { labelSelector }, timeoutMs: 30_000 });
  return r.items;
}

const ready = (o: Obj) => o.status?.observedGeneration === o.metadata.generation && (o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

/**
 * Waits until everything converged and checks the children; resolves with the time it took.
 * Per MailDomain: one Certificate and one Ingress `d<i>-autodiscover`; per server: one each
 * of Deployment, Service, PDB, Certificate, Ingress, and its access ConfigMap(s).
 */
export async function converged(c: ChaosCluster, describe: string, timeoutMs = 600_000): Promise<number> {
  const start = Date.now();
  const want = [...c.domains].map((i) => `d${i}`).sort();
  await waitFor(async () => {
    const [servers, mds, mbs] = await Promise.all([list(c.admin, 'mapiservers'), list(c.admin, 'maildomains'), list(c.admin, 'mailboxes')]);
    if (!servers.every(ready) || servers.length !== 1) return false;
    if (mds.length !== want.length || !mds.every(ready)) return false;
    if (mbs.length !== want.length * MAILBOXES_PER_DOMAIN || !mbs.every((m) => m.status?.observedGeneration === m.metadata.generation)) return false;
    const access = await c.admin.request<{ data?: Record<string, string> }>({ path: `/api/v1/namespaces/${NS}/configmaps/${SERVER}-mapi-access` });
    const index = JSON.parse(access.data?.['access.json'] ?? '{}') as { domains?: Record<string, unknown> };
    return Object.keys(index.domains ?? {}).length === want.length;
  }, { describe: `${describe}: every resource Ready for its generation`, timeoutMs, intervalMs: 2_000 });
  const tookMs = Date.now() - start;

  const owners = new Map<string, string>();
  for (const plural of ['mapiservers', 'maildomains']) for (const o of await list(c.admin, plural)) owners.set(o.metadata.uid!, `${o.kind ?? plural}/${o.metadata.name}`);
  const domainChildren = want.map((d) => `${d}-autodiscover`).sort();
  for (const [plural, perDomain] of [['certificates', true], ['ingresses', true], ['deployments', false], ['services', false], ['poddisruptionbudgets', false]] as const) {
    const items = await list(c.admin, plural, 'app.kubernetes.io/managed-by=mapi-operator');
    const orphans = items.filter((o) => !o.metadata.ownerReferences?.some((r) => r.controller && owners.has(r.uid)));
    assert.deepEqual(orphans.map((o) => o.metadata.name), [], `${describe}: ${plural} without a live owner (orphaned)`);
    const names = items.map((o) => o.metadata.name!).sort();
    const expected = [...(perDomain ? domainChildren : []), `${SERVER}-mapi`].sort();
    assert.deepEqual(names, expected, `${describe}: ${plural} are exactly one per resource (nothing duplicated or lost)`);
  }
  return tookMs;
}

/**
 * Samples the MAPI Deployment every 500 ms; once it ran N ready replicas, any lower
 * spec.replicas is a scale-down of a running server and is recorded.
 */
export class ReplicaGuard {
  readonly scaleDowns: string[] = [];
  #max = 0;
  #timer: NodeJS.Timeout;
  constructor(client: KubeClient) {
    this.#timer = setInterval(() => {
      client.request<Obj>({ path: `/apis/apps/v1/namespaces/${NS}/deployments/${SERVER}-mapi`, timeoutMs: 5_000 }).then((d) => {
        const replicas = d.spec?.replicas ?? 0;
        if (replicas < this.#max) this.scaleDowns.push(`${new Date().toISOString()}: spec.replicas ${this.#max} → ${replicas}`);
        if ((d.status?.readyReplicas ?? 0) > 0) this.#max = Math.max(this.#max, replicas);
      }, () => undefined); // the apiserver is sometimes down on purpose
    }, 500);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The operator is alive and says it is healthy. */
export async function healthy(op: OperatorProcess): Promise<void> {
  assert.equal(op.child.exitCode, null, `the operator exited (log ${op.logFile})`);
  const res = await fetch(`${op.healthUrl()}/readyz`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 200, `readyz answered ${res.status} (log ${op.logFile})`);
}

/** A sum over one operator metric, optionally filtered by labels. */
export async function operatorMetric(op: OperatorProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${op.metricsUrl()}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
