// heap-summary --diff: what grew between two heap snapshots of one process is named by its
// constructor, with the count and the bytes it gained (the soak's --heap-snapshots feed it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { growth } from '../../../bench/memory/heap-summary.ts';

test('growth: a class that gained 5,000 instances between two snapshots comes first, with its count', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-growth-'));
  try {
    const [a, b] = [path.join(dir, 'a.heapsnapshot'), path.join(dir, 'b.heapsnapshot')];
    const script = `const v8 = require('node:v8');
      class LeakedEntry { constructor(i) { this.i = i; this.tag = 'entry-' + (i % 7); } }
      const kept = [];
      v8.writeHeapSnapshot(${JSON.stringify(a)});
      for (let i = 0; i < 5000; i++) kept.push(new LeakedEntry(i));
      v8.writeHeapSnapshot(${JSON.stringify(b)});
      globalThis.kept = kept;`;
    execFileSync(process.execPath, ['-e', script], { timeout: 60_000 });
    const g = growth(a, b, 10);
    assert.ok(g.totalBytes > 0);
    assert.equal(g.byConstructor[0]!.name, 'object:LeakedEntry');
    assert.equal(g.byConstructor[0]!.count, 5000);
    assert.ok(g.byConstructor[0]!.bytes >= 5000 * 16);
    const tags = g.strings.filter((s) => /^entry-\d$/.test(s.value));
    assert.equal(tags.reduce((n, s) => n + s.count, 0), 5000, 'the tag strings it gained, by value');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
