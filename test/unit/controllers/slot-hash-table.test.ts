import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotHashTable, hashString } from '../../../src/controllers/mailbox/slot-hash-table.ts';

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random inserts, moves and removals against a Map of sets, with strings whose hashes are
 * squeezed into a few values (`spread`) so that runs of cells are long, wrap around the end of
 * the table and shift back on removal — the cases a plain workload rarely reaches.
 */
function checkAgainstMap(spread: number, steps: number, seed: number): void {
  const next = random(seed);
  const table = new SlotHashTable();
  const valueOf: (string | undefined)[] = [];
  // Squeezed hashes sit at the top of the range: their home cells are the table's last ones.
  const hashOf = (value: string) => spread === 0 ? hashString(value) : 0xffffffff - (hashString(value) % spread);
  const expected = new Map<string, Set<number>>();
  const lookup = (value: string) => table.findAll(hashOf(value), (slot) => valueOf[slot] === value).sort((a, b) => a - b);
  for (let step = 0; step < steps; step++) {
    const slot = Math.floor(next() * 300);
    const value = `v${Math.floor(next() * 60)}`;
    const held = valueOf[slot];
    if (held !== undefined) {
      assert.equal(table.remove(slot), true, `step ${step}: slot ${slot} was in the table`);
      expected.get(held)!.delete(slot);
      valueOf[slot] = undefined;
    }
    if (next() < 0.6) {
      valueOf[slot] = value;
      table.insert(slot, hashOf(value));
      if (!expected.has(value)) expected.set(value, new Set());
      expected.get(value)!.add(slot);
    }
    if (step % 50 === 0 || step === steps - 1) {
      for (const [v, slots] of expected) {
        assert.deepEqual(lookup(v), [...slots].sort((a, b) => a - b), `step ${step}: slots of ${v}`);
        const first = table.find(hashOf(v), (s) => valueOf[s] === v);
        assert.equal(first === -1 ? slots.size === 0 : slots.has(first), true, `step ${step}: find ${v}`);
      }
      assert.equal(table.size, valueOf.filter((v) => v !== undefined).length, `step ${step}: size`);
    }
  }
  // Empty it: every removal finds its slot, and nothing is left to find.
  for (let slot = 0; slot < valueOf.length; slot++) if (valueOf[slot] !== undefined) assert.equal(table.remove(slot), true);
  assert.equal(table.size, 0);
  for (const v of expected.keys()) assert.deepEqual(lookup(v), []);
}

test('the slot hash table finds what a Map of sets finds, through inserts, moves and removals', () => {
  checkAgainstMap(0, 4000, 1);
});

test('the slot hash table with colliding hashes: long runs, wrap-around and backward shifts', () => {
  checkAgainstMap(7, 4000, 2);
  checkAgainstMap(1, 1500, 3);
});

test('the slot hash table grows and shrinks with its entries, and removes only what it holds', () => {
  const table = new SlotHashTable();
  const hash = (i: number) => hashString(`key-${i}`);
  for (let i = 0; i < 10_000; i++) table.insert(i, hash(i));
  assert.equal(table.size, 10_000);
  for (let i = 0; i < 10_000; i++) assert.equal(table.find(hash(i), (s) => s === i), i);
  for (let i = 0; i < 9_990; i++) assert.equal(table.remove(i), true);
  assert.equal(table.remove(5), false, 'removed already');
  assert.equal(table.remove(50_000), false, 'never inserted');
  for (let i = 9_990; i < 10_000; i++) assert.equal(table.find(hash(i), (s) => s === i), i, 'found after the table shrank');
});

test('hashString: stable, and every character counts', () => {
  assert.equal(hashString('scale/d1-u1'), hashString(['scale', 'd1-u1'].join('/')));
  assert.notEqual(hashString('scale/d1-u1'), hashString('scale/d1-u2'));
  assert.notEqual(hashString('a'), hashString('a', 7), 'a seed gives another hash');
  // The low bits (a table's index) spread: 10,000 similar keys over 1,024 cells.
  const cells = new Set<number>();
  for (let i = 0; i < 10_000; i++) cells.add(hashString(`scale/d${Math.floor(i / 20)}-u${i % 20}`) & 1023);
  assert.ok(cells.size > 1000, `${cells.size} of 1,024 cells used`);
});
