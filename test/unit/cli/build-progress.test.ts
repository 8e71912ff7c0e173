// tools/controlplane/progress.sh, which the control-plane, helm and cert-manager builds use to
// say which binary they build, the time elapsed and an estimate instead of a silent wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = path.join(import.meta.dirname, '..', '..', '..', 'tools/controlplane/progress.sh');

function bash(body: string, cacheRoot: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', `set -euo pipefail; source '${script}'; cache_root='${cacheRoot}'; ${body}`], { timeout: 30_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

test('names the step and its estimate, records the measured time, and uses it as the next estimate', async () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'progress-'));
  try {
    const first = await bash('with_progress kube-apiserver-v1 300 true', cache);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /^building kube-apiserver-v1 \(about 5m00s, typical on 2 cores\)\.\.\.\nbuilt kube-apiserver-v1 in \d+s\n$/);
    assert.match(readFileSync(path.join(cache, 'build-times', 'kube-apiserver-v1'), 'utf8'), /^\d+\n$/);
    // A recorded 0 s is no estimate: the default stays until a real measurement exists.
    const second = await bash(`echo 95 > '${cache}/build-times/kube-apiserver-v1'; with_progress kube-apiserver-v1 300 true`, cache);
    assert.match(second.stderr, /^building kube-apiserver-v1 \(about 1m35s, last build here\)/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a failing step says so with its exit code, records nothing, and fails the script', async () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'progress-'));
  try {
    const r = await bash('with_progress etcd-v3 120 bash -c "exit 3"; echo not reached >&2', cache);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /building etcd-v3 failed after \d+s \(exit 3\)\n$/);
    assert.doesNotMatch(r.stderr, /not reached/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('while a step runs, it reports elapsed time and what is left every 20 s (off a terminal)', { timeout: 40_000 }, async () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'progress-'));
  try {
    const r = await bash('with_progress kwok-v0 60 sleep 21', cache);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /\n {2}kwok-v0: 2\ds elapsed, about \d+s left\nbuilt kwok-v0 in 2\ds\n$/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
