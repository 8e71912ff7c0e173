// Index values → the keys of the objects indexed under them: the map of key sets behind the
// Indexer and behind the Mailbox store's index of the Mailboxes it keeps whole. An empty set
// is dropped with its last key, so a value nobody is indexed under takes no memory.

export class KeySets {
  readonly #byValue = new Map<string, Set<string>>();

  add(value: string, key: string): void {
    let keys = this.#byValue.get(value);
    if (!keys) this.#byValue.set(value, (keys = new Set()));
    keys.add(key);
  }

  remove(value: string, key: string): void {
    const keys = this.#byValue.get(value);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.#byValue.delete(value);
  }

  /** The keys indexed under `value`, in the order they came (a copy). */
  keys(value: string): string[] {
    const keys = this.#byValue.get(value);
    return keys ? [...keys] : [];
  }

  /** How many keys are indexed under `value`. */
  count(value: string): number {
    return this.#byValue.get(value)?.size ?? 0;
  }
}
