// A secondary index over an informer's cache (client-go's Indexer): index values → object
// keys, kept current from the informer's events. Reverse lookups such as "the MailDomains of
// this server" then cost one map read instead of a scan and a parse of every object.
import type { Informer } from './informer.ts';
import type { KubeObject } from './client.ts';

export type IndexFunc<T extends KubeObject> = (obj: T) => string[];

const keyOf = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`);

export class Indexer<T extends KubeObject = KubeObject> {
  readonly #byValue = new Map<string, Set<string>>();
  readonly #valuesOf = new Map<string, string[]>();
  readonly #fn: IndexFunc<T>;

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

  /** The values an object was last indexed under (empty once it is gone). */
  valuesOf(key: string): string[] {
    return this.#valuesOf.get(key) ?? [];
  }

  #set(obj: T): void {
    const key = keyOf(obj);
    let values: string[];
    try {
      values = [...new Set(this.#fn(obj))];
    } catch {
      values = []; // a malformed object is indexed nowhere rather than breaking the informer
    }
    const before = this.#valuesOf.get(key);
    if (before && before.length === values.length && before.every((v, i) => v === values[i])) return;
    this.#remove(key);
    for (const v of values) {
      let set = this.#byValue.get(v);
      if (!set) this.#byValue.set(v, (set = new Set()));
      set.add(key);
    }
    if (values.length > 0) this.#valuesOf.set(key, values);
  }

  #remove(key: string): void {
    for (const v of this.#valuesOf.get(key) ?? []) {
      const set = this.#byValue.get(v);
      set?.delete(key);
      if (set?.size === 0) this.#byValue.delete(v);
    }
    this.#valuesOf.delete(key);
  }
}
