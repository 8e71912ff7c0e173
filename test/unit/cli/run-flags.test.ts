// `mapi-operator run` polish: where the cluster configuration comes from (or a clear exit when
// there is none), controller-runtime's flag names, and --log-format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { aliasedFlag, findKubeConfig, IN_CLUSTER_TOKEN, UsageError } from '../../../src/cli/flags.ts';
import { createLogger, formatTextLine } from '../../../src/observability/logger.ts';

const root = path.join(import.meta.dirname, '..', '..', '..');
const main = path.join(root, 'src/cli/main.ts');

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { cwd: root, env, timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('findKubeConfig follows the client order: --kubeconfig, in-cluster, $KUBECONFIG, ~/.kube/config', () => {
  const has = (...files: string[]) => (p: string) => files.includes(p);
  assert.deepEqual(findKubeConfig('/k', {}, has('/k'), '/home/u'), { found: true, source: 'flag', path: '/k' });
  assert.deepEqual(findKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', KUBECONFIG: '/k' }, has(IN_CLUSTER_TOKEN, '/k'), '/home/u'), { found: true, source: 'in-cluster' });
  assert.deepEqual(findKubeConfig(undefined, { KUBECONFIG: `/missing${path.delimiter}/k` }, has('/k'), '/home/u'), { found: true, source: 'KUBECONFIG', path: '/k' });
  assert.deepEqual(findKubeConfig(undefined, {}, has('/home/u/.kube/config'), '/home/u'), { found: true, source: 'home', path: '/home/u/.kube/config' });
});

test('findKubeConfig names what is missing and the fix', () => {
  const none = () => false;
  const flag = findKubeConfig('/nope', {}, none, '/home/u');
  assert.equal(flag.found, false);
  assert.match(!flag.found ? flag.problem : '', /--kubeconfig \/nope: no such file/);
  const pod = findKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: 'x', KUBERNETES_SERVICE_PORT: '443' }, none, '/home/u');
  assert.match(!pod.found ? pod.problem : '', /automountServiceAccountToken: true/);
  const env = findKubeConfig(undefined, { KUBECONFIG: '/gone' }, none, '/home/u');
  assert.match(!env.found ? env.problem : '', /KUBECONFIG=\/gone: no such file/);
  const nothing = findKubeConfig(undefined, {}, none, '/home/u');
  assert.match(!nothing.found ? nothing.problem : '', /no Kubernetes configuration found.*\/home\/u\/\.kube\/config does not exist; pass --kubeconfig PATH or set KUBECONFIG/);
});

test('run exits 1 at once with that message when there is no configuration at all (it used to retry for ever)', async () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'mapi-nokube-'));
  try {
    const env = { PATH: process.env.PATH, HOME: home };
    const r = await run(['run', '--metrics-addr=0', '--health-addr=0'], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^mapi-operator run: no Kubernetes configuration found: .*pass --kubeconfig PATH or set KUBECONFIG\n$/);
    const missing = await run(['run', '--kubeconfig', path.join(home, 'absent')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--kubeconfig .*absent: no such file/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("controller-runtime's --metrics-bind-address / --health-probe-bind-address stand for ours; both only when equal", () => {
  assert.equal(aliasedFlag({ 'metrics-bind-address': ':9090' }, 'metrics-addr', 'metrics-bind-address'), ':9090');
  assert.equal(aliasedFlag({ 'metrics-addr': ':9090' }, 'metrics-addr', 'metrics-bind-address'), ':9090');
  assert.equal(aliasedFlag({ 'metrics-addr': ':9090', 'metrics-bind-address': ':9090' }, 'metrics-addr', 'metrics-bind-address'), ':9090');
  assert.equal(aliasedFlag({}, 'metrics-addr', 'metrics-bind-address'), undefined);
  assert.throws(() => aliasedFlag({ 'health-addr': ':1', 'health-probe-bind-address': ':2' }, 'health-addr', 'health-probe-bind-address'),
    (e: unknown) => e instanceof UsageError && /--health-addr=:1 and --health-probe-bind-address=:2 name the same address: give one of them/.test(e.message));
});

test('run accepts the new flags, and refuses a bad --log-format naming the choices', async () => {
  const help = await run(['run', '--help'], process.env);
  assert.equal(help.code, 0);
  for (const f of ['--metrics-bind-address', '--health-probe-bind-address', '--log-format']) assert.match(help.stdout, new RegExp(f));
  const bad = await run(['run', '--log-format', 'yaml'], process.env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-format=yaml: use json or text/);
  const clash = await run(['run', '--metrics-addr=:1', '--metrics-bind-address=:2'], process.env);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /name the same address/);
});

test('--log-format text: one readable line per record, still redacted', () => {
  let out = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { out += chunk.toString(); cb(); } });
  const logger = createLogger({ format: 'text', destination: sink as unknown as NodeJS.WritableStream & { write(s: string): boolean } });
  logger.info({ controller: 'maildomain', name: 'example-com', password: 'hunter2', note: 'two words' }, 'reconciled');
  const line = out.trimEnd();
  assert.match(line, /^\d{4}-\d\d-\d\dT\S+ INFO {2}reconciled controller=maildomain name=example-com password=\[REDACTED\] note="two words"$/);
  assert.doesNotMatch(out, /hunter2/);
  assert.equal(out.split('\n').length, 2, 'one line and its newline');
  assert.equal(formatTextLine('not json'), 'not json\n', 'a line that is not JSON passes through');
});

test('lease timings are flags, and an unsafe order is refused naming both flags', async () => {
  const help = await run(['run', '--help'], process.env);
  for (const f of ['--leader-elect-lease-duration', '--leader-elect-renew-deadline', '--leader-elect-retry-period']) assert.match(help.stdout, new RegExp(f));
  const bad = await run(['run', '--leader-elect-lease-duration=5s', '--leader-elect-renew-deadline=10s'], process.env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--leader-elect-lease-duration must be longer than --leader-elect-renew-deadline/);
  const retry = await run(['run', '--leader-elect-retry-period=20s'], process.env);
  assert.equal(retry.code, 2);
  assert.match(retry.stderr, /--leader-elect-renew-deadline must be longer than --leader-elect-retry-period/);
  const notDuration = await run(['run', '--leader-elect-retry-period=often'], process.env);
  assert.match(notDuration.stderr, /--leader-elect-retry-period: "often" is not a duration/);
});
