// Top-level fields of a cached object (its spec, its status) kept deflated, read back on each
// access. A hoster's MailDomain status (eight conditions and a row per check, ~2.5 KB of JSON)
// was ~1.7 KB of JS heap per MailDomain at 5,000 of them (a heap snapshot: 8.5 MiB), for
// something the controllers read once per reconcile; its Certificates and Ingresses, read to
// judge the certificate and to skip applies that change nothing, ~1.2 KB each. Deflated
// against a dictionary of what such objects say, a field is a tenth of its JSON or less
// (`npm run bench:memory -- --section domains`); reading it back (inflate, then JSON.parse)
// takes ~10–15 µs.
//
// A packed field stays an own enumerable property, an accessor: a spread, JSON.stringify or a
// deep comparison of the cached object sees it as it came. Each read builds a new value, so a
// reader that kept one keeps its own copy, and a parse that copies the object's properties as
// they are (Object.getOwnPropertyDescriptors) keeps the field packed.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

// Where a packed object keeps a field's bytes, by field name: not enumerable, so no spread,
// JSON or comparison sees them.
const bytesKeys = new Map<string, symbol>();
const bytesKey = (field: string): symbol => {
  let key = bytesKeys.get(field);
  if (!key) bytesKeys.set(field, (key = Symbol(`packed ${field}`)));
  return key;
};

// zlib's output buffers, 16 KiB each by default: each call left one outside the JS heap until a
// collection, and a burst of reads (a check interval's reconciles) held tens of MiB of them
// (a loop of 200,000 inflates: 34 MiB of external memory at most, 11.7 with 1 KiB chunks, from
// Node's shared 8 KiB pool; a packed field is ~20–200 B, its JSON a few KiB).
const CHUNK_BYTES = 1024;

export class FieldPacker {
  /** Part of an informer's identity (two informers with different packers are two caches). */
  readonly name: string;
  readonly fields: readonly string[];
  readonly #dictionary: Buffer;
  readonly #descriptors: ReadonlyMap<string, PropertyDescriptor>;

  /** `dictionary`: text like the fields to pack (field names, reasons, messages); deflate
   *  refers to it instead of repeating it in each object. */
  constructor(name: string, fields: readonly string[], dictionary: string) {
    this.name = name;
    this.fields = fields;
    this.#dictionary = Buffer.from(dictionary);
    const unpack = (s: string): unknown => this.unpack(s);
    // One getter and setter per field for every object this packer packs: V8 shares the
    // objects' shape.
    this.#descriptors = new Map(fields.map((field) => {
      const key = bytesKey(field);
      return [field, {
        enumerable: true,
        configurable: true,
        get(this: Record<symbol, string>) {
          return unpack(this[key]!);
        },
        // Assigning the field replaces the packed value with a plain property, as on any object.
        set(this: Record<symbol, string>, value: unknown) {
          Object.defineProperty(this, field, { value, writable: true, enumerable: true, configurable: true });
          delete this[key];
        },
      }];
    }));
  }

  /** A value as a one-byte string of its deflated JSON (a string costs 16 B beside its bytes;
   *  a Buffer ~100 B of objects and an allocation outside the heap). */
  pack(value: unknown): string {
    return deflateRawSync(JSON.stringify(value), { dictionary: this.#dictionary, chunkSize: CHUNK_BYTES }).toString('latin1');
  }

  unpack(packed: string): unknown {
    return JSON.parse(inflateRawSync(Buffer.from(packed, 'latin1'), { dictionary: this.#dictionary, chunkSize: CHUNK_BYTES }).toString('utf8'));
  }

  /** The values of this packer's fields `obj` has (undefined ones left out); undefined when none. */
  take(obj: object): Record<string, unknown> | undefined {
    let out: Record<string, unknown> | undefined;
    for (const field of this.fields) {
      const value = (obj as Record<string, unknown>)[field];
      if (value !== undefined) (out ??= {})[field] = value;
    }
    return out;
  }

  /** `obj` without this packer's fields (a shallow copy; the same object when it has none).
   *  Copied key by key, not deleted: a deletion turns an object into a hash table (~3× the
   *  memory of the same properties in place). */
  without<T extends object>(obj: T): T {
    if (!this.fields.some((f) => f in obj)) return obj;
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!this.fields.includes(k)) rest[k] = v;
    return rest as T;
  }

  /** Gives `obj` (changed in place: an informer's freshly parsed object) `values` packed. */
  attach<T extends object, V extends Record<string, unknown>>(obj: T, values: V): T & V {
    for (const [field, value] of Object.entries(values)) {
      const descriptor = this.#descriptors.get(field);
      if (!descriptor) throw new Error(`FieldPacker ${this.name}: ${field} is not one of its fields (${this.fields.join(', ')})`);
      Object.defineProperty(obj, bytesKey(field), { value: this.pack(value), writable: true, enumerable: false, configurable: true });
      Object.defineProperty(obj, field, descriptor);
    }
    return obj as T & V;
  }
}

/** Whether `obj` holds `field` packed. */
export function isPacked(obj: object, field: string): boolean {
  const key = bytesKeys.get(field);
  return key !== undefined && key in obj;
}

/**
 * Whether `obj`'s packed `field` says what `old`'s does; if so `obj` takes `old`'s bytes (one
 * string for the versions a status write leaves the spec of, as keepUnchangedParts shares
 * unchanged parts).
 */
export function keepPackedBytes(old: object, obj: object, field: string): boolean {
  const key = bytesKeys.get(field);
  if (key === undefined) return false;
  const then = (old as Record<symbol, unknown>)[key];
  const now = (obj as Record<symbol, unknown>)[key];
  if (typeof then !== 'string' || then !== now) return false;
  (obj as Record<symbol, unknown>)[key] = then;
  return true;
}
