// A cached object's status kept deflated, read back on each access. A hoster's MailDomain
// status (eight conditions and a row per check, ~2.5 KB of JSON) was ~1.7 KB of JS heap per
// MailDomain at 5,000 of them (a heap snapshot: 8.5 MiB), for something the controllers read
// once per reconcile. Deflated against a dictionary of what such statuses say, one is ~150 B
// (`npm run bench:memory -- --section domains`); reading it back (inflate, then JSON.parse)
// takes ~15 µs.
//
// The status stays an own enumerable property, an accessor: a spread, JSON.stringify or a
// deep comparison of the cached object sees it as it came. Each read builds a new object, so
// a reader that kept one keeps its own copy, and a parse that copies the object's properties
// as they are (Object.getOwnPropertyDescriptors) keeps the status packed.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Where a packed object keeps its bytes: not enumerable, so no spread, JSON or comparison sees it. */
const PACKED = Symbol('packedStatus');

interface Packed { [PACKED]: string }

export class StatusPacker {
  /** Part of an informer's identity (two informers with different packers are two caches). */
  readonly name: string;
  readonly #dictionary: Buffer;
  readonly #descriptor: PropertyDescriptor;

  /** `dictionary`: text like the statuses to pack (field names, reasons, messages); deflate
   *  refers to it instead of repeating it in each status. */
  constructor(name: string, dictionary: string) {
    this.name = name;
    this.#dictionary = Buffer.from(dictionary);
    const unpack = (s: string): unknown => this.unpack(s);
    // One getter and setter for every object this packer packs: V8 shares the objects' shape.
    this.#descriptor = {
      enumerable: true,
      configurable: true,
      get(this: Packed) {
        return unpack(this[PACKED]);
      },
      // Assigning a status replaces the packed one with a plain property, as on any object.
      set(this: Packed, value: unknown) {
        Object.defineProperty(this, 'status', { value, writable: true, enumerable: true, configurable: true });
        delete (this as Partial<Packed>)[PACKED];
      },
    };
  }

  /** The status as a one-byte string of the deflated JSON (a string costs 16 B beside its
   *  bytes; a Buffer ~100 B of objects and an allocation outside the heap). */
  pack(status: unknown): string {
    return deflateRawSync(JSON.stringify(status), { dictionary: this.#dictionary }).toString('latin1');
  }

  unpack(packed: string): unknown {
    return JSON.parse(inflateRawSync(Buffer.from(packed, 'latin1'), { dictionary: this.#dictionary }).toString('utf8'));
  }

  /** Gives `obj` (changed in place: an informer's freshly parsed object) `status` packed. */
  attach<T extends object>(obj: T, status: unknown): T & { status: unknown } {
    Object.defineProperty(obj, PACKED, { value: this.pack(status), writable: true, enumerable: false, configurable: true });
    Object.defineProperty(obj, 'status', this.#descriptor);
    return obj as T & { status: unknown };
  }
}

/** Whether `obj` holds its status packed (for tests and benchmarks). */
export function hasPackedStatus(obj: object): boolean {
  return PACKED in obj;
}
