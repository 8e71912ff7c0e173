// The benchmark and the soak start the operator with the image's V8 flags, read from the
// Dockerfile: the flags must be found there and be flags this Node accepts (a typo would make
// every pod of the image fail to start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageNodeOptions, operatorEnv } from '../../../bench/scale/harness.ts';

test('the image sets V8 flags and this Node accepts every one of them', () => {
  const flags = imageNodeOptions();
  assert.ok(flags.length > 0, 'the Dockerfile sets NODE_OPTIONS');
  const run = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: flags.join(' ') }, encoding: 'utf8' });
  assert.equal(run.status, 0, `node refused NODE_OPTIONS="${flags.join(' ')}": ${run.stderr}`);
});

test('a Dockerfile without NODE_OPTIONS is named in the error', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockerfile-'));
  const file = path.join(dir, 'Dockerfile');
  writeFileSync(file, 'FROM scratch\n');
  assert.throws(() => imageNodeOptions(new URL(`file://${file}`)), new RegExp(`${file}: no ENV NODE_OPTIONS`));
});

test('--operator-env takes NAME=VALUE pairs, keeps "=" in a value, and names a bad one', () => {
  assert.deepEqual(operatorEnv(['MALLOC_ARENA_MAX=2', 'GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072']), {
    MALLOC_ARENA_MAX: '2', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072',
  });
  assert.deepEqual(operatorEnv([]), {});
  assert.throws(() => operatorEnv(['MALLOC_ARENA_MAX']), /--operator-env "MALLOC_ARENA_MAX": expected NAME=VALUE/);
  assert.throws(() => operatorEnv(['=2']), /expected NAME=VALUE/);
  assert.throws(() => operatorEnv(['NODE_OPTIONS=--max-old-space-size=100']), /give V8 flags with --node-flags/);
});
