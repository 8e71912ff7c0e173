// The caBundle and probeCredentials references of the check runs: 100 MailDomains of one server
// naming the same ConfigMap and Secret cost one GET of each per window (it was one GET per key
// per run: 4 per run, 400 for 100 runs), a fixed object is seen once the window (the smaller
// of the interval and 30 s) is over, failures are not kept, and an aborted run stops waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { CheckRuns, ReferenceReads, type ObjectRead } from '../../../src/controllers/checks/check-runs.ts';
import type { CheckTarget } from '../../../src/checks/types.ts';
import type { KubeClient } from '../../../src/kube/index.ts';

/** Any real certificate will do as the referenced bundle. */
const PEM = `${tls.rootCertificates[0]}\n`;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const target = (domain: string): CheckTarget => ({
  domain, aliases: [], externalHost: 'mail.hoster.example', autodiscoverHosts: [], require: 'Any', nameservers: [], includeHttp: true,
});

test('100 check runs referencing one ConfigMap and one Secret: one GET of each', async () => {
  const gets: string[] = [];
  const client = {
    request: async (opts: { method: string; path: string }) => {
      gets.push(`${opts.method} ${opts.path}`);
      await new Promise((r) => setTimeout(r, 5));
      if (opts.path.includes('/configmaps/')) return { data: { 'ca.crt': PEM } };
      return { data: { username: b64('probe'), password: b64('S3cret-Value'), address: b64('probe@d0.example') } };
    },
  } as unknown as KubeClient;
  const logged: unknown[] = [];
  const log = { warn: (...args: unknown[]) => logged.push(args), info: () => {}, debug: () => {}, error: (...args: unknown[]) => logged.push(args) } as unknown as Logger;
  const seen: CheckTarget[] = [];
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => { allDone = resolve; });
  const runs = new CheckRuns({
    client, log, onChange: () => {},
    runChecks: async (t) => { seen.push(t); return []; },
    onRun: () => { if (++done === 100) allDone(); },
  });
  for (let i = 0; i < 100; i++) {
    runs.ensure('MailDomain', `tenant/d${i}`, {
      target: target(`d${i}.example`), intervalMs: 60_000, namespace: 'tenant',
      caBundle: { kind: 'ConfigMap', name: 'hoster-ca', key: 'ca.crt' }, credentialsSecret: 'probe-account',
    });
  }
  await finished;
  await runs.stop();
  assert.deepEqual(gets.sort(), ['GET /api/v1/namespaces/tenant/configmaps/hoster-ca', 'GET /api/v1/namespaces/tenant/secrets/probe-account']);
  assert.equal(seen.length, 100);
  assert.ok(seen.every((t) => t.caBundlePem === PEM && t.probeCredentials?.password === 'S3cret-Value'), 'every run got the bundle and the credentials');
  assert.deepEqual(logged, [], 'nothing logged');
});

function reads(answers: (() => Promise<ObjectRead>)[]) {
  let now = 0;
  let calls = 0;
  const r = new ReferenceReads(() => (answers[Math.min(calls++, answers.length - 1)] as () => Promise<ObjectRead>)(), () => now);
  return { r, calls: () => calls, advance: (ms: number) => { now += ms; } };
}
const signal = () => new AbortController().signal;
const bundle = (pem: string): ObjectRead => ({ found: true, data: { 'ca.crt': pem } });

test('a read is shared for the window the run accepts; a fixed object is seen after it', async () => {
  const { r, calls, advance } = reads([async () => bundle('old'), async () => bundle('fixed')]);
  assert.deepEqual(await r.read('ConfigMap', 'ns', 'ca', 30_000, signal()), bundle('old'));
  advance(29_999);
  assert.deepEqual(await r.read('ConfigMap', 'ns', 'ca', 30_000, signal()), bundle('old'));
  assert.equal(calls(), 1);
  advance(1);
  assert.deepEqual(await r.read('ConfigMap', 'ns', 'ca', 30_000, signal()), bundle('fixed'));
  assert.equal(calls(), 2);
  // Another object, another read; a run accepting less age asks again sooner.
  await r.read('Secret', 'ns', 'ca', 30_000, signal());
  assert.equal(calls(), 3);
  advance(10_000);
  await r.read('ConfigMap', 'ns', 'ca', 10_000, signal());
  assert.equal(calls(), 4);
});

test('concurrent runs share the GET in flight; a failed GET is not kept; an aborted run stops waiting', async () => {
  let release: (read: ObjectRead) => void = () => {};
  const slow = () => new Promise<ObjectRead>((resolve) => { release = resolve; });
  const { r, calls } = reads([slow, async () => { throw new Error('apiserver unavailable'); }, async () => ({ found: false })]);
  const aborted = new AbortController();
  const waiting = [r.read('Secret', 'ns', 'creds', 30_000, signal()), r.read('Secret', 'ns', 'creds', 30_000, signal())];
  const abandoned = r.read('Secret', 'ns', 'creds', 30_000, aborted.signal);
  aborted.abort(new Error('run stopped'));
  await assert.rejects(abandoned, /run stopped/);
  release({ found: true, data: { password: b64('x') } });
  assert.deepEqual(await Promise.all(waiting), [{ found: true, data: { password: b64('x') } }, { found: true, data: { password: b64('x') } }]);
  assert.equal(calls(), 1);

  const other = reads([async () => { throw new Error('apiserver unavailable'); }, async () => ({ found: false })]);
  await assert.rejects(other.r.read('Secret', 'ns', 'gone', 30_000, signal()), /apiserver unavailable/);
  assert.deepEqual(await other.r.read('Secret', 'ns', 'gone', 30_000, signal()), { found: false }, 'asked again after a failure');
  assert.deepEqual(await other.r.read('Secret', 'ns', 'gone', 30_000, signal()), { found: false });
  assert.equal(other.calls(), 2, 'a 404 is an answer and is kept');
});
