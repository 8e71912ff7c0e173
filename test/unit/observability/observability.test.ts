import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, objectLogger } from '../../../src/observability/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { HealthChecks, parseAddress, startServing, type Serving } from '../../../src/observability/health-server.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('puts controller, namespace and name on every line of an object logger', () => {
    const { lines, destination } = capture();
    const log = objectLogger(createLogger({ destination, level: 'info' }), 'maildomain', 'mail/example-com');
    log.info('reconciled');
    assert.equal(lines[0]?.controller, 'maildomain');
    assert.equal(lines[0]?.namespace, 'mail');
    assert.equal(lines[0]?.name, 'example-com');
    assert.equal(lines[0]?.level, 'info');
    assert.equal(lines[0]?.msg, 'reconciled');
  });

  it('redacts secret-like fields wherever they appear', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    log.info({
      password: 'p1',
      token: 't1',
      creds: { password: 'p2', authorization: 'Bearer x' },
      secret: { kind: 'Secret', data: { 'tls.key': 'a2V5' }, stringData: { password: 'p3' } },
      req: { headers: { authorization: 'Bearer y' } },
      safe: 'visible',
    }, 'with secrets');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 't1', 'p2', 'Bearer x', 'a2V5', 'p3', 'Bearer y']) {
      assert.ok(!text.includes(`"${secret}"`), `${secret} leaked: ${text}`);
    }
    assert.ok(text.includes('visible'));
  });
});

describe('metrics', () => {
  it('uses controller-runtime names, in a registry per instance', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.reconcileTotal.inc({ controller: 'maildomain', result: 'success' });
    a.workQueue('maildomain').added();
    const text = await a.registry.metrics();
    for (const name of ['controller_runtime_reconcile_total', 'controller_runtime_reconcile_time_seconds', 'controller_runtime_reconcile_errors_total',
      'workqueue_depth', 'workqueue_adds_total', 'workqueue_retries_total', 'workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds',
      'controller_runtime_active_workers', 'leader_election_master_status']) {
      assert.ok(text.includes(`# TYPE ${name} `), `missing ${name}`);
    }
    assert.match(text, /controller_runtime_reconcile_total\{controller="maildomain",result="success"\} 1/);
    assert.match(text, /workqueue_adds_total\{name="maildomain"\} 1/);
    assert.doesNotMatch(await b.registry.metrics(), /result="success"/, 'registries must not be shared');
  });
});

describe('health and metrics server', () => {
  const servers: Serving[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.close())); });

  it('parses addresses', () => {
    assert.deepEqual(parseAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.equal(parseAddress('0'), undefined);
    assert.throws(() => parseAddress('8080'), /host:port/);
  });

  it('serves /healthz always, /readyz once checks pass, /metrics on its own address', async () => {
    const health = new HealthChecks();
    let synced = false;
    health.add('informers-synced', () => (synced ? true : 'caches not synced: maildomains'));
    const metrics = new Metrics();
    const s = await startServing({ metricsAddr: '127.0.0.1:0', healthAddr: '127.0.0.1:0', registry: metrics.registry, health });
    servers.push(s);
    assert.notEqual(s.metricsUrl, s.healthUrl);
    const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal((await get(`${s.healthUrl}/healthz`)).status, 200);
    const notReady = await get(`${s.healthUrl}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /informers-synced: caches not synced: maildomains/);
    synced = true;
    assert.equal((await get(`${s.healthUrl}/readyz`)).status, 200);
    const m = await get(`${s.metricsUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(await m.text(), /# TYPE workqueue_depth gauge/);
    assert.equal((await get(`${s.healthUrl}/metrics`)).status, 404, 'metrics are not on the health address');
  });
});
