import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readRssSplit, rssSplit } from '../../../bench/scale/rss-split.ts';

const mapping = (range: string, perms: string, name: string, rssKiB: number): string =>
  `${range} ${perms} 00000000 00:00 0                          ${name}\nSize:               4 kB\nRss:            ${rssKiB} kB\nPss:            ${rssKiB} kB\nVmFlags: rd wr mr mw me ac\n`;

test('files, malloc arenas (brk heap and 64 MiB-aligned thread arenas) and other anonymous mappings are told apart', () => {
  const smaps = [
    mapping('5555680bb000-5555680bd000', 'r-xp', '/usr/local/bin/node', 2048),
    mapping('5555690bb000-5555790bb000', 'rw-p', '[heap]', 10240),
    // A thread arena: 64 MiB-aligned, its used head then the inaccessible rest of the 64 MiB.
    mapping('7f0004000000-7f0004800000', 'rw-p', '', 3072),
    mapping('7f0004800000-7f0008000000', '---p', '', 0),
    // Aligned, but no 64 MiB reservation behind it: a V8 page or an mmapped allocation.
    mapping('7f0010000000-7f0010040000', 'rw-p', '', 256),
    mapping('7f0020012000-7f0020052000', 'rw-p', '', 200),
    mapping('7ffd1c8e2000-7ffd1c903000', 'rw-p', '[stack]', 132),
  ].join('');
  const split = rssSplit(smaps);
  assert.equal(split.fileMiB, 2);
  assert.equal(split.mallocMiB, 13);
  assert.equal(split.anonymousMiB, (256 + 200 + 132) / 1024);
  assert.equal(split.v8PageSizedMiB, 0.25, 'the 256 KiB mapping only');
  assert.equal(split.totalMiB, split.fileMiB + split.mallocMiB + split.anonymousMiB);
});

test('mappings laid out like V8 pages: anonymous, writable, 256 KiB-aligned multiples of 256 KiB under 2 MiB', () => {
  const smaps = [
    mapping('7f0010000000-7f0010040000', 'rw-p', '', 256), // one page
    mapping('7f0011000000-7f00110c0000', 'rw-p', '', 512), // three merged, part resident
    mapping('7f0012000000-7f0012200000', 'rw-p', '', 2048), // 2 MiB: an allocator's extent
    mapping('7f0013000000-7f0013041000', 'rw-p', '', 100), // 260 KiB: not a page multiple
    mapping('7f0014000000-7f0014040000', '---p', '', 0), // a guard
    mapping('7f0015000000-7f0015040000', 'rw-p', '[anon:x]', 64), // named
    mapping('7f0016012000-7f0016052000', 'rw-p', '', 128), // 256 KiB, unaligned
  ].join('');
  assert.equal(rssSplit(smaps).v8PageSizedMiB, (256 + 512) / 1024);
});

test('the split of this process adds up to its RSS, with the Node binary among its files', () => {
  const vmRssMiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  const split = readRssSplit(process.pid)!;
  assert.ok(Math.abs(split.totalMiB - vmRssMiB) < 4, `split ${split.totalMiB} MiB, VmRSS ${vmRssMiB} MiB`);
  assert.ok(split.fileMiB > 10, `files ${split.fileMiB} MiB`);
  assert.ok(split.mallocMiB > 0 && split.anonymousMiB > 0, JSON.stringify(split));
});

test('a process that is gone has no split, not an error', () => {
  assert.equal(readRssSplit(2 ** 22 + 12_345), undefined);
});
