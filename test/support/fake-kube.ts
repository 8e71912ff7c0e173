// A stand-in for the kube-apiserver, for unit tests and benchmarks of a controller's own
// logic (not of the apiserver's): it serves lists and watch streams of whatever objects the
// test put in, answers server-side applies by storing the body and sending the watch event,
// and 404 to reads of anything else. No validation, defaulting, field ownership or
// conflicts: tests of those run against the real apiserver (test/integration).
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import type { KubeClient, KubeObject, Manager, ResourceRef } from '../../src/kube/index.ts';
import { Informer, cacheTransform, type ObjectStore } from '../../src/kube/informer.ts';
import { KubeApiError } from '../../src/kube/errors.ts';
import { OWNED_KINDS } from '../../src/controllers/resources.ts';
import { ISSUERS, MAILBOXES, MAILDOMAINS, MAPISERVERS } from '../../src/controllers/resources.ts';

const REFS: Record<string, ResourceRef> = { ...OWNED_KINDS, MapiServer: MAPISERVERS, MailDomain: MAILDOMAINS, Mailbox: MAILBOXES, Issuer: ISSUERS };

export interface FakeKube {
  client: KubeClient;
  /** A Manager with informers on this API; `reconcilers` holds each controller's reconcile by name. */
  manager: Manager;
  reconcilers: Map<string, (key: string, ctx: { log: unknown; signal: AbortSignal }) => Promise<unknown>>;
  /** Each controller's reconciles at once, as registered. */
  concurrency: Map<string, number | undefined>;
  /** Each controller's watches: what an event of a watched kind maps to (call `map` directly). */
  watches: Map<string, Array<{ informer: unknown; map: unknown }>>;
  /** Stores an object as the apiserver would (uid, resourceVersion, generation) and tells the watches. */
  put(obj: KubeObject, opts?: { specChanged?: boolean }): KubeObject;
  remove(kind: string, namespace: string, name: string): void;
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** PATCH requests answered so far, as "Kind name" or "Kind name/status". */
  writes: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Waits until the watches delivered what was sent (they are asynchronous streams). */
  settle(): Promise<void>;
}

export function fakeKube(): FakeKube {
  const stored = new Map<string, Map<string, KubeObject>>(); // plural → "ns/name" → object
  const watches = new Map<string, Set<PassThrough>>();
  const writes: string[] = [];
  let rv = 1000;
  let uids = 0;
  const pluralOf = (kind: string) => {
    const ref = REFS[kind];
    if (!ref) throw new Error(`fakeKube: unknown kind ${kind}`);
    return ref.plural;
  };
  const table = (plural: string) => stored.get(plural) ?? stored.set(plural, new Map()).get(plural)!;
  const tell = (plural: string, type: string, object: KubeObject) => {
    const line = `${JSON.stringify({ type, object })}\n`;
    for (const w of watches.get(plural) ?? []) w.write(line);
  };
  const store = (plural: string, obj: KubeObject, specChanged: boolean): KubeObject => {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const before = table(plural).get(key);
    const generation = before ? (before.metadata.generation ?? 1) + (specChanged ? 1 : 0) : 1;
    const saved = {
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: before?.metadata.uid ?? `uid-${++uids}`,
        resourceVersion: String(++rv),
        generation,
        creationTimestamp: before?.metadata.creationTimestamp ?? new Date(Date.UTC(2026, 0, 1, 0, 0, uids)).toISOString().replace('.000', ''),
      },
    } as KubeObject;
    table(plural).set(key, saved);
    tell(plural, before ? 'MODIFIED' : 'ADDED', saved);
    return saved;
  };
  const parse = (path: string) => {
    const parts = path.split('?')[0]!.split('/').filter(Boolean);
    const ns = parts.indexOf('namespaces');
    return ns >= 0
      ? { plural: parts[ns + 2]!, namespace: parts[ns + 1]!, name: parts[ns + 3], sub: parts[ns + 4] }
      : { plural: parts.at(-1)!, namespace: undefined, name: undefined, sub: undefined };
  };
  const client = {
    async resourceFor(_apiVersion: string, kind: string) {
      const ref = REFS[kind];
      if (!ref) throw new Error(`fakeKube: unknown kind ${kind}`);
      return ref;
    },
    async request<T>(opts: { method?: string; path: string; body?: KubeObject & { status?: unknown } }): Promise<T> {
      const { plural, namespace, name, sub } = parse(opts.path);
      const method = opts.method ?? 'GET';
      if (method === 'GET' && name === undefined) {
        return JSON.parse(JSON.stringify({ metadata: { resourceVersion: String(rv) }, items: [...table(plural).values()] })) as T;
      }
      const key = `${namespace}/${name}`;
      if (method === 'GET') {
        const o = table(plural).get(key);
        if (!o) throw new KubeApiError({ statusCode: 404, request: `GET ${opts.path}` });
        return JSON.parse(JSON.stringify(o)) as T;
      }
      if (method === 'PATCH') {
        const body = JSON.parse(JSON.stringify(opts.body)) as KubeObject & { status?: unknown };
        writes.push(`${body.kind} ${name}${sub ? `/${sub}` : ''}`);
        const before = table(plural).get(key);
        if (sub === 'status') {
          if (!before) throw new KubeApiError({ statusCode: 404, request: `PATCH ${opts.path}` });
          return store(plural, { ...before, status: body.status }, false) as T;
        }
        const specChanged = !before || JSON.stringify({ ...before, metadata: undefined, status: undefined }) !== JSON.stringify({ ...body, metadata: undefined, status: undefined });
        return store(plural, { ...body, ...(before?.status ? { status: before.status } : {}) } as KubeObject, specChanged) as T;
      }
      if (method === 'DELETE') {
        const o = table(plural).get(key);
        if (o) {
          table(plural).delete(key);
          tell(plural, 'DELETED', o);
        }
        return {} as T;
      }
      throw new Error(`fakeKube: unexpected ${method} ${opts.path}`);
    },
    async stream(opts: { path: string; signal: AbortSignal }) {
      const { plural } = parse(opts.path);
      const res = new PassThrough() as PassThrough & { complete: boolean };
      res.complete = false;
      const set = watches.get(plural) ?? watches.set(plural, new Set()).get(plural)!;
      set.add(res);
      opts.signal.addEventListener('abort', () => { set.delete(res); res.destroy(); }, { once: true });
      return res;
    },
  } as unknown as KubeClient;

  const informers: Informer[] = [];
  const byId = new Map<string, Informer>();
  const reconcilers: FakeKube['reconcilers'] = new Map();
  const concurrency: FakeKube['concurrency'] = new Map();
  const controllerWatches: FakeKube['watches'] = new Map();
  const quiet = () => undefined;
  const logger: Record<string, unknown> = { info: quiet, debug: quiet, warn: quiet, error: quiet };
  logger.child = () => logger;
  const manager = {
    client,
    logger,
    metrics: { registry: new Registry() },
    informer(resource: ResourceRef, req: { namespaces?: string[]; store?: () => ObjectStore<KubeObject> } = {}) {
      const id = `${resource.plural}/${JSON.stringify(req.namespaces ?? [])}`;
      let inf = byId.get(id);
      if (!inf) {
        inf = new Informer({ client, resource, transform: cacheTransform, watchTimeoutSeconds: 3600, ...(req.store ? { store: req.store } : {}) });
        byId.set(id, inf);
        informers.push(inf);
      }
      return inf;
    },
    addController(o: { name: string; reconcile: (key: string, ctx: { log: unknown; signal: AbortSignal }) => Promise<unknown>; watches?: Array<{ informer: unknown; map: unknown }>; concurrency?: number }) {
      reconcilers.set(o.name, o.reconcile);
      concurrency.set(o.name, o.concurrency);
      controllerWatches.set(o.name, o.watches ?? []);
      return { enqueue: quiet };
    },
    events: { record: quiet },
    addReadyCheck: quiet,
  } as unknown as Manager;

  return {
    client, manager, reconcilers, writes, concurrency, watches: controllerWatches,
    put: (obj, opts = {}) => store(pluralOf(obj.kind ?? ''), obj, opts.specChanged ?? true),
    remove(kind, namespace, name) {
      const plural = pluralOf(kind);
      const o = table(plural).get(`${namespace}/${name}`);
      if (!o) return;
      table(plural).delete(`${namespace}/${name}`);
      tell(plural, 'DELETED', o);
    },
    get: (kind, namespace, name) => table(pluralOf(kind)).get(`${namespace}/${name}`),
    async start() {
      for (const i of informers) i.start();
      await Promise.all(informers.map((i) => i.waitForSync()));
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
    settle: () => new Promise((resolve) => setTimeout(resolve, 20)),
  };
}
