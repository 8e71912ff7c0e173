// Where the Mailbox informer keeps its Mailboxes: not as objects but as columns, one slot per
// Mailbox. A hoster caches 100,000 of them, and a cached one was ~450 B of JS heap with the
// indexes on top (`bench/memory/cache.ts --view --status-writes`): the record, its metadata
// and spec objects, the name string; V8 then holds ~1.4× that in old space between
// collections. A slot holds what a Mailbox has of its own (its key, resourceVersion, generation,
// address, whether MAPI is on) and what Mailboxes share: the creation second as a reference to
// the pooled string; namespace, domainRef and status as numbers into a table of the distinct
// values (shared-value-column.ts: 4 B a slot instead of an 8-byte reference; 263 → 256 B a
// Mailbox). Each read builds the object again (~1 µs); readers keep what they need of it, and
// nearly all keep nothing.
//
// The store also answers the two lookups the controllers make across Mailboxes: a domain's
// Mailboxes (a list through the slots) and the Mailboxes declaring an address (a hash table of
// slot numbers, slot-hash-table.ts). As maps of key sets beside the cache, with the store's own
// key → slot map, those took ~115 B a Mailbox of JS heap; in typed arrays they take ~40, in
// buffers outside it (a cached Mailbox with the structures on top, the buffers counted: 309 →
// 232 B at 100,000, `bench/memory/cache.ts --view --status-writes`).
//
// Only a Mailbox whose spec the schema passes unchanged is packed (every Mailbox the apiserver
// admitted and defaulted): what a packed Mailbox's spec parses to is then the spec itself
// (VALID_AS_IS), and a read never validates again. Anything else (a spec the apiserver's schema
// would not pass, a field this layout has no column for) is kept as the object it came as.
import type { KubeObject, ObjectMeta, ObjectStore } from '../../kube/index.ts';
import { OBJECT_KEY, objectKey } from '../../kube/index.ts';
import { KeySets } from '../../kube/key-sets.ts';
import { API_VERSION } from '../../api/common.ts';
import { parseMailboxSpec } from '../../api/parse.ts';
import { PARSED_SPEC, VALID_AS_IS, sameFields } from './cached-mailbox.ts';
import { SlotHashTable, hashString } from './slot-hash-table.ts';
import { SharedValueColumn } from './shared-value-column.ts';

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

/** A domain's Mailboxes in the store: a list through the slots, in the order they came. */
interface DomainList { first: number; last: number; count: number }

/** The address a Mailbox declares, in lower case as both address lookups compare it (undefined
 *  when spec.address is not a string). */
export function lowerCaseAddress(obj: KubeObject): string | undefined {
  const address = (obj.spec as { address?: unknown } | null | undefined)?.address;
  return typeof address === 'string' ? address.toLowerCase() : undefined;
}

/** The key ClusterView indexes a Mailbox's domain under: `namespace/domainRef`. */
export function mailboxDomainKey(namespace: string | undefined, domainRef: string): string {
  return `${namespace}/${domainRef}`;
}

export class PackedMailboxStore implements ObjectStore<KubeObject> {
  /** key → slot. */
  readonly #byKey = new SlotHashTable();
  /** namespace and lower-cased address → slots (two Mailboxes may declare one address). */
  readonly #byAddress = new SlotHashTable();
  #packed = 0;
  /** Mailboxes this layout does not fit, as they came (rare), and their index entries. */
  readonly #asObjects = new Map<string, KubeObject>();
  readonly #unpackedByDomain = new KeySets();
  readonly #unpackedByAddress = new KeySets();
  readonly #free: number[] = [];
  // The columns, by slot. The key is the informer's key string of the object.
  readonly #key: (string | undefined)[] = [];
  // Values many Mailboxes share: 4 B a slot instead of 8 (shared-value-column.ts).
  readonly #namespace = new SharedValueColumn<string>();
  // A number where the string is one written in decimal (etcd's revisions): a small integer
  // takes no memory of its own, a string ~40 B with its entry in V8's string table.
  readonly #resourceVersion: (number | string | undefined)[] = [];
  readonly #generation: number[] = [];
  readonly #created: (string | undefined)[] = [];
  readonly #address: (string | undefined)[] = [];
  readonly #domainRef = new SharedValueColumn<string>();
  #mapiEnabled = new Uint8Array(0);
  readonly #status = new SharedValueColumn<unknown>();
  /** Rare (a Mailbox being deleted): by slot. */
  readonly #deleting = new Map<number, string>();
  // Each domain's Mailboxes as a list through the slots (slot + 1; 0: none), in place of an
  // index of key sets (~36 B a Mailbox).
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  readonly #domains = new Map<string, DomainList>();

  get size(): number {
    return this.#packed + this.#asObjects.size;
  }

  /** How many Mailboxes are kept as objects (this layout did not fit them). */
  get unpacked(): number {
    return this.#asObjects.size;
  }

  get(key: string): KubeObject | undefined {
    const slot = this.#slotOf(key);
    return slot === -1 ? this.#asObjects.get(key) : this.#read(slot);
  }

  heldKey(key: string): string | undefined {
    const slot = this.#slotOf(key);
    if (slot !== -1) return this.#key[slot];
    const o = this.#asObjects.get(key);
    return o === undefined ? undefined : objectKey(o);
  }

  set(key: string, obj: KubeObject): this {
    const found = this.#slotOf(key);
    const slot = found === -1 ? undefined : found;
    const spec = packable(obj.spec);
    if (spec && regularMetadata(key, obj.metadata) && (this.#sameSpec(slot, spec) || validAsIs(spec))) {
      this.#forgetObject(key);
      this.#write(slot ?? this.#newSlot(key), obj.metadata, spec, obj.status);
    } else {
      if (slot !== undefined) this.#release(slot);
      this.#forgetObject(key);
      this.#asObjects.set(key, obj);
      const { domain, address } = objectIndexValues(obj);
      if (domain !== undefined) this.#unpackedByDomain.add(domain, key);
      if (address !== undefined) this.#unpackedByAddress.add(address, key);
    }
    return this;
  }

  delete(key: string): boolean {
    const slot = this.#slotOf(key);
    if (slot === -1) return this.#forgetObject(key);
    this.#release(slot);
    return true;
  }

  *keys(): IterableIterator<string> {
    for (let slot = 0; slot < this.#key.length; slot++) if (this.#key[slot] !== undefined) yield this.#key[slot]!;
    yield* this.#asObjects.keys();
  }

  *values(): IterableIterator<KubeObject> {
    for (let slot = 0; slot < this.#key.length; slot++) if (this.#key[slot] !== undefined) yield this.#read(slot);
    yield* this.#asObjects.values();
  }

  *entries(): IterableIterator<[string, KubeObject]> {
    for (let slot = 0; slot < this.#key.length; slot++) if (this.#key[slot] !== undefined) yield [this.#key[slot]!, this.#read(slot)];
    yield* this.#asObjects.entries();
  }

  /** Keys of the Mailboxes whose spec.domainRef names `domainKey` (mailboxDomainKey), in the
   *  order they came (those kept as objects last). */
  keysOfDomain(domainKey: string): string[] {
    const out: string[] = [];
    const list = this.#domains.get(domainKey);
    for (let cell = list ? list.first + 1 : 0; cell !== 0; cell = this.#next[cell - 1]!) out.push(this.#key[cell - 1]!);
    out.push(...this.#unpackedByDomain.keys(domainKey));
    return out;
  }

  /** How many Mailboxes name `domainKey`. */
  countOfDomain(domainKey: string): number {
    return (this.#domains.get(domainKey)?.count ?? 0) + this.#unpackedByDomain.count(domainKey);
  }

  /** Keys of the Mailboxes of `namespace` whose spec.address is `lowerAddress` in lower case. */
  keysDeclaring(namespace: string, lowerAddress: string): string[] {
    const out = this.#byAddress.findAll(addressHash(namespace, lowerAddress), (slot) => this.#declares(slot, namespace, lowerAddress)).map((slot) => this.#key[slot]!);
    out.push(...this.#unpackedByAddress.keys(addressIndexKey(namespace, lowerAddress)));
    return out;
  }

  /** The address string a cached Mailbox of `namespace` holds that equals `address`, if one does
   *  (so that a reader keeps that string instead of a copy). */
  heldAddress(namespace: string, address: string): string | undefined {
    const lower = address.toLowerCase();
    const slot = this.#byAddress.find(addressHash(namespace, lower), (s) => this.#address[s] === address && this.#namespace.get(s) === namespace);
    if (slot !== -1) return this.#address[slot];
    for (const key of this.#unpackedByAddress.keys(addressIndexKey(namespace, lower))) {
      const held = (this.#asObjects.get(key)?.spec as { address?: unknown } | undefined)?.address;
      if (held === address) return held;
    }
    return undefined;
  }

  #slotOf(key: string): number {
    return this.#byKey.find(hashString(key), (slot) => this.#key[slot] === key);
  }

  #declares(slot: number, namespace: string, lowerAddress: string): boolean {
    return this.#namespace.get(slot) === namespace && this.#address[slot]!.toLowerCase() === lowerAddress;
  }

  #forgetObject(key: string): boolean {
    const obj = this.#asObjects.get(key);
    if (obj === undefined) return false;
    this.#asObjects.delete(key);
    const { domain, address } = objectIndexValues(obj);
    if (domain !== undefined) this.#unpackedByDomain.remove(domain, key);
    if (address !== undefined) this.#unpackedByAddress.remove(address, key);
    return true;
  }

  #sameSpec(slot: number | undefined, spec: PackedSpec): boolean {
    return slot !== undefined && this.#address[slot] === spec.address && this.#domainRef.get(slot) === spec.domainRef && this.#mapiEnabled[slot] === Number(spec.mapiEnabled);
  }

  #newSlot(key: string): number {
    const slot = this.#free.pop() ?? this.#key.length;
    if (slot >= this.#next.length) this.#grow(slot + 1);
    this.#key[slot] = key;
    this.#byKey.insert(slot, hashString(key));
    this.#packed++;
    return slot;
  }

  #grow(atLeast: number): void {
    const length = Math.max(atLeast, Math.ceil(this.#next.length * 1.5), 16);
    const grow = <A extends Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(length);
      b.set(a);
      return b;
    };
    this.#next = grow(this.#next, (n) => new Int32Array(n));
    this.#prev = grow(this.#prev, (n) => new Int32Array(n));
    this.#mapiEnabled = grow(this.#mapiEnabled, (n) => new Uint8Array(n));
    for (const column of [this.#namespace, this.#domainRef, this.#status]) column.grow(length);
  }

  #write(slot: number, m: ObjectMeta, spec: PackedSpec, status: unknown): void {
    const moved = this.#namespace.get(slot) !== m.namespace || this.#domainRef.get(slot) !== spec.domainRef;
    const readdressed = moved || this.#address[slot] !== spec.address;
    if (moved && this.#namespace.get(slot) !== undefined) this.#unlink(slot);
    if (readdressed && this.#address[slot] !== undefined) this.#byAddress.remove(slot);
    this.#namespace.set(slot, m.namespace);
    this.#resourceVersion[slot] = asNumber(m.resourceVersion!);
    this.#generation[slot] = m.generation!;
    this.#created[slot] = m.creationTimestamp;
    this.#address[slot] = spec.address;
    this.#domainRef.set(slot, spec.domainRef);
    this.#mapiEnabled[slot] = Number(spec.mapiEnabled);
    this.#status.set(slot, status);
    if (m.deletionTimestamp === undefined) this.#deleting.delete(slot);
    else this.#deleting.set(slot, m.deletionTimestamp);
    if (moved) this.#link(slot);
    if (readdressed) this.#byAddress.insert(slot, addressHash(m.namespace!, spec.address.toLowerCase()));
  }

  /** Appends the slot to its domain's list. */
  #link(slot: number): void {
    const domainKey = mailboxDomainKey(this.#namespace.get(slot), this.#domainRef.get(slot)!);
    const list = this.#domains.get(domainKey);
    this.#next[slot] = 0;
    if (list === undefined) {
      this.#prev[slot] = 0;
      this.#domains.set(domainKey, { first: slot, last: slot, count: 1 });
      return;
    }
    this.#prev[slot] = list.last + 1;
    this.#next[list.last] = slot + 1;
    list.last = slot;
    list.count++;
  }

  #unlink(slot: number): void {
    const domainKey = mailboxDomainKey(this.#namespace.get(slot), this.#domainRef.get(slot)!);
    const list = this.#domains.get(domainKey)!;
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev === 0) list.first = next - 1;
    else this.#next[prev - 1] = next;
    if (next === 0) list.last = prev - 1;
    else this.#prev[next - 1] = prev;
    this.#next[slot] = this.#prev[slot] = 0;
    if (--list.count === 0) this.#domains.delete(domainKey);
  }

  #release(slot: number): void {
    this.#unlink(slot);
    this.#byAddress.remove(slot);
    this.#byKey.remove(slot);
    this.#packed--;
    this.#deleting.delete(slot);
    // Nothing of the Mailbox stays reachable from a free slot.
    this.#key[slot] = this.#resourceVersion[slot] = this.#created[slot] = this.#address[slot] = undefined;
    for (const column of [this.#namespace, this.#domainRef, this.#status]) column.set(slot, undefined);
    this.#free.push(slot);
  }

  #read(slot: number): KubeObject {
    const key = this.#key[slot]!;
    const namespace = this.#namespace.get(slot)!;
    const deletionTimestamp = this.#deleting.size === 0 ? undefined : this.#deleting.get(slot);
    const metadata: ObjectMeta = {
      name: key.slice(namespace.length + 1), namespace, resourceVersion: String(this.#resourceVersion[slot]),
      generation: this.#generation[slot], creationTimestamp: this.#created[slot],
    };
    if (deletionTimestamp !== undefined) metadata.deletionTimestamp = deletionTimestamp;
    // The field order the apiserver writes (its JSON sorts map keys).
    const spec = { address: this.#address[slot]!, domainRef: this.#domainRef.get(slot)!, mapiEnabled: this.#mapiEnabled[slot] === 1 };
    return new PackedMailbox(key, metadata, spec, this.#status.get(slot));
  }
}

function addressIndexKey(namespace: string, lowerAddress: string): string {
  return `${namespace}\n${lowerAddress}`;
}

function addressHash(namespace: string, lowerAddress: string): number {
  return hashString(lowerAddress, hashString(namespace));
}

/** What a Mailbox kept as an object is indexed under (nothing for a field of the wrong type). */
function objectIndexValues(obj: KubeObject): { domain?: string; address?: string } {
  const domainRef = (obj.spec as { domainRef?: unknown } | null | undefined)?.domainRef;
  const address = lowerCaseAddress(obj);
  return {
    ...(typeof domainRef === 'string' ? { domain: mailboxDomainKey(obj.metadata.namespace, domainRef) } : {}),
    ...(address !== undefined ? { address: addressIndexKey(obj.metadata.namespace ?? '', address) } : {}),
  };
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
