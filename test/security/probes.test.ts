// Probes go only where they may, on the real control plane with a real DNS server (BIND): the
// tenant's hosts resolve to loopback, where listeners stand in for the cluster's internal
// services and count every connection. With the production policy nothing connects and the
// status says why; with the test-only --probe-loopback the same setup connects (the listeners
// do count). Cluster-internal names are neither looked up nor dialled. No traffic is ever sent
// to a non-loopback address: those refusals are proved by the unit tests of the policy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startDnsServer, type TestDnsServer } from '../../src/dev/dns-server.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { CERTIFICATE_NOT_ISSUED } from '../../src/checks/tls-check.ts';
import { domain, get, k, kubeconfig, server } from './support.ts';

const strictNs = 'sec-probes';
const loopbackNs = 'sec-probes-loop';

interface CountingListener { port: number; connections: number; close(): Promise<void> }

/** A TCP listener on loopback that counts connections and closes each at once. */
async function countingListener(): Promise<CountingListener> {
  const state = { connections: 0 };
  const srv = net.createServer((socket) => { state.connections++; socket.destroy(); });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    get connections() { return state.connections; },
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

let dns: TestDnsServer;
let https: CountingListener;
let http: CountingListener;

before(async () => {
  for (const n of [strictNs, loopbackNs]) await freshNamespace(k, n);
  https = await countingListener();
  http = await countingListener();
  // Every name of the tenant's zone points at loopback, as a name pointing into the cluster would.
  // Two zones: a host belongs to one server across namespaces, so each operator gets its own.
  const zone = ['@ IN A 127.0.0.1', 'mail IN A 127.0.0.1', 'autodiscover IN A 127.0.0.1'];
  dns = await startDnsServer({ zones: { 'probe-sec.test': zone, 'probe-loop.test': zone } });
});

after(async () => {
  await dns?.stop();
  await https?.close();
  await http?.close();
});

const rows = async (kind: string, namespace: string, name: string) => (await get(kind, namespace, name))?.status?.checks ?? [];
// A host is probed once its certificate is issued; the row before that says so (not a probe).
const probed = (r: { name: string; reason: string }) => r.name.startsWith('tls/') && r.reason !== CERTIFICATE_NOT_ISSUED;
const probeArgs = () => ['--https-port', String(https.port), '--http-port', String(http.port)];

async function declare(namespace: string, zone: string, internalHost: string): Promise<void> {
  await k.apply(server('mapi', namespace, `mail.${zone}`, { checks: { nameservers: [dns.nameserver], interval: '30s' } }));
  await k.apply(domain('probe', namespace, 'mapi', zone));
  await k.apply(server('internal', namespace, internalHost, { checks: { nameservers: [dns.nameserver], interval: '30s' } }));
}

describe('the production probe policy', () => {
  let op: OperatorProcess;
  before(async () => { op = await startOperator({ kubeconfig, namespaces: [strictNs], name: 'sec-probes', probeLoopback: false, args: probeArgs() }); });
  after(async () => { assert.equal(await op.stop(), 0, `exit code (log ${op.logFile})`); });

  test('a tenant host resolving to loopback is refused with a clear result, and no connection leaves', async () => {
    await declare(strictNs, 'probe-sec.test', 'kubernetes.default.svc');
    const tls = await waitFor(async () => (await rows('mapiserver', strictNs, 'mapi')).find((r) => r.name === 'tls/mail.probe-sec.test' && probed(r)), { timeoutMs: 60_000, describe: `tls row of mail.probe-sec.test (log ${op.logFile})` });
    assert.equal(tls.status, 'Failed');
    assert.equal(tls.reason, 'AddressNotAllowed');
    assert.match(tls.message, /127\.0\.0\.1 is loopback/);
    const domainTls = await waitFor(async () => (await rows('maildomain', strictNs, 'probe')).find((r) => r.name === 'tls/autodiscover.probe-sec.test' && probed(r)), { timeoutMs: 60_000, describe: 'tls row of the autodiscover host' });
    assert.equal(domainTls.reason, 'AddressNotAllowed');
    assert.match(op.logs(), /probes reach public addresses only/);
  });

  test('a cluster-internal name is neither looked up nor dialled', async () => {
    const all = await waitFor(async () => { const r = await rows('mapiserver', strictNs, 'internal'); return r.some(probed) ? r : undefined; }, { timeoutMs: 60_000, describe: `rows of the internal server (log ${op.logFile})` });
    const tls = all.find((r) => r.name === 'tls/kubernetes.default.svc');
    assert.equal(tls?.status, 'Failed', JSON.stringify(all));
    assert.match(`${tls?.reason}: ${tls?.message}`, /cluster-internal|not allowed|REFUSED/i);
    assert.equal(https.connections + http.connections, 0, 'not one connection reached a listener');
  });
});

describe('the test-only --probe-loopback (positive control: the listeners do count)', () => {
  let op: OperatorProcess;
  before(async () => { op = await startOperator({ kubeconfig, namespaces: [loopbackNs], name: 'sec-probes-loop', args: probeArgs() }); });
  after(async () => { assert.equal(await op.stop(), 0, `exit code (log ${op.logFile})`); });

  test('the same hosts are dialled when loopback is allowed, and the log says it is for tests', async () => {
    await declare(loopbackNs, 'probe-loop.test', 'api.default.svc.cluster.local');
    await waitFor(() => https.connections > 0, { timeoutMs: 60_000, describe: `a probe reaching the loopback listener (log ${op.logFile})` });
    assert.match(op.logs(), /probes may reach loopback \(--probe-loopback\): for tests and local development only/);
    const all = await waitFor(async () => { const r = await rows('mapiserver', loopbackNs, 'internal'); return r.some(probed) ? r : undefined; }, { timeoutMs: 60_000, describe: 'rows of the internal server' });
    const internal = all.find((r) => r.name === 'tls/api.default.svc.cluster.local');
    assert.equal(internal?.status, 'Failed', JSON.stringify(all));
    assert.match(`${internal?.reason}: ${internal?.message}`, /cluster-internal|not allowed|REFUSED/i, 'cluster-internal names stay refused even with loopback allowed');
  });
});
