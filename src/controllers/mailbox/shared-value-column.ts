// A column of the Mailbox store whose values many slots share: a namespace (a handful), a
// domainRef (one per MailDomain, ~20 Mailboxes each), a status (pooled: a few hundred distinct
// at most). A reference in a JS array is 8 B a slot; here a slot holds a 4-byte number, and
// each distinct value is held once with the count of the slots holding it (gone with the last
// one). For values each slot has its own (an address, a creation time: Mailboxes are created
// over months), the table would cost more than it saves: those stay plain arrays.
export class SharedValueColumn<T> {
  #ids = new Uint32Array(0);
  // Number 0 is "no value"; the others index these, and are reused once free.
  readonly #values: (T | undefined)[] = [undefined];
  readonly #counts: number[] = [0];
  readonly #idOf = new Map<T, number>();
  readonly #freeIds: number[] = [];

  /** How many distinct values the column holds. */
  get distinct(): number {
    return this.#idOf.size;
  }

  get(slot: number): T | undefined {
    return this.#values[this.#ids[slot] ?? 0];
  }

  set(slot: number, value: T | undefined): void {
    if (slot >= this.#ids.length) this.grow(slot + 1);
    const before = this.#ids[slot]!;
    if (before !== 0 && this.#values[before] === value) return;
    this.#ids[slot] = value === undefined ? 0 : this.#acquire(value);
    if (before !== 0) this.#release(before);
  }

  /** Room for `length` slots at least (the store grows its typed columns together). */
  grow(length: number): void {
    if (length <= this.#ids.length) return;
    const ids = new Uint32Array(length);
    ids.set(this.#ids);
    this.#ids = ids;
  }

  #acquire(value: T): number {
    let id = this.#idOf.get(value);
    if (id === undefined) {
      id = this.#freeIds.pop() ?? this.#values.length;
      this.#values[id] = value;
      this.#counts[id] = 0;
      this.#idOf.set(value, id);
    }
    this.#counts[id]!++;
    return id;
  }

  #release(id: number): void {
    if (--this.#counts[id]! > 0) return;
    this.#idOf.delete(this.#values[id]!);
    this.#values[id] = undefined;
    this.#freeIds.push(id);
  }
}
