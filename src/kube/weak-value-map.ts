// A map whose values are held weakly: an entry lasts as long as something else holds its
// value. The cache's sharing pools use it, so they keep the conditions and statuses of objects
// that still exist, not every one seen since the start (a bounded pool that only ever filled
// up read as a slow heap growth in the 2-hour soak).
export class WeakValueMap<K, V extends object> {
  readonly #map = new Map<K, WeakRef<V>>();
  readonly #registry = new FinalizationRegistry<K>((key) => {
    // The key may hold a newer value by now: only a dead entry goes.
    if (this.#map.get(key)?.deref() === undefined) this.#map.delete(key);
  });

  /** Entries, including any whose value was collected and not yet swept. */
  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key)?.deref();
  }

  set(key: K, value: V): void {
    this.#map.set(key, new WeakRef(value));
    this.#registry.register(value, key);
  }

  clear(): void {
    this.#map.clear();
  }
}
