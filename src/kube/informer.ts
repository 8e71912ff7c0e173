// An informer: list, then watch, per kind; keeps an in-memory store keyed by `namespace/name`
// and calls handlers on add/update/delete. One list/watch per namespace when namespaces are
// given (`--namespace` sharding), else one for the whole cluster.
//
// Failure handling, each for a reason seen in the field:
// - resume from the last resourceVersion (bookmarks keep it fresh), so a restarted watch does
//   not relist;
// - relist on 410 Gone / Expired (the resourceVersion fell out of the watch cache window),
//   diffing the new list against the store so handlers see the deletes that were missed;
// - server-side `timeoutSeconds` (randomised 5-10 min like client-go) so watches end and
//   restart regularly, and a watchdog for watches that die silently (client-node #958, #364);
// - restart after any error with jittered, capped exponential backoff, reset only after a
//   healthy watch, so failures never turn into a reconnect storm (client-node #1933).
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { JitteredBackoff } from './backoff.ts';
import { realClock, sleep, type Clock } from './clock.ts';
import { WeakValueMap } from './weak-value-map.ts';
import { GenerationalMap } from './generational-map.ts';
import { objectKey, rememberKey, resourcePath, type KubeClient, type KubeObject, type ResourceRef } from './client.ts';
import { isGone } from './errors.ts';
import { isPacked, keepPackedBytes } from './packed-fields.ts';
import { runWatch, type WatchEnd, type WatchEvent } from './watch.ts';

export interface EventHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** Why a watch was started again; counted in `stats` and the informer metric. */
export type RestartReason = 'closed' | 'watchdog' | 'error' | 'gone';

export interface InformerMetrics {
  watchRestarted(resource: string, reason: RestartReason): void;
  listed(resource: string): void;
}

export interface InformerOptions {
  client: KubeClient;
  resource: ResourceRef;
  /** Namespaces to watch, one list/watch each; empty or absent: all namespaces. */
  namespaces?: string[];
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  metrics?: InformerMetrics;
  clock?: Clock;
  /** Server-side watch time-out in seconds; default random in [300, 600) per watch. */
  watchTimeoutSeconds?: number | (() => number);
  /** Restart a watch that received nothing (not even a bookmark) for this long; default 130 s. */
  watchdogMs?: number;
  /** Reconnect backoff; default 800 ms doubling to 30 s, jittered. */
  backoff?: { baseMs: number; maxMs: number };
  /** Page size for lists; default 500. */
  pageSize?: number;
  /** Time-out of each list page and of each watch connect; default 60 s. */
  requestTimeoutMs?: number;
  /**
   * What the store keeps of each object. Default (cacheTransform): everything but
   * `metadata.managedFields`, which nothing reads from the cache and which is often the
   * largest part of an object (every manager's field set; controller-runtime's
   * TransformStripManagedFields does the same), and kubectl's last-applied annotation; with
   * repeated strings pooled. Applies before handlers see the object.
   */
  transform?: (obj: KubeObject) => KubeObject;
  /** Where the objects are kept; default a Map (see ObjectStore). */
  store?: () => ObjectStore<KubeObject>;
}

/**
 * Where an informer keeps its objects, by key (a Map is one). A kind cached by the hundred
 * thousand may keep them packed and hand out a new object on each read: what a reader keeps
 * of one is then its own, and two reads of one version are equal, not the same object.
 */
export interface ObjectStore<T> {
  readonly size: number;
  get(key: string): T | undefined;
  set(key: string, obj: T): unknown;
  delete(key: string): boolean;
  keys(): Iterable<string>;
  values(): Iterable<T>;
  entries(): Iterable<[string, T]>;
  /** The key string the store holds for this key, without reading the object (a store that
   *  builds objects on reads); absent: objectKey of the object read. */
  heldKey?(key: string): string | undefined;
}

/** The object without metadata.managedFields (same object when absent). */
export function stripManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _mf, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** `kubectl apply` (client-side) keeps a full copy of the manifest it applied here; nothing in
 *  the operator reads it, and on a Mailbox applied that way it is the largest field. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The object without metadata.managedFields and the last-applied annotation. */
export function stripUnread(obj: KubeObject): KubeObject {
  const meta = obj.metadata as (KubeObject['metadata'] & { annotations?: Record<string, string> }) | undefined;
  const lastApplied = meta?.annotations !== undefined && LAST_APPLIED_ANNOTATION in meta.annotations;
  if (!meta || (!('managedFields' in meta) && !lastApplied)) return obj;
  const { managedFields: _mf, annotations, ...rest } = meta;
  let kept = annotations;
  if (lastApplied) {
    const { [LAST_APPLIED_ANNOTATION]: _la, ...others } = annotations!;
    kept = Object.keys(others).length > 0 ? others : undefined;
  }
  return { ...obj, metadata: kept ? { ...rest, annotations: kept } : rest };
}

/** The object without its status (same object when it has none). */
export function dropStatus(obj: KubeObject): KubeObject {
  if (!('status' in obj)) return obj;
  const { status: _status, ...rest } = obj as KubeObject & { status?: unknown };
  return rest as KubeObject;
}

/**
 * One copy of each string that repeats across cached objects. JSON.parse makes a new string
 * for every value, so 100,000 Mailboxes held 100,000 copies each of their namespace, API
 * version, domainRef and of every condition's type, status, reason, message and time.
 *
 * Bounded, and it lets go of what stopped coming: strings live in two generations. A string
 * seen again moves to the current one; the current one becomes the previous one when it holds
 * half the bound or is `generationMs` old, and the previous one's strings that were not seen
 * again go. With churn (MailDomains created and deleted, messages that carry a time), a pool
 * that only started again when full grew for hours before it did (~80 strings a minute in the
 * soak, a bound of 50,000); now it holds what arrived in the last one or two generations.
 */
export class StringPool {
  readonly #strings: GenerationalMap<string, string>;
  constructor(max = 50_000, opts: { generationMs?: number; now?: () => number } = {}) {
    this.#strings = new GenerationalMap({ generationMs: opts.generationMs ?? 10 * 60_000, maxPerGeneration: max / 2, keyOf: (pooled) => pooled, ...(opts.now ? { now: opts.now } : {}) });
  }
  get size(): number {
    return this.#strings.size;
  }
  has(s: string): boolean {
    return this.#strings.has(s);
  }
  intern(s: string): string {
    const kept = this.#strings.keep(s);
    if (kept !== undefined) return kept;
    this.#strings.set(s, s);
    return s;
  }
}

/** Values unique to one object: pooling them would only fill the pool. */
const UNPOOLED_KEYS = new Set(['uid', 'resourceVersion', 'name', 'address', 'generateName', 'clusterIP', 'clusterIPs']);
/** Except in owner references: an owner's name and uid repeat in each of its children (a
 *  MailDomain's in its Certificate, Ingress, Service…: ~1 MiB of uids at 5,000 MailDomains). */
const POOLED_EVERYWHERE = new Set<string>();
/** Long values (ConfigMap data, certificates) rarely repeat and are not worth a lookup. */
const MAX_POOLED_LENGTH = 200;
const sharedPool = new StringPool();

/** Replaces, in place, repeated string values of a freshly parsed object with pooled copies. */
export function poolStrings<T>(value: T, pool: StringPool = sharedPool, unpooled: ReadonlySet<string> = UNPOOLED_KEYS): T {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') {
        if (v.length <= MAX_POOLED_LENGTH) value[i] = pool.intern(v);
      } else if (v !== null && typeof v === 'object') poolStrings(v, pool, unpooled);
    }
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (typeof v === 'string') {
        if (v.length <= MAX_POOLED_LENGTH && !unpooled.has(k)) o[k] = pool.intern(v);
      } else if (v !== null && typeof v === 'object') poolStrings(v, pool, k === 'ownerReferences' ? POOLED_EVERYWHERE : unpooled);
    }
  }
  return value;
}

/**
 * One frozen copy of each `status.conditions` list seen, and of each condition in it. Most
 * Mailboxes carry the same three conditions (the same reasons, messages and, reconciled in
 * the same second, the same times): ~15 % of a cached Mailbox. Frozen because they are
 * shared: code that changed a cached condition in place would change every object holding
 * it, so it throws instead (the cache is read-only, as client-go's is). Bounded: when full
 * it starts again.
 */
export class ConditionPool {
  // Held weakly: a condition or list goes when the last cached object holding it does, so the
  // pool holds what the cache holds, not every condition seen since the start.
  readonly #conditions = new WeakValueMap<string, object>();
  readonly #ids = new WeakMap<object, number>();
  readonly #lists = new WeakValueMap<string, readonly object[]>();
  readonly #max: number;
  #nextId = 0;
  constructor(max = 20_000) {
    this.#max = max;
  }
  get size(): number {
    return this.#conditions.size + this.#lists.size;
  }
  share(list: unknown[]): readonly unknown[] {
    if (!list.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c))) return list;
    if (this.#conditions.size >= this.#max || this.#lists.size >= this.#max) {
      this.#conditions.clear();
      this.#lists.clear();
    }
    const ids: number[] = [];
    const shared = list.map((c) => {
      // A digest, not the JSON: the pool keeps a key per distinct condition for as long as a
      // cached object holds it, and a MailDomain's messages make most of its conditions
      // distinct (~250 B of JSON each, ~40,000 at 5,000 MailDomains).
      const key = createHash('sha256').update(JSON.stringify(c)).digest('base64');
      let hit = this.#conditions.get(key);
      if (!hit) {
        hit = Object.freeze(c as object);
        this.#conditions.set(key, hit);
        this.#ids.set(hit, this.#nextId++);
      }
      ids.push(this.#ids.get(hit)!);
      return hit;
    });
    const listKey = ids.join(',');
    let hit = this.#lists.get(listKey);
    if (!hit) this.#lists.set(listKey, (hit = Object.freeze(shared)));
    return hit;
  }
}

const sharedConditions = new ConditionPool();

/**
 * One frozen copy of each small status: a status whose fields are, besides its shared
 * condition list, only numbers, booleans and short strings (a Mailbox's observedGeneration and
 * mapiEnabled). 100,000 Ready Mailboxes then hold one status object, not 100,000 equal ones.
 * Bounded: when full it starts again.
 */
export class StatusPool {
  // Held weakly, as ConditionPool's.
  readonly #statuses = new WeakValueMap<string, object>();
  readonly #lists = new WeakMap<readonly unknown[], number>();
  #nextList = 0;
  readonly #max: number;
  constructor(max = 20_000) {
    this.#max = max;
  }
  get size(): number {
    return this.#statuses.size;
  }
  share(status: Record<string, unknown>): Record<string, unknown> {
    const parts: unknown[] = [];
    for (const k in status) {
      const v = status[k];
      if (k === 'conditions' && Array.isArray(v) && Object.isFrozen(v)) {
        // A shared list stands for itself: its number in this pool, not its text.
        let id = this.#lists.get(v);
        if (id === undefined) this.#lists.set(v, (id = this.#nextList++));
        parts.push(k, id);
      } else if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= MAX_POOLED_LENGTH)) {
        parts.push(k, v);
      } else {
        return status; // anything larger is this object's own
      }
    }
    if (this.#statuses.size >= this.#max) this.#statuses.clear();
    const key = JSON.stringify(parts);
    let hit = this.#statuses.get(key);
    if (!hit) this.#statuses.set(key, (hit = Object.freeze(status)));
    return hit as Record<string, unknown>;
  }
}

const sharedStatuses = new StatusPool();

/** Shares `status.conditions` (in place) through the pool, then a small status as a whole
 *  (StatusPool); other objects as they are. */
export function shareConditions<T>(obj: T, pool: ConditionPool = sharedConditions, statuses: StatusPool = sharedStatuses): T {
  const o = obj as { status?: { conditions?: unknown } };
  const status = o.status;
  if (status && typeof status === 'object' && !Array.isArray(status)) {
    if (Array.isArray(status.conditions)) status.conditions = pool.share(status.conditions);
    o.status = statuses.share(status as Record<string, unknown>);
  }
  return obj;
}

/**
 * The default transform: nothing the operator does not read (stripUnread) and one copy of each
 * repeated string (poolStrings). The object it gets is the informer's own, freshly parsed from
 * a list page or watch line, so pooling in place changes nobody else's. Condition lists are
 * shared only where they repeat (shareConditions, for Mailboxes: compactMailbox): a
 * MailDomain's or a Certificate's conditions name it or carry its own times, and pooling
 * 30,000 distinct ones at 5,000 MailDomains cost ~6 MiB of digests, weak references and
 * finalizer cells for nothing shared (a heap snapshot).
 */
export function cacheTransform(obj: KubeObject): KubeObject {
  return poolStrings(stripUnread(obj));
}

/** Symbols under which a cached object keeps what was derived from its spec alone (a parse). */
const specDerived = new Set<symbol>();

/** Registers such a symbol: a new version that keeps its old spec keeps this too. */
export function derivedFromSpec(symbol: symbol): symbol {
  specDerived.add(symbol);
  return symbol;
}

/** Parts of an object that a change of another part leaves equal. */
const METADATA_PARTS = ['labels', 'annotations', 'ownerReferences', 'finalizers'] as const;

/**
 * The new version of a cached object, with every part equal to the old version's replaced by
 * the old version's own copy. A status write (one per Mailbox, and every condition change of a
 * MailDomain) sends the whole object again, so without this each one left the cache with a new
 * spec while memos still held strings of the old one: at 100,000 Mailboxes the MapiServer
 * controller's access list kept a second copy of every address (~3 MiB, a heap snapshot).
 * What was derived from the old spec (derivedFromSpec: a Mailbox's parse) holds for the new
 * version too, so a status write does not parse the spec again.
 */
export function keepUnchangedParts<T extends KubeObject>(old: T, obj: T): T {
  const o = obj as KubeObject & { spec?: unknown };
  const before = old as KubeObject & { spec?: unknown };
  // A packed spec (packed-fields.ts) is compared, and kept, as its bytes: assigning it would
  // unpack it.
  const packedSpec = isPacked(o, 'spec');
  const sameSpec = packedSpec
    ? keepPackedBytes(before, o, 'spec')
    : o.spec !== undefined && before.spec !== undefined && o.spec !== before.spec && isDeepStrictEqual(o.spec, before.spec);
  if (sameSpec) {
    if (!packedSpec) o.spec = before.spec;
    for (const symbol of specDerived) {
      const derived = Object.getOwnPropertyDescriptor(before, symbol);
      // Absent, or a slot the object reserved for it and left empty (a compact record).
      const empty = (o as unknown as Record<symbol, unknown>)[symbol] === undefined && (Object.hasOwn(o, symbol) || Object.isExtensible(o));
      if (derived && empty) Object.defineProperty(o, symbol, derived);
    }
  }
  const meta = o.metadata as Record<string, unknown> | undefined;
  const oldMeta = before.metadata as Record<string, unknown> | undefined;
  if (meta && oldMeta && meta !== oldMeta) {
    for (const part of METADATA_PARTS) {
      const now = meta[part];
      const then = oldMeta[part];
      if (now !== undefined && then !== undefined && now !== then && isDeepStrictEqual(now, then)) meta[part] = then;
    }
  }
  return obj;
}

interface ListResponse {
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

export interface InformerStats {
  lists: number;
  watches: number;
  events: number;
  bookmarks: number;
  restarts: Record<RestartReason, number>;
}

/** A healthy watch for this long proves the connection works again: reset the backoff. */
const HEALTHY_WATCH_MS = 30_000;

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  readonly stats: InformerStats = { lists: 0, watches: 0, events: 0, bookmarks: 0, restarts: { closed: 0, watchdog: 0, error: 0, gone: 0 } };
  readonly #opts: InformerOptions;
  readonly #clock: Clock;
  readonly #store: ObjectStore<T>;
  readonly #handlers = new Set<EventHandlers<T>>();
  readonly #synced = new Set<string>();
  readonly #scopes: string[];
  readonly #syncWaiters: Array<() => void> = [];
  #abort: AbortController | undefined;
  #loops: Array<Promise<void>> = [];

  constructor(opts: InformerOptions) {
    this.#opts = opts;
    this.resource = opts.resource;
    this.#clock = opts.clock ?? realClock;
    this.#store = (opts.store?.() ?? new Map<string, KubeObject>()) as ObjectStore<T>;
    // '' is the all-namespaces scope; cluster-scoped kinds ignore namespaces.
    const nss = opts.resource.namespaced ? [...new Set(opts.namespaces ?? [])].filter(Boolean) : [];
    this.#scopes = nss.length ? nss : [''];
  }

  /** Where the objects are kept (InformerOptions.store): for readers of a store that answers
   *  more than lookups by key. Only the informer writes to it. */
  get store(): ObjectStore<T> {
    return this.#store;
  }

  get #name(): string {
    const r = this.resource;
    return r.group ? `${r.plural}.${r.group}` : r.plural;
  }

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    const signal = this.#abort.signal;
    this.#loops = this.#scopes.map((scope) => this.#runScope(scope, signal));
  }

  async stop(): Promise<void> {
    this.#abort?.abort(new Error('informer stopped'));
    await Promise.allSettled(this.#loops);
  }

  hasSynced(): boolean {
    return this.#synced.size === this.#scopes.length;
  }

  /** Resolves once every namespace has been listed; rejects when `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.#store.get(key);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  /**
   * Registers handlers; objects already in the store are replayed to `onAdd` so a late
   * handler sees the same world as an early one. Returns a function that unregisters them.
   */
  addHandlers(handlers: EventHandlers<T>): () => void {
    this.#handlers.add(handlers);
    for (const obj of this.#store.values()) this.#call(() => handlers.onAdd?.(obj));
    return () => this.#handlers.delete(handlers);
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A handler bug must not kill the watch that feeds every other handler.
      this.#opts.logger?.error({ err, resource: this.#name }, 'informer event handler threw');
    }
  }

  #emitAdd(obj: T): void {
    for (const h of this.#handlers) this.#call(() => h.onAdd?.(obj));
  }

  #emitUpdate(oldObj: T, newObj: T): void {
    for (const h of this.#handlers) this.#call(() => h.onUpdate?.(oldObj, newObj));
  }

  #emitDelete(obj: T): void {
    for (const h of this.#handlers) this.#call(() => h.onDelete?.(obj));
  }

  #inScope(scope: string, obj: T): boolean {
    return scope === '' || obj.metadata.namespace === scope;
  }

  #timeoutSeconds(): number {
    const t = this.#opts.watchTimeoutSeconds;
    if (typeof t === 'function') return t();
    if (typeof t === 'number') return t;
    return Math.floor(300 * (1 + Math.random()));
  }

  async #runScope(scope: string, signal: AbortSignal): Promise<void> {
    const log = this.#opts.logger?.child({ resource: this.#name, namespace: scope || '*' });
    const backoff = new JitteredBackoff(this.#opts.backoff ?? { baseMs: 800, maxMs: 30_000 });
    let resourceVersion: string | undefined;
    let lastListAt = -Infinity;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          // Relisting in a tight loop (list works, watch answers 410 at once) would hammer
          // the apiserver: space relists by the backoff too.
          if (this.#clock.now() - lastListAt < 1000) await sleep(this.#clock, backoff.next(), signal);
          lastListAt = this.#clock.now();
          resourceVersion = await this.#list(scope, signal);
          if (!this.#synced.has(scope)) {
            this.#synced.add(scope);
            log?.debug({ objects: this.#store.size }, 'informer synced');
            if (this.hasSynced()) for (const w of this.#syncWaiters.splice(0)) w();
          }
        }
        const startedAt = this.#clock.now();
        let sawEvent = false;
        this.stats.watches++;
        const end: WatchEnd = await runWatch(this.#opts.client, {
          path: resourcePath(this.resource, scope || undefined),
          resourceVersion,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
          timeoutSeconds: this.#timeoutSeconds(),
          watchdogMs: this.#opts.watchdogMs ?? 130_000,
          connectTimeoutMs: this.#opts.requestTimeoutMs ?? 60_000,
          signal,
          clock: this.#clock,
          onEvent: (event) => {
            sawEvent = true;
            const rv = this.#apply(scope, event);
            if (rv) resourceVersion = rv;
          },
        });
        if (signal.aborted) break;
        this.#restarted(end, log);
        if (sawEvent || this.#clock.now() - startedAt >= HEALTHY_WATCH_MS) {
          backoff.reset();
        } else {
          // Closed at once with nothing delivered: treat like a failure so it cannot spin.
          await sleep(this.#clock, backoff.next(), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          log?.info({ resourceVersion }, 'resourceVersion expired (410 Gone); relisting');
          resourceVersion = undefined;
          this.#restarted('gone', log);
          continue;
        }
        const delay = backoff.next();
        this.#restarted('error', log);
        log?.warn({ err, retryInMs: Math.round(delay), failures: backoff.failures }, 'list/watch failed; retrying with backoff');
        try {
          await sleep(this.#clock, delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  #restarted(reason: RestartReason, log: Logger | undefined): void {
    this.stats.restarts[reason]++;
    this.#opts.metrics?.watchRestarted(this.#name, reason);
    if (reason === 'watchdog') log?.info('watch silent past the watchdog; restarted from the last resourceVersion');
  }

  /** Lists one scope page by page, replaces its part of the store, returns the list's RV. */
  async #list(scope: string, signal: AbortSignal): Promise<string> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page: ListResponse = await this.#opts.client.request<ListResponse>({
        path: resourcePath(this.resource, scope || undefined),
        query: {
          limit: this.#opts.pageSize ?? 500,
          continue: cont,
          labelSelector: this.#opts.labelSelector || undefined,
          fieldSelector: this.#opts.fieldSelector || undefined,
        },
        timeoutMs: this.#opts.requestTimeoutMs ?? 60_000,
        signal,
      });
      for (const item of page.items) {
        // List items carry no apiVersion/kind; handlers and owners expect them.
        items.push(this.#transform({ ...item, apiVersion: item.apiVersion ?? this.#apiVersion(), kind: item.kind ?? this.resource.kind }));
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    this.stats.lists++;
    this.#opts.metrics?.listed(this.#name);
    this.#replace(scope, items);
    return rv;
  }

  #transform(obj: KubeObject): T {
    return (this.#opts.transform ?? cacheTransform)(obj) as T;
  }

  /** The key string of the version in the store, if any: one string per object for good. */
  #keyOf(key: string): string {
    if (this.#store.heldKey) return this.#store.heldKey(key) ?? key;
    const held = this.#store.get(key);
    return held ? objectKey(held) : key;
  }

  #apiVersion(): string {
    return this.resource.group ? `${this.resource.group}/${this.resource.version}` : this.resource.version;
  }

  /** Makes the scope's part of the store equal `items`, emitting the differences. */
  #replace(scope: string, items: T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, obj] of fresh) rememberKey(obj, this.#keyOf(key));
    for (const [key, old] of [...this.#store.entries()]) {
      if (this.#inScope(scope, old) && !fresh.has(key)) {
        this.#store.delete(key);
        this.#emitDelete(old);
      }
    }
    for (const [key, listed] of fresh) {
      const old = this.#store.get(key);
      const obj = old ? keepUnchangedParts(old, listed) : listed;
      this.#store.set(key, obj);
      if (!old) this.#emitAdd(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emitUpdate(old, obj);
    }
  }

  /** Applies one watch event to the store; returns the resourceVersion to resume from. */
  #apply(_scope: string, event: WatchEvent): string | undefined {
    const rv = (event.object as T).metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      return rv;
    }
    const fresh = this.#transform(event.object as KubeObject);
    this.stats.events++;
    const key = this.#keyOf(objectKey(fresh));
    rememberKey(fresh, key);
    const old = this.#store.get(key);
    const obj = old && event.type !== 'DELETED' ? keepUnchangedParts(old, fresh) : fresh;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.#store.set(key, obj);
        if (old) this.#emitUpdate(old, obj);
        else this.#emitAdd(obj);
        break;
      case 'DELETED':
        this.#store.delete(key);
        this.#emitDelete(old ?? obj);
        break;
      default:
        break;
    }
    return rv;
  }
}
