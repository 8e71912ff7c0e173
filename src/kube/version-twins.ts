// Two informers of one kind may cache the same objects: a namespaced operator keeps its
// MailDomains with their status, and every namespace's without (who declared which host). Each
// parses every version from its own watch, so each object's metadata and spec were held twice
// (5,000 of each at 5,000 MailDomains, a heap snapshot). The informer that takes in a version
// second takes the first one's metadata and spec instead: the same uid and resourceVersion are
// the same stored object, whatever each cache then drops (the status).
//
// Only recent versions are remembered: both watches deliver a change within moments of each
// other, so two generations of a minute each bound what is kept (GenerationalMap).
import type { KubeObject, ObjectMeta } from './client.ts';
import { GenerationalMap } from './generational-map.ts';

interface Parts { metadata: ObjectMeta; spec: unknown }

export class VersionTwins {
  readonly #versions: GenerationalMap<string, Parts>;

  constructor(opts: { generationMs?: number; now?: () => number } = {}) {
    this.#versions = new GenerationalMap({ generationMs: opts.generationMs ?? 60_000, ...(opts.now ? { now: opts.now } : {}) });
  }

  /** How many versions are remembered. */
  get size(): number {
    return this.#versions.size;
  }

  /**
   * The object, with the metadata and spec of the same version seen before if there is one
   * (changed in place: the informer's freshly parsed object, nobody else's); else it is
   * remembered for the twin to come. An object without uid or resourceVersion is left alone.
   */
  adopt<T extends KubeObject>(obj: T): T {
    const { uid, resourceVersion } = obj.metadata ?? {};
    if (!uid || !resourceVersion || obj.spec === undefined) return obj;
    const id = `${uid}/${resourceVersion}`;
    const twin = this.#versions.get(id);
    if (twin === undefined) {
      this.#versions.set(id, { metadata: obj.metadata, spec: obj.spec });
      return obj;
    }
    // Two caches, one twin each: nothing more to wait for.
    this.#versions.delete(id);
    obj.metadata = twin.metadata;
    (obj as KubeObject & { spec?: unknown }).spec = twin.spec;
    return obj;
  }
}
