// A secondary index over an informer's cache (client-go's Indexer): index values → object
// keys, kept current from the informer's events. Reverse lookups such as "the MailDomains of
// this server" then cost one map read instead of a scan and a parse of every object.
import { StringPool, type Informer } from './informer.ts';
import { objectKey, type KubeObject } from './client.ts';
import { KeySets } from './key-sets.ts';

export type IndexFunc<T extends KubeObject> = (obj: T) => string[];

// The informer's own key string (objectKey): a key built here was a second copy per object,
// and a template literal's rope at that (at 100,000 Mailboxes ~7 MiB, found in a heap snapshot).
const keyOf = (o: KubeObject): string => objectKey(o);

export class Indexer<T extends KubeObject = KubeObject> {
  readonly #byValue = new KeySets();
  readonly #informer: Informer<T>;
  readonly #fn: IndexFunc<T>;
  // Index values repeat (every Mailbox of a domain yields the same `namespace/domain`), but
  // each call of the index function builds a new string: keep one.
  readonly #values = new StringPool();

  /**
   * Register before any controller watches the same informer, so lookups made while mapping
   * an event already see that event. `fn` must depend on the object alone: what an object was
   * indexed under is found again from the version the informer replaces or deletes, not kept
   * per object (a map entry per Mailbox, ~3.5 MiB at 100,000).
   */
  constructor(informer: Informer<T>, fn: IndexFunc<T>) {
    this.#informer = informer;
    this.#fn = fn;
    informer.addHandlers({
      onAdd: (o) => this.#change(keyOf(o), [], this.#valuesFor(o)),
      onUpdate: (old, o) => this.#change(keyOf(o), this.#valuesFor(old), this.#valuesFor(o)),
      onDelete: (o) => this.#change(keyOf(o), this.#valuesFor(o), []),
    });
  }

  /** Keys of the objects whose index function returned `value`. */
  keys(value: string): string[] {
    return this.#byValue.keys(value);
  }

  /** How many objects are indexed under `value`. */
  count(value: string): number {
    return this.#byValue.count(value);
  }

  /** The values the cached object of `key` is indexed under (empty once it is gone). */
  valuesOf(key: string): string[] {
    const o = this.#informer.getByKey(key);
    return o ? this.#valuesFor(o) : [];
  }

  #valuesFor(obj: T): string[] {
    try {
      return [...new Set(this.#fn(obj))].map((v) => this.#values.intern(v));
    } catch {
      return []; // a malformed object is indexed nowhere rather than breaking the informer
    }
  }

  #change(key: string, before: string[], after: string[]): void {
    if (before.length === after.length && before.every((v, i) => v === after[i])) return;
    for (const v of before) this.#byValue.remove(v, key);
    for (const v of after) this.#byValue.add(v, key);
  }
}
