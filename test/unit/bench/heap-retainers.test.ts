// heap-retainers: the dominator tree of a real heap snapshot names the structure that keeps
// memory alive (a Map in a class field), with what it retains, and lists objects held by two
// structures by their shape instead of charging one owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { retainers, type Retainer } from '../../../bench/memory/heap-retainers.ts';

test('retainers: a class whose Map keeps 20,000 strings is named with what it retains; objects two Maps share are listed by shape', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-retainers-'));
  try {
    const file = path.join(dir, 'x.heapsnapshot');
    const script = `const v8 = require('node:v8');
      class KeyHolder { #byKey = new Map(); add(k) { this.#byKey.set(k, k + '/value-with-some-length'); } }
      const holder = new KeyHolder();
      for (let i = 0; i < 20000; i++) holder.add('tenant-' + (i % 10) + '/mailbox-' + i);
      const a = new Map(), b = new Map();
      for (let i = 0; i < 3000; i++) { const shared = { sharedName: 'm' + i, sharedSpec: { i } }; a.set(i, shared); b.set(i, shared); }
      globalThis.keep = { holder, a, b };
      v8.writeHeapSnapshot(${JSON.stringify(file)});`;
    execFileSync(process.execPath, ['-e', script], { timeout: 60_000 });
    const r = retainers(file, { minBytes: 256 * 1024, depth: 8 });
    const flat: Retainer[] = [];
    const walk = (list: Retainer[]) => { for (const x of list) { flat.push(x); walk(x.children); } };
    walk(r.tree);
    const holder = flat.find((x) => x.label === 'object:KeyHolder');
    assert.ok(holder, `KeyHolder among the retainers: ${flat.slice(0, 15).map((x) => x.label).join(', ')}`);
    // 20,000 keys and 20,000 values of 30-60 characters: well over 1.5 MiB.
    assert.ok(holder.retainedBytes > 1.5 * 1048576, `${holder.retainedBytes} bytes`);
    assert.ok(holder.children.some((c) => c.edge === '#byKey' && c.label === 'object:Map'), 'reached through its #byKey Map');
    assert.ok(r.totalBytes > holder.retainedBytes);
    const shared = r.sharedByShape.find((s) => s.shape === '{sharedName,sharedSpec}');
    // 3,000, and V8's own template of the literal (its boilerplate) may count as one more.
    assert.ok(shared && shared.count >= 3000 && shared.count <= 3001, `held by two Maps, owned by neither: ${shared?.count}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
