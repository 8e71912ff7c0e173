// Where the Mailbox informer keeps its Mailboxes: not as objects but as columns, one slot per
// Mailbox. A hoster caches 100,000 of them, and a cached one was ~450 B of JS heap with the
// indexes on top (`bench/memory/cache.ts --view --status-writes`): the record, its metadata
// and spec objects, the name string; V8 then holds ~1.4× that in old space between
// collections. A slot holds what a Mailbox has of its own (its key, resourceVersion, generation,
// address, whether MAPI is on) and references to what Mailboxes share (namespace, domainRef,
// creation second, status: pooled by the cache's transform). Each read builds the object
// again (~1 µs); readers keep what they need of it, and nearly all keep nothing.
//
// Only a Mailbox whose spec the schema passes unchanged is packed (every Mailbox the apiserver
// admitted and defaulted): what a packed Mailbox's spec parses to is then the spec itself
// (VALID_AS_IS), and a read never validates again. Anything else (a spec the apiserver's schema
// would not pass, a field this layout has no column for) is kept as the object it came as.
import type { KubeObject, ObjectMeta, ObjectStore } from '../../kube/index.ts';
import { OBJECT_KEY, objectKey } from '../../kube/index.ts';
import { API_VERSION } from '../../api/common.ts';
import { parseMailboxSpec } from '../../api/parse.ts';
import { PARSED_SPEC, VALID_AS_IS, sameFields } from './cached-mailbox.ts';

/**
 * A Mailbox read from its slot. Built on every read, so nothing costly per instance: its key
 * (the store's own string) in a private field and its parse (the spec itself) from getters on
 * the prototype, where a spread or JSON does not see them. Its spec is its own, not frozen:
 * a reader that changed it would change nobody else's.
 */
export class PackedMailbox implements KubeObject {
  declare readonly apiVersion: typeof API_VERSION;
  declare readonly kind: 'Mailbox';
  metadata: ObjectMeta;
  spec: unknown;
  status: unknown;
  readonly #key: string;
  [field: string]: unknown;
  constructor(key: string, metadata: ObjectMeta, spec: unknown, status: unknown) {
    this.metadata = metadata;
    this.spec = spec;
    this.status = status;
    this.#key = key;
  }
  get [OBJECT_KEY](): string {
    return this.#key;
  }
  get [PARSED_SPEC](): typeof VALID_AS_IS {
    return VALID_AS_IS;
  }
}
Object.defineProperties(PackedMailbox.prototype, {
  apiVersion: { value: API_VERSION },
  kind: { value: 'Mailbox' },
});

interface PackedSpec { address: string; domainRef: string; mapiEnabled: boolean }

/** The spec as this layout holds it, or undefined when it has other fields or types. */
function packable(spec: unknown): PackedSpec | undefined {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  const s = spec as Record<string, unknown>;
  let fields = 0;
  for (const _ in s) fields++;
  if (fields !== 3 || typeof s.address !== 'string' || typeof s.domainRef !== 'string' || typeof s.mapiEnabled !== 'boolean') return undefined;
  return s as unknown as PackedSpec;
}

function regularMetadata(key: string, m: ObjectMeta): boolean {
  return typeof m.namespace === 'string' && m.namespace !== '' && typeof m.name === 'string' &&
    key.length === m.namespace.length + 1 + m.name.length && key.startsWith(m.namespace) && key[m.namespace.length] === '/' && key.endsWith(m.name) &&
    typeof m.resourceVersion === 'string' && typeof m.generation === 'number' &&
    (m.creationTimestamp === undefined || typeof m.creationTimestamp === 'string') &&
    (m.deletionTimestamp === undefined || typeof m.deletionTimestamp === 'string');
}

export class PackedMailboxStore implements ObjectStore<KubeObject> {
  readonly #slots = new Map<string, number>();
  /** Mailboxes this layout does not fit, as they came (rare). */
  readonly #asObjects = new Map<string, KubeObject>();
  readonly #free: number[] = [];
  // The columns, by slot. The key is the Map's own string (the informer's key of the object).
  readonly #key: (string | undefined)[] = [];
  readonly #namespace: (string | undefined)[] = [];
  // A number where the string is one written in decimal (etcd's revisions): a small integer
  // takes no memory of its own, a string ~40 B with its entry in V8's string table.
  readonly #resourceVersion: (number | string | undefined)[] = [];
  readonly #generation: number[] = [];
  readonly #created: (string | undefined)[] = [];
  readonly #address: (string | undefined)[] = [];
  readonly #domainRef: (string | undefined)[] = [];
  readonly #mapiEnabled: boolean[] = [];
  readonly #status: unknown[] = [];
  /** Rare (a Mailbox being deleted): by slot. */
  readonly #deleting = new Map<number, string>();

  get size(): number {
    return this.#slots.size + this.#asObjects.size;
  }

  /** How many Mailboxes are kept as objects (this layout did not fit them). */
  get unpacked(): number {
    return this.#asObjects.size;
  }

  get(key: string): KubeObject | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? this.#asObjects.get(key) : this.#read(slot);
  }

  heldKey(key: string): string | undefined {
    const slot = this.#slots.get(key);
    if (slot !== undefined) return this.#key[slot];
    const o = this.#asObjects.get(key);
    return o === undefined ? undefined : objectKey(o);
  }

  set(key: string, obj: KubeObject): this {
    const slot = this.#slots.get(key);
    const spec = packable(obj.spec);
    if (spec && regularMetadata(key, obj.metadata) && (this.#sameSpec(slot, spec) || validAsIs(spec))) {
      this.#asObjects.delete(key);
      this.#write(slot ?? this.#newSlot(key), obj.metadata, spec, obj.status);
    } else {
      if (slot !== undefined) this.#release(key, slot);
      this.#asObjects.set(key, obj);
    }
    return this;
  }

  delete(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return this.#asObjects.delete(key);
    this.#release(key, slot);
    return true;
  }

  *keys(): IterableIterator<string> {
    yield* this.#slots.keys();
    yield* this.#asObjects.keys();
  }

  *values(): IterableIterator<KubeObject> {
    for (const slot of this.#slots.values()) yield this.#read(slot);
    yield* this.#asObjects.values();
  }

  *entries(): IterableIterator<[string, KubeObject]> {
    for (const [key, slot] of this.#slots) yield [key, this.#read(slot)];
    yield* this.#asObjects.entries();
  }

  #sameSpec(slot: number | undefined, spec: PackedSpec): boolean {
    return slot !== undefined && this.#address[slot] === spec.address && this.#domainRef[slot] === spec.domainRef && this.#mapiEnabled[slot] === spec.mapiEnabled;
  }

  #newSlot(key: string): number {
    const slot = this.#free.pop() ?? this.#key.length;
    this.#slots.set(key, slot);
    this.#key[slot] = key;
    return slot;
  }

  #write(slot: number, m: ObjectMeta, spec: PackedSpec, status: unknown): void {
    this.#namespace[slot] = m.namespace;
    this.#resourceVersion[slot] = asNumber(m.resourceVersion!);
    this.#generation[slot] = m.generation!;
    this.#created[slot] = m.creationTimestamp;
    this.#address[slot] = spec.address;
    this.#domainRef[slot] = spec.domainRef;
    this.#mapiEnabled[slot] = spec.mapiEnabled;
    this.#status[slot] = status;
    if (m.deletionTimestamp === undefined) this.#deleting.delete(slot);
    else this.#deleting.set(slot, m.deletionTimestamp);
  }

  #release(key: string, slot: number): void {
    this.#slots.delete(key);
    this.#deleting.delete(slot);
    // Nothing of the Mailbox stays reachable from a free slot.
    this.#key[slot] = this.#namespace[slot] = this.#resourceVersion[slot] = this.#created[slot] = undefined;
    this.#address[slot] = this.#domainRef[slot] = this.#status[slot] = undefined;
    this.#free.push(slot);
  }

  #read(slot: number): KubeObject {
    const key = this.#key[slot]!;
    const namespace = this.#namespace[slot]!;
    const deletionTimestamp = this.#deleting.size === 0 ? undefined : this.#deleting.get(slot);
    const metadata: ObjectMeta = {
      name: key.slice(namespace.length + 1), namespace, resourceVersion: String(this.#resourceVersion[slot]),
      generation: this.#generation[slot], creationTimestamp: this.#created[slot],
    };
    if (deletionTimestamp !== undefined) metadata.deletionTimestamp = deletionTimestamp;
    // The field order the apiserver writes (its JSON sorts map keys).
    const spec = { address: this.#address[slot]!, domainRef: this.#domainRef[slot]!, mapiEnabled: this.#mapiEnabled[slot]! };
    return new PackedMailbox(key, metadata, spec, this.#status[slot]);
  }
}

/** The resourceVersion as a number when that number prints as the same string. */
function asNumber(resourceVersion: string): number | string {
  const n = Number(resourceVersion);
  return Number.isSafeInteger(n) && String(n) === resourceVersion ? n : resourceVersion;
}

function validAsIs(spec: PackedSpec): boolean {
  const r = parseMailboxSpec(spec);
  return r.ok && sameFields(r.value, spec);
}

/** The store the Mailbox informer keeps (ClusterView). */
export function packedMailboxStore(): ObjectStore<KubeObject> {
  return new PackedMailboxStore();
}
