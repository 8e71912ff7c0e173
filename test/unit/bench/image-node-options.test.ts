// The benchmark and the soak start the operator with the image's V8 flags and allocator, read
// from the Dockerfile: the flags must be found there and be flags this Node accepts (a typo
// would make every pod of the image fail to start), and the allocator must load and take its
// settings (a typo there would ship as no setting at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageAllocatorEnv, imageNodeOptions, operatorEnv } from '../../../bench/scale/harness.ts';

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

test('the image preloads jemalloc with its MALLOC_CONF, and this machine\'s Node runs with both', () => {
  const env = imageAllocatorEnv();
  assert.match(env.LD_PRELOAD ?? '', /\/libjemalloc\.so\.2$/, 'the Dockerfile preloads jemalloc; the benchmark finds it here');
  assert.ok(env.MALLOC_CONF, 'the Dockerfile sets MALLOC_CONF');
  // jemalloc names an option it does not know, or a bad value, on stderr and goes on without
  // it; a path ld.so cannot preload is also only a line on stderr. Both would ship as no setting.
  const maps = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("node:fs").readFileSync("/proc/self/maps", "utf8"))'], {
    env: { PATH: process.env.PATH, ...env }, encoding: 'utf8',
  });
  assert.equal(maps.status, 0, maps.stderr);
  assert.equal(maps.stderr, '', 'neither ld.so nor jemalloc complained');
  assert.ok(maps.stdout.includes(env.LD_PRELOAD!), `jemalloc is mapped into node: ${env.LD_PRELOAD}`);
  const bad = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH, LD_PRELOAD: env.LD_PRELOAD!, MALLOC_CONF: 'narenas:two' }, encoding: 'utf8' });
  assert.match(bad.stderr, /<jemalloc>: .*narenas/, 'a bad MALLOC_CONF is reported on stderr (what the assertion above relies on)');
});

test('a Dockerfile without allocator settings leaves the defaults; a quoted value is read; a missing library is named', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dockerfile-'));
  const file = path.join(dir, 'Dockerfile');
  writeFileSync(file, 'FROM scratch\nENV NODE_OPTIONS="--expose-gc"\n');
  assert.deepEqual(imageAllocatorEnv(new URL(`file://${file}`)), {});
  writeFileSync(file, 'FROM scratch\nENV GLIBC_TUNABLES="glibc.malloc.arena_max=2"\n');
  assert.deepEqual(imageAllocatorEnv(new URL(`file://${file}`)), { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
  // The image's path is not this machine's: the library is looked up by its file name.
  writeFileSync(path.join(dir, 'libfake.so.1'), '');
  writeFileSync(file, 'FROM scratch\nENV LD_PRELOAD=/usr/local/lib/libfake.so.1\n');
  assert.deepEqual(imageAllocatorEnv(new URL(`file://${file}`), [path.join(dir, 'nowhere'), dir]), { LD_PRELOAD: path.join(dir, 'libfake.so.1') });
  writeFileSync(file, 'FROM scratch\nENV LD_PRELOAD=/usr/local/lib/libmissing.so.1\n');
  assert.throws(() => imageAllocatorEnv(new URL(`file://${file}`), [dir]), /preloads \/usr\/local\/lib\/libmissing\.so\.1 .*install it/);
});
