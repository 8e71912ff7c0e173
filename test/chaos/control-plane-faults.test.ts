// Faults of the Kubernetes side, one after another on one private cluster, each followed by
// the same verdict (converged: nothing duplicated, orphaned or lost), the operator alive, and
// no scale-down of the running MAPI server; the time to converge is reported.
//   kill -9 during mass creation · 429 and 409 from the apiserver · forced watch 410 Gone ·
//   kube-apiserver restart · etcd restart · leader failover with two instances
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { converged, healthy, list, operatorMetric, startChaosCluster, type ChaosCluster } from './cluster.ts';

let c: ChaosCluster;
let op: OperatorProcess;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

before(async () => {
  c = await startChaosCluster('control-plane');
});

after(async () => {
  await c?.stop();
});

describe('control-plane faults', { timeout: 40 * 60_000 }, () => {
  test('kill -9 during mass creation: a new operator converges 30 MailDomains (90 Mailboxes) with nothing duplicated or orphaned', async (t) => {
    const first = await c.operator('mass-1');
    await c.addDomains(range(0, 30));
    await waitFor(async () => (await list(c.admin, 'ingresses', 'mapi-operator.io/maildomain')).length >= 3, { describe: 'the first MailDomain children', timeoutMs: 120_000, intervalMs: 200 });
    await first.kill9();
    const created = (await list(c.admin, 'ingresses', 'mapi-operator.io/maildomain')).length;
    op = await c.operator('mass-2');
    const ms = await converged(c, 'after kill -9');
    t.diagnostic(`killed with ${created}/30 MailDomain Ingresses; converged ${ms} ms after the restart`);
    await healthy(op);
  });

  test('the apiserver answers 429 (Retry-After: 1) to 30 % and 409 to 10 % of writes for 45 s: everything converges once it stops', async (t) => {
    let n = 0;
    c.bw.proxy.setFault((r) => {
      if (!['POST', 'PATCH', 'PUT', 'DELETE'].includes(r.verb)) return undefined;
      n++;
      return n % 10 < 3 ? { status: 429, retryAfterSeconds: 1 } : n % 10 === 3 ? { status: 409 } : undefined;
    });
    const start = Date.now();
    await c.addDomains(range(60, 10));
    await new Promise((r) => setTimeout(r, 45_000));
    c.bw.proxy.setFault(undefined);
    const injected = [...c.bw.proxy.injected().values()].reduce((a, b) => a + b, 0);
    assert.ok(injected > 0, 'faults were injected');
    const ms = await converged(c, 'after 429/409');
    t.diagnostic(`${injected} writes answered 429/409 (${JSON.stringify(Object.fromEntries(c.bw.proxy.injected()))}); converged ${ms} ms after the faults stopped (${Date.now() - start} ms after the change)`);
    await healthy(op);
  });

  test('a forced watch 410 Gone (compacted resourceVersion): every informer relists and the operator converges on a change made meanwhile', async (t) => {
    const goneBefore = await operatorMetric(op, 'mapi_operator_watch_restarts_total', { reason: 'gone' });
    const listsBefore = await operatorMetric(op, 'mapi_operator_informer_lists_total');
    const gone = new Set<string>();
    // Each resource's next watch answers 410 once; then watches work again.
    c.bw.proxy.setFault((r) => (r.verb === 'WATCH' && !gone.has(r.resource) ? (gone.add(r.resource), { status: 410 }) : undefined));
    c.bw.proxy.dropConnections();
    await c.addDomains(range(70, 2));
    const start = Date.now();
    await waitFor(async () => (await operatorMetric(op, 'mapi_operator_watch_restarts_total', { reason: 'gone' })) > goneBefore, { describe: 'a relist after 410', timeoutMs: 120_000 });
    const ms = await converged(c, 'after 410 Gone');
    c.bw.proxy.setFault(undefined);
    const relists = (await operatorMetric(op, 'mapi_operator_informer_lists_total')) - listsBefore;
    t.diagnostic(`410 answered to ${gone.size} resources' watches; ${relists} relists; converged in ${Date.now() - start} ms (${ms} ms after the first relist)`);
    assert.ok(relists >= 1);
    await healthy(op);
  });

  test('kube-apiserver restart: a change made right after converges without an operator restart', async (t) => {
    await c.bw.env.controlPlane.restartApiServer();
    const start = Date.now();
    await c.addDomains(range(72, 2));
    const ms = await converged(c, 'after the apiserver restart');
    t.diagnostic(`converged ${Date.now() - start} ms after the apiserver was back (${ms} ms of waiting)`);
    await healthy(op);
  });

  test('etcd restart: a change made right after converges without an operator restart', async (t) => {
    await c.bw.env.controlPlane.restartEtcd();
    const start = Date.now();
    await waitFor(async () => { await c.addDomains(range(74, 2)); return true; }, { describe: 'the apiserver accepts writes again', timeoutMs: 60_000, intervalMs: 1_000 });
    const ms = await converged(c, 'after the etcd restart');
    t.diagnostic(`converged ${Date.now() - start} ms after etcd was back (${ms} ms of waiting)`);
    await healthy(op);
  });

  test('leader failover with two instances: B takes over within lease + margin after kill -9 of A, and converges a change', async (t) => {
    await op.stop();
    const le = ['--leader-elect', '--leader-election-namespace', 'default'];
    const a = await c.operator('le-a', le);
    await waitFor(async () => (await operatorMetric(a, 'leader_election_master_status')) === 1, { describe: 'A leads', timeoutMs: 60_000 });
    const b = await c.operator('le-b', le);
    await converged(c, 'under A');
    assert.equal(await operatorMetric(b, 'leader_election_master_status'), 0, 'B follows');
    await a.kill9();
    const killedAt = Date.now();
    await waitFor(async () => (await operatorMetric(b, 'leader_election_master_status')) === 1, { describe: 'B takes over', timeoutMs: 60_000, intervalMs: 200 });
    const takeoverMs = Date.now() - killedAt;
    // Lease 15 s, retry period 2 s; margin for a loaded machine.
    assert.ok(takeoverMs <= 15_000 + 2_000 + 8_000, `take-over after ${takeoverMs} ms`);
    await c.addDomains(range(76, 2));
    const ms = await converged(c, 'under B');
    t.diagnostic(`B took over ${takeoverMs} ms after kill -9 of A (lease 15 s); converged a change ${ms} ms later`);
    await healthy(b);
    op = b;
  });

  test('through every fault: the running MAPI server was never scaled down', () => {
    assert.deepEqual(c.guard.scaleDowns, []);
  });
});
