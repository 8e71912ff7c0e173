// A secondary index over an informer's cache (client-go's Indexer): index values → object
// keys, kept current from the informer's events. Reverse lookups such as "the MailDomains of
// this server" then cost one map read instead of a scan and a parse of every object.
import { StringPool, type Informer } from './informer.ts';
import { objectKey, type KubeObject } from './client.ts';

export type IndexFunc<T extends KubeObject> = (obj: T) => string[];

// The informer's own key string (objectKey): a key built here was a second copy per object,
// and a template literal's rope at that (at 100,000 Mailboxes ~7 MiB, found in a heap snapshot).
const keyOf = (o: KubeObject): string => objectKey(o);

export class Indexer<T extends KubeObject = KubeObject> {
  readonly #byValue = new Map<string, Set<string>>();
  // One value (the common case: a Mailbox's domain) is kept as the string itself, not an
  // array of one: at 100,000 objects the arrays alone were ~3 MiB.
  readonly #valuesOf = new Map<string, string | string[]>();
  readonly #fn: IndexFunc<T>;
  // Index values repeat (every Mailbox of a domain yields the same `namespace/domain`), but
  // each call of the index function builds a new string: keep one.
  readonly #values = new StringPool();

  /** Register before any controller watches the same informer, so lookups made while
   *  mapping an event already see that event. */
  constructor(informer: Informer<T>, fn: IndexFunc<T>) {
    this.#fn = fn;
    informer.addHandlers({
      onAdd: (o) => this.#set(o),
      onUpdate: (_old, o) => this.#set(o),
      onDelete: (o) => this.#remove(keyOf(o)),
    });
  }

  /** Keys of the objects whose index function returned `value`. */
  keys(value: string): string[] {
    const set = this.#byValue.get(value);
    return set ? [...set] : [];
  }

  /** How many objects are indexed under `value`. */
  count(value: string): number {
    return this.#byValue.get(value)?.size ?? 0;
  }

  /** The values an object was last indexed under (empty once it is gone). */
  valuesOf(key: string): string[] {
    const v = this.#valuesOf.get(key);
    return v === undefined ? [] : typeof v === 'string' ? [v] : v;
  }

  #set(obj: T): void {
    const key = keyOf(obj);
    let values: string[];
    try {
      values = [...new Set(this.#fn(obj))].map((v) => this.#values.intern(v));
    } catch {
      values = []; // a malformed object is indexed nowhere rather than breaking the informer
    }
    const before = this.valuesOf(key);
    if (before.length === values.length && before.every((v, i) => v === values[i])) return;
    this.#remove(key);
    for (const v of values) {
      let set = this.#byValue.get(v);
      if (!set) this.#byValue.set(v, (set = new Set()));
      set.add(key);
    }
    if (values.length > 0) this.#valuesOf.set(key, values.length === 1 ? values[0]! : values);
  }

  #remove(key: string): void {
    for (const v of this.valuesOf(key)) {
      const set = this.#byValue.get(v);
      set?.delete(key);
      if (set?.size === 0) this.#byValue.delete(v);
    }
    this.#valuesOf.delete(key);
  }
}
