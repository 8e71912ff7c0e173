// A hash table from a string to the slots of a columnar store, in typed arrays: 4 B a cell at a
// load of at most one half, and the slot's hash in a column of its own. A JS Map took ~35 B an
// entry on the JS heap (its table's three words and the bucket), and the Mailbox cache had
// three of them per Mailbox: key → slot, domain → keys, address → keys. The strings stay where
// the store keeps them; the table holds slot numbers, and the caller says which slot matches.
//
// Open addressing with linear probing; several slots may share a string (a multimap: two
// Mailboxes may declare one address), so a lookup walks the run of cells until an empty one.
// A removal shifts the run back instead of leaving a tombstone, so the table never fills
// with dead cells under churn.

/** 32-bit FNV-1a over the UTF-16 code units, finished with murmur3's mix so that the table's
 *  index (the low bits) depends on every character. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix(h);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const MIN_CELLS = 16;

export class SlotHashTable {
  /** slot + 1; 0: empty. Its length is a power of two. */
  #cells = new Int32Array(MIN_CELLS);
  /** The hash each slot was inserted with, by slot. */
  #hashes = new Uint32Array(MIN_CELLS);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The first slot inserted with `hash` that `matches` accepts; -1 when none. */
  find(hash: number, matches: (slot: number) => boolean): number {
    const mask = this.#cells.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const cell = this.#cells[i]!;
      if (cell === 0) return -1;
      const slot = cell - 1;
      if (this.#hashes[slot] === hash && matches(slot)) return slot;
    }
  }

  /** Every slot inserted with `hash` that `matches` accepts. */
  findAll(hash: number, matches: (slot: number) => boolean): number[] {
    const out: number[] = [];
    const mask = this.#cells.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const cell = this.#cells[i]!;
      if (cell === 0) return out;
      const slot = cell - 1;
      if (this.#hashes[slot] === hash && matches(slot)) out.push(slot);
    }
  }

  /** Adds `slot` under `hash`. A slot is in the table at most once: remove it first to move it. */
  insert(slot: number, hash: number): void {
    if ((this.#size + 1) * 2 > this.#cells.length) this.#rehash(this.#cells.length * 2);
    if (slot >= this.#hashes.length) {
      const grown = new Uint32Array(Math.max(slot + 1, Math.ceil(this.#hashes.length * 1.5)));
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[slot] = hash;
    this.#place(slot);
    this.#size++;
  }

  /** Removes `slot` (inserted before with its hash); false when it is not in the table. */
  remove(slot: number): boolean {
    if (slot >= this.#hashes.length) return false;
    const mask = this.#cells.length - 1;
    let i = this.#hashes[slot]! & mask;
    for (; ; i = (i + 1) & mask) {
      const cell = this.#cells[i]!;
      if (cell === 0) return false;
      if (cell === slot + 1) break;
    }
    // Backward shift: move every later cell of the run that may live at or before the hole.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const cell = this.#cells[j]!;
      if (cell === 0) break;
      const home = this.#hashes[cell - 1]! & mask;
      // The cell stays when its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      this.#cells[i] = cell;
      i = j;
    }
    this.#cells[i] = 0;
    this.#size--;
    if (this.#cells.length > MIN_CELLS && this.#size * 8 < this.#cells.length) this.#rehash(this.#cells.length / 2);
    return true;
  }

  #place(slot: number): void {
    const mask = this.#cells.length - 1;
    let i = this.#hashes[slot]! & mask;
    while (this.#cells[i] !== 0) i = (i + 1) & mask;
    this.#cells[i] = slot + 1;
  }

  #rehash(length: number): void {
    const old = this.#cells;
    this.#cells = new Int32Array(length);
    for (const cell of old) if (cell !== 0) this.#place(cell - 1);
  }
}
