// The benchmark and the soak start the operator with the image's V8 flags, read from the
// Dockerfile: the flags must be found there and be flags this Node accepts (a typo would make
// every pod of the image fail to start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageGlibcTunables, imageNodeOptions, operatorEnv } from '../../../bench/scale/harness.ts';

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

test('the image\'s malloc settings are read from the Dockerfile and this glibc (Debian 12\'s, as the image\'s) takes each one', () => {
  const { GLIBC_TUNABLES: tunables } = imageGlibcTunables();
  assert.ok(tunables, 'the Dockerfile sets GLIBC_TUNABLES');
  // ld.so lists the tunables in effect: a misspelt name or a value out of range is silently
  // ignored by glibc, and would ship as no setting at all.
  const listed = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--list-tunables'], { env: { GLIBC_TUNABLES: tunables }, encoding: 'utf8' });
  assert.equal(listed.status, 0, `ld.so --list-tunables: ${listed.stderr}`);
  for (const setting of tunables.split(':')) {
    const [name, value] = setting.split('=') as [string, string];
    const line = listed.stdout.split('\n').find((l) => l.startsWith(`${name}:`));
    assert.ok(line, `${name} is a tunable of this glibc`);
    assert.equal(Number(/: (0x[0-9a-f]+)/.exec(line)![1]), Number(value), `${name} in effect: ${line}`);
  }
});

test('a Dockerfile without GLIBC_TUNABLES leaves glibc\'s defaults; a quoted value is read', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockerfile-'));
  const file = path.join(dir, 'Dockerfile');
  writeFileSync(file, 'FROM scratch\nENV NODE_OPTIONS="--expose-gc"\n');
  assert.deepEqual(imageGlibcTunables(new URL(`file://${file}`)), {});
  writeFileSync(file, 'FROM scratch\nENV GLIBC_TUNABLES="glibc.malloc.arena_max=2"\n');
  assert.deepEqual(imageGlibcTunables(new URL(`file://${file}`)), { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
});
