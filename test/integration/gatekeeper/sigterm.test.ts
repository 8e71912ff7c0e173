// The gatekeeper as the pod runs it: `mapi-operator gatekeeper` as a process. SIGTERM during a
// long poll: new connections are refused at once, the long poll in flight runs to its end, the
// process exits 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { startFramingServer, type FramingServer } from '../../../src/dev/mapi-framing-server.ts';
import { accessFiles, autodiscover, eventually, KubeletDir, mapiHeaders, PASSWORD, request } from './harness.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const PILAR = 'pilar.pinilla@example.com';

let server: FramingServer;
let access: KubeletDir;
let child: ChildProcess;
let port: number;
let metricsPort: number;
let output = '';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

before(async () => {
  server = await startFramingServer({ users: { [PILAR]: PASSWORD }, pendingMs: 100 });
  access = new KubeletDir();
  access.write(accessFiles({ domains: { 'example.com': true }, mailboxes: { [PILAR]: true } }));
  port = await freePort();
  metricsPort = await freePort();
  // Flags from the environment, as a Deployment may set them.
  child = spawn(process.execPath, [MAIN, 'gatekeeper', '--listen-port', String(port), '--upstream-port', String(server.port), '--access-dir', access.dir], {
    env: { ...process.env, MAPI_GATEKEEPER_METRICS_PORT: String(metricsPort), MAPI_GATEKEEPER_DRAIN_TIMEOUT: '20s' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  await eventually(`the gatekeeper listens (output so far: ${output})`, () => output.includes('gatekeeper listening'), 30_000);
});
after(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await server.close();
  access.remove();
});

test('SIGTERM during a long poll: not ready, new connections refused, the long poll finishes, exit 0', { timeout: 90_000 }, async () => {
  const url = `http://127.0.0.1:${port}`;
  await autodiscover(url, PILAR);
  const path = `/mapi/emsmdb/?MailboxId=${server.mailboxIdOf(PILAR)}@example.com`;
  const connect = await request(url, { path, headers: mapiHeaders('Connect', PILAR) });
  const cookie = String(connect.headers['set-cookie']).split(';')[0]!;
  assert.equal((await request(`http://127.0.0.1:${metricsPort}`, { method: 'GET', path: '/readyz' })).status, 200);

  const held = server.holdNext();
  let body = '';
  const finished = new Promise<{ complete: boolean }>((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: mapiHeaders('NotificationWait', PILAR, { Cookie: cookie }), agent: false }, (res) => {
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('close', () => resolve({ complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
  await held.started;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');

  await eventually('new connections are refused', () => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  }));
  assert.equal((await request(`http://127.0.0.1:${metricsPort}`, { method: 'GET', path: '/readyz' })).status, 503);
  assert.equal(child.exitCode, null, 'still running while the long poll is open');

  held.pending();
  held.done();
  const result = await finished;
  assert.equal(result.complete, true);
  assert.match(body, /^PROCESSING\r\nPENDING\r\nDONE\r\nX-ElapsedTime: \d+\r\n/);
  assert.equal(await exited, 0);
  assert.match(output, /"msg":"gatekeeper stopped"/);
  assert.doesNotMatch(output, /Basic |cGlsYXI|secret/, 'no credentials in the logs');
});
