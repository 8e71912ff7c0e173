// The operator under stress, on a private control plane (this file restarts its apiserver):
// leader election hand-over, kill -9 in the middle of creating one MapiServer's 200
// MailDomains, an apiserver restart, and zero API writes once converged, counted by the
// apiserver itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startControlPlane, type ControlPlane } from '../../../src/dev/controlplane.ts';
import { ensureCertManagerCrds, repoRoot } from '../../../src/dev/controlplane-assets.ts';
import { freshNamespace, kubectlFor, type Kubectl } from '../../../src/dev/kube.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { FIRST_STATUS_GRACE_MS } from '../../../src/controllers/mailbox/decide.ts';
import { KubeClient, loadKubeConfig } from '../../../src/kube/index.ts';
import { isWrite, startApiProxy } from '../../chaos/api-proxy.ts';
import { mailDomainManifest, mailboxManifest, mapiServerManifest, ISSUER } from '../../support/fixtures.ts';

let cp: ControlPlane;
let k: Kubectl;
const running: OperatorProcess[] = [];
const BULK_DOMAINS = 200;
const BULK_MAILBOXES = 20;
/** The operator that converged the bulk namespace; the zero-writes test takes over from it. */
let bulkOperator: OperatorProcess | undefined;

// Checks against a nameserver that refuses: they fail fast and the rollout stays held; the
// operator's own traffic is what this file measures.
const server = (namespace: string, externalHost: string) =>
  mapiServerManifest('mapi', namespace, { externalHost, replicas: 1, checks: { nameservers: ['127.0.0.1:9'], interval: '1m' } });
const domain = (name: string, namespace: string, domainName: string) => mailDomainManifest(name, namespace, { serverRef: 'mapi', domain: domainName });

async function operator(args: string[] = [], name = 'res'): Promise<OperatorProcess> {
  const op = await startOperator({ kubeconfig: cp.kubeconfigPath, args, name });
  running.push(op);
  return op;
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const { body } = await fetchText(`${url}/metrics`);
  let sum = 0;
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k2, v]) => line.includes(`${k2}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function difference(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...after].map(([key, n]) => [key, n - (before.get(key) ?? 0)]).filter(([, n]) => (n as number) > 0));
}

interface Stored { metadata: { uid: string; name: string; generation: number }; status?: { observedGeneration?: number; domains?: { accepted?: number } } }

async function observed(kind: string, namespace: string, name: string): Promise<boolean> {
  const o = await k.tryGet<Stored>(kind, namespace, name);
  return o !== undefined && o.status?.observedGeneration === o.metadata.generation;
}

/** The MapiServer has a status for its generation and counts this many accepted MailDomains. */
async function serverAccepts(namespace: string, accepted: number): Promise<boolean> {
  const o = await k.tryGet<Stored>('mapiserver', namespace, 'mapi');
  return o?.status?.observedGeneration === o?.metadata.generation && o?.status?.domains?.accepted === accepted;
}

before(async () => {
  cp = await startControlPlane({ nodes: 1 });
  k = kubectlFor(cp.kubeconfigPath);
  for (const dir of [await ensureCertManagerCrds(), path.join(repoRoot, 'crds')]) await k.ok(['apply', '--server-side', '-f', dir]);
  await k.ok(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  // The issuer the fixtures name must exist (ClusterIssuerNotFound stalls a server); no
  // cert-manager controller runs here, the object is what the operator looks for.
  await k.apply({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: ISSUER }, spec: { selfSigned: {} } });
});

after(async () => {
  for (const op of running) await op.kill9();
  await cp?.stop();
});

describe('operator resilience', () => {
  test('leader election: the second replica stays passive, takes over after kill -9 within the lease time, and a SIGTERM releases the lease', async (t) => {
    await freshNamespace(k, 'le');
    const le = ['--leader-elect', '--leader-election-namespace', 'default', '--namespace', 'le'];
    const a = await operator(le, 'le-a');
    await waitFor(async () => (await metric(a.metricsUrl(), 'leader_election_master_status')) === 1, { describe: 'replica A leads', timeoutMs: 30_000 });
    const b = await operator(le, 'le-b');
    await k.apply(server('le', 'mail.le.example'));
    await k.apply(domain('first', 'le', 'first.le.example'));
    await waitFor(() => observed('maildomain', 'le', 'first'), { describe: 'A reconciles the MailDomain' });
    await waitFor(() => serverAccepts('le', 1), { describe: 'A reconciles the MapiServer' });
    assert.equal(await metric(b.metricsUrl(), 'leader_election_master_status'), 0, 'B is a follower');
    assert.equal(await metric(b.metricsUrl(), 'controller_runtime_reconcile_total'), 0, 'B never reconciled while A led');

    await a.kill9();
    const killedAt = Date.now();
    await waitFor(async () => (await metric(b.metricsUrl(), 'leader_election_master_status')) === 1, { describe: 'B takes over', timeoutMs: 40_000, intervalMs: 200 });
    const takeoverMs = Date.now() - killedAt;
    t.diagnostic(`take-over after kill -9: ${takeoverMs} ms`);
    // A's lease runs 15 s from its last renewal (renewed every 2 s); B retries every 2 s; B's
    // metric is polled every 200 ms. Beyond that, only process scheduling on a busy machine.
    assert.ok(takeoverMs <= 15_000 + 2_000 + 2_000 + 5_000, `B took over after ${takeoverMs} ms, more than the lease time allows`);
    await k.apply(domain('second', 'le', 'second.le.example'));
    await waitFor(() => observed('maildomain', 'le', 'second'), { describe: 'B reconciles after the take-over' });
    await waitFor(() => serverAccepts('le', 2), { describe: "B updates the server's view of its domains" });

    assert.equal(await b.stop(), 0);
    const lease = await k.json<{ spec: { holderIdentity?: string } }>(['get', 'lease', '-n', 'default', 'mapi-operator-leader']);
    assert.ok(!lease.spec.holderIdentity, `lease released on SIGTERM (holder: ${lease.spec.holderIdentity})`);
  });

  test('restart the kube-apiserver under a running operator: it recovers without restarting', async (t) => {
    const ns = 'restart';
    await freshNamespace(k, ns);
    const op = await operator(['--namespace', ns], 'restart');
    await k.apply(server(ns, 'mail.restart.example'));
    await k.apply(domain('before', ns, 'before.restart.example'));
    await waitFor(() => observed('maildomain', ns, 'before'), { describe: 'reconciled before the restart' });
    await cp.restartApiServer();
    const restartedAt = Date.now();
    await k.apply(domain('after', ns, 'after.restart.example'));
    await waitFor(() => observed('maildomain', ns, 'after'), { describe: 'reconciled after the apiserver restart', timeoutMs: 90_000 });
    await waitFor(() => serverAccepts(ns, 2), { describe: 'the server counts the new domain', timeoutMs: 30_000 });
    t.diagnostic(`a MailDomain applied after the apiserver restart converged in ${Date.now() - restartedAt} ms (server included)`);
    assert.ok(await k.tryGet('ingress', ns, 'after-autodiscover'));
    assert.equal(op.child.exitCode, null, 'the operator process kept running');
    const ready = await fetchText(`${op.healthUrl()}/readyz`);
    assert.equal(ready.status, 200, `readyz after the restart: ${ready.body}`);
  });

  test('kill -9 while one MapiServer and its 200 MailDomains are being created: after a restart every one converges, nothing duplicated or orphaned', async (t) => {
    const ns = 'bulk';
    const count = BULK_DOMAINS;
    await freshNamespace(k, ns);
    const op = await operator(['--namespace', ns, '--concurrency', '8'], 'bulk-1');
    // One Mailbox in each of the first 20 domains: the access list carries them too.
    const mailboxes = Array.from({ length: BULK_MAILBOXES }, (_, i) => mailboxManifest(`user${i}`, ns, { domainRef: `d${i}`, address: `user${i}@d${i}.bulk.example` }));
    const items = [server(ns, 'mail.bulk.example'), ...Array.from({ length: count }, (_, i) => domain(`d${i}`, ns, `d${i}.bulk.example`)), ...mailboxes];
    // create, not apply: one request per object, and the operator is killed while they are
    // still being created (it keeps up with kubectl: waiting for the create first left it
    // nothing to do by the time it was killed). Counted straight from the apiserver, not
    // through a kubectl process per look, so the kill follows the first children closely.
    const created = k.ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const api = new KubeClient(loadKubeConfig(cp.kubeconfigPath));
    const domainIngresses = async () => (await api.request<{ items: unknown[] }>({ path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`, query: { labelSelector: 'mapi-operator.io/maildomain' }, timeoutMs: 10_000 })).items.length;
    await waitFor(async () => (await domainIngresses()) >= 10, { describe: 'the first children', timeoutMs: 60_000, intervalMs: 20 });
    await op.kill9();
    await created;
    const before = await domainIngresses();
    assert.ok(before < count, `killed mid-way (${before} of ${count} MailDomain Ingresses existed)`);

    const restartedAt = Date.now();
    bulkOperator = await operator(['--namespace', ns, '--concurrency', '8'], 'bulk-2');
    await waitFor(async () => {
      const mds = await k.json<{ items: Stored[] }>(['get', 'maildomains', '-n', ns]);
      if (mds.items.filter((m) => m.status?.observedGeneration === m.metadata.generation).length !== count || !(await serverAccepts(ns, count))) return false;
      const access = await k.tryGet<{ data?: Record<string, string> }>('configmap', ns, 'mapi-mapi-access');
      const index = JSON.parse(access?.data?.['access.json'] ?? '{}') as { domains?: object };
      return Object.keys(index.domains ?? {}).length === count && Object.keys(JSON.parse(access?.data?.['mailboxes-0.json'] ?? '{}') as object).length === BULK_MAILBOXES;
    }, { describe: `all ${count} MailDomains, their Mailboxes and their server reconciled`, timeoutMs: 180_000, intervalMs: 2_000 });
    t.diagnostic(`killed with ${before}/${count} MailDomain Ingresses; all ${count} MailDomains and the MapiServer converged ${Date.now() - restartedAt} ms after the restart`);

    const mds = await k.json<{ items: Stored[] }>(['get', 'maildomains', '-n', ns]);
    const srv = await k.json<Stored>(['get', 'mapiserver', '-n', ns, 'mapi']);
    const domainUids = new Set(mds.items.map((m) => m.metadata.uid));
    const domainNames = mds.items.map((m) => `${m.metadata.name}-autodiscover`).sort();
    // Per server: its Deployment, Service, PDB, external-host Certificate and Ingress, and an
    // access list of 200 domains and 20 Mailboxes, which fits one ConfigMap. Per MailDomain:
    // its autodiscover Certificate and Ingress.
    const expected: Record<string, { server: string[]; domain: string[] }> = {
      deployments: { server: ['mapi-mapi'], domain: [] },
      services: { server: ['mapi-mapi'], domain: [] },
      poddisruptionbudgets: { server: ['mapi-mapi'], domain: [] },
      configmaps: { server: ['mapi-mapi-access'], domain: [] },
      certificates: { server: ['mapi-mapi'], domain: domainNames },
      ingresses: { server: ['mapi-mapi'], domain: domainNames },
    };
    for (const [kind, want] of Object.entries(expected)) {
      const list = await k.json<{ items: { metadata: { name: string; ownerReferences?: { uid: string; kind: string }[] } }[] }>(['get', kind, '-n', ns, '-l', 'app.kubernetes.io/managed-by=mapi-operator']);
      const ownedBy = (uids: Set<string>, ownerKind: string) => list.items.filter((o) => o.metadata.ownerReferences?.some((r) => r.kind === ownerKind && uids.has(r.uid))).map((o) => o.metadata.name).sort();
      assert.equal(list.items.length, want.server.length + want.domain.length, `${kind}: ${list.items.length}, want ${want.server.length + want.domain.length}`);
      assert.deepEqual(ownedBy(new Set([srv.metadata.uid]), 'MapiServer'), want.server, `${kind} of the MapiServer`);
      assert.deepEqual(ownedBy(domainUids, 'MailDomain'), want.domain, `${kind} of the MailDomains, one each`);
    }
  });

  test('after convergence, a minute and a half of 5 s resyncs over the 200 MailDomains and their server cause zero writes (counted at a proxy in front of the operator)', async (t) => {
    // The namespace the previous test converged: a fresh operator with a 5 s resync takes it over.
    const ns = 'bulk';
    const objects = BULK_DOMAINS + 1;
    await bulkOperator?.stop();
    // Only the operator's requests: apiserver_request_total also counts the controller
    // manager's and the scheduler's Events, and one of theirs in the window failed this test.
    const proxy = await startApiProxy({ kubeconfigPath: cp.kubeconfigPath });
    t.after(() => proxy.stop());
    const operatorWrites = () => new Map([...proxy.counts()].filter(([key]) => isWrite(key)));
    const writesBeforeStart = operatorWrites();
    const op = running[running.push(await startOperator({ kubeconfig: proxy.kubeconfigPath, args: ['--namespace', ns, '--resync-period', '5s'], name: 'quiet' })) - 1]!;
    const startedAt = Date.now();
    const reconciles = async () => {
      const [servers, domains] = await Promise.all(['mapiserver', 'maildomain'].map((c) => metric(op.metricsUrl(), 'controller_runtime_reconcile_total', { controller: c })));
      return { servers: servers!, domains: domains! };
    };
    await waitFor(async () => {
      const r = await reconciles();
      return r.servers >= 1 && r.domains >= BULK_DOMAINS;
    }, { describe: 'the new operator looked at every object once', timeoutMs: 60_000 });
    // Converged: the write count stops moving for longer than an Event series is held back (30 s),
    // and a first-status grace would be over: the 20 Mailboxes never had a status (their domains
    // wait for a certificate no cert-manager issues here, CertificateIssuing, so every operator
    // holds them back until a verdict).
    const total = () => [...operatorWrites().values()].reduce((a, b) => a + b, 0);
    let last = total();
    await waitFor(async () => {
      await new Promise((r) => setTimeout(r, 35_000));
      const now = total();
      const still = now === last && Date.now() - startedAt > FIRST_STATUS_GRACE_MS + 10_000;
      last = now;
      return still;
    }, { describe: 'writes to settle', timeoutMs: 240_000, intervalMs: 0 });
    const atStart = difference(writesBeforeStart, operatorWrites());
    t.diagnostic(`a fresh operator taking over ${objects} converged objects wrote ${Object.values(atStart).reduce((a, b) => a + b, 0)} times: ${JSON.stringify(atStart)}`);
    // It judges by the rows the last run wrote until its own checks have run, and those find the
    // same: no MailDomain's status is written (it was twice each: "checks pending", then the
    // verdict again), and the server's keeps the last run's report until its own is in (it was
    // written twice: "checks pending, 0/200 pass", then "200/200" again).
    const statusWrites = (resource: string) => Object.entries(atStart).filter(([key]) => key.endsWith(` ${resource}/status`)).reduce((a, [, n]) => a + n, 0);
    assert.equal(statusWrites('maildomains'), 0, `MailDomain status writes while taking over: ${JSON.stringify(atStart)}`);
    assert.equal(statusWrites('mapiservers'), 0, `MapiServer status writes while taking over: ${JSON.stringify(atStart)}`);

    const before = await reconciles();
    const countsBefore = operatorWrites();
    // Long enough for 18 rounds of resyncs, short enough to keep this file near 4 minutes.
    const windowMs = 90_000;
    await new Promise((r) => setTimeout(r, windowMs));
    const written = difference(countsBefore, operatorWrites());
    const writes = Object.values(written).reduce((a, b) => a + b, 0);
    const after = await reconciles();
    const serverReconciles = after.servers - before.servers;
    const domainReconciles = after.domains - before.domains;
    t.diagnostic(`${windowMs / 1000} s of 5 s resyncs over ${objects} objects: ${serverReconciles} MapiServer and ${domainReconciles} MailDomain reconciles, ${writes} writes`);
    // A resync every 5 s is 18 rounds in 90 s; allow for rounds that fall at the edges.
    assert.ok(serverReconciles >= 15, `the server was resynced (${serverReconciles} reconciles)`);
    assert.ok(domainReconciles >= BULK_DOMAINS * 15, `the MailDomains were resynced (${domainReconciles} reconciles)`);
    assert.equal(writes, 0, `${writes} write requests during the resyncs: ${JSON.stringify(written)} (operator log ${op.logFile})`);
  });
});
