// The Argo CD health check (deploy/argocd/health/health.lua) run by a real Lua interpreter
// (Debian's lua5.4, installed by src/dev/install-test-deps.sh) against the status objects in
// testdata/, with the expectations in Argo CD's own health_test.yaml format. Argo CD runs the
// script with the object as the global `obj` and takes the table it returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';

const root = path.join(import.meta.dirname, '..', '..', '..');
const healthDir = path.join(root, 'deploy/argocd/health');
const script = path.join(healthDir, 'health.lua');
const LUA = process.env.LUA ?? 'lua5.4';

/** A JSON value as a Lua table constructor (strings with %q-style escapes). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${toLua(k)}] = ${toLua(x)}`).join(', ')}}`;
}

function lua(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(LUA, args, { timeout: 10_000, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') assert.fail(`${LUA} is not installed: run bash src/dev/install-test-deps.sh (apt-get install lua5.4)`);
      resolve({ code: err ? 1 : 0, stdout, stderr });
    });
  });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'argocd-health-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Runs health.lua for one object the way Argo CD does, and returns {status, message}. */
async function health(obj: unknown): Promise<{ status: string; message: string }> {
  const harness = path.join(tmp, `run-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(harness, `obj = ${toLua(obj)}\nlocal hs = dofile(${toLua(script)})\nio.write(hs.status, "\\n", hs.message or "")\n`);
  const r = await lua([harness]);
  assert.equal(r.code, 0, `lua failed: ${r.stderr}`);
  const [status, ...message] = r.stdout.split('\n');
  return { status: status!, message: message.join('\n') };
}

interface HealthTests { tests: { healthStatus: { status: string; message: string }; inputPath: string }[] }
const cases = (load(readFileSync(path.join(healthDir, 'health_test.yaml'), 'utf8')) as HealthTests).tests;

test('the interpreter is a real Lua 5.4 and the script compiles', async () => {
  const v = await lua(['-v']);
  assert.match(v.stdout + v.stderr, /^Lua 5\.4/);
  const compiled = await lua(['-e', `assert(loadfile(${toLua(script)}))`]);
  assert.equal(compiled.code, 0, compiled.stderr);
});

test('every recorded status object is covered by health_test.yaml, and every kind appears', () => {
  const inputs = readdirSync(path.join(healthDir, 'testdata')).map((f) => `testdata/${f}`).sort();
  assert.deepEqual(cases.map((c) => c.inputPath).sort(), inputs);
  const kinds = new Set(inputs.map((p) => (load(readFileSync(path.join(healthDir, p), 'utf8')) as { kind: string }).kind));
  assert.deepEqual([...kinds].sort(), ['MailDomain', 'Mailbox', 'MapiServer']);
  const statuses = new Set(cases.map((c) => c.healthStatus.status));
  assert.deepEqual([...statuses].sort(), ['Degraded', 'Healthy', 'Progressing', 'Suspended']);
});

for (const c of cases) {
  test(`${c.inputPath} → ${c.healthStatus.status}`, async () => {
    const obj = load(readFileSync(path.join(healthDir, c.inputPath), 'utf8'));
    assert.deepEqual(await health(obj), c.healthStatus);
  });
}

test('precedence: Ready beats everything; Stalled or Degraded beat RolloutHeld; a stale observedGeneration is Progressing whatever the conditions say', async () => {
  const cond = (type: string, status = 'True') => ({ type, status, reason: `${type}Reason`, message: `${type} message` });
  const obj = (conditions: unknown[], generation = 1, observed = 1) => ({ metadata: { generation }, status: { observedGeneration: observed, conditions } });
  assert.equal((await health(obj([cond('Ready'), cond('Degraded'), cond('RolloutHeld')]))).status, 'Healthy');
  assert.deepEqual(await health(obj([cond('Ready', 'False'), cond('RolloutHeld'), cond('Stalled')])), { status: 'Degraded', message: 'StalledReason: Stalled message' });
  assert.deepEqual(await health(obj([cond('Ready', 'False'), cond('RolloutHeld'), cond('Degraded')])), { status: 'Degraded', message: 'DegradedReason: Degraded message' });
  assert.deepEqual(await health(obj([cond('Ready', 'False'), cond('RolloutHeld')])), { status: 'Suspended', message: 'RolloutHeldReason: RolloutHeld message' });
  assert.equal((await health(obj([cond('Stalled')], 5, 4))).status, 'Progressing');
  assert.deepEqual(await health(obj([])), { status: 'Progressing', message: 'Waiting for the Ready condition' });
  assert.equal((await health(obj([cond('Ready', 'Unknown')]))).status, 'Progressing');
});

test('deploy/argocd/argocd-cm.yaml carries health.lua verbatim for each of the three kinds', () => {
  const cm = load(readFileSync(path.join(root, 'deploy/argocd/argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
  const source = readFileSync(script, 'utf8');
  assert.deepEqual(Object.keys(cm.data).sort(), ['MailDomain', 'Mailbox', 'MapiServer'].map((k) => `resource.customizations.health.mapi-operator.io_${k}`));
  for (const [key, text] of Object.entries(cm.data)) assert.equal(text, source, `${key} is health.lua (regenerate the ConfigMap from it)`);
});
