// The one HTTP edge to the apiserver. Every call has a time-out; errors become KubeApiError
// with the apiserver's Status. Built directly on node:http(s) with the KubeConfig's own TLS
// and auth options (applyToHTTPSOptions), so streaming watches are under our control: their
// abort, their watchdog and their parsing (client-node 2.0.0 aborted healthy watches after
// 30 s, kubernetes-client/javascript#3020; we do not depend on its Watch class at all).
import * as http from 'node:http';
import * as https from 'node:https';
import type { ClusterConfig } from './kubeconfig.ts';
import { KubeApiError, KubeTimeoutError, type ApiStatus } from './errors.ts';

/** Identifies a resource type: where it lives in the API. */
export interface ResourceRef {
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespaced: boolean;
  kind: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: Array<{ manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }>;
  deletionTimestamp?: string;
  creationTimestamp?: string;
  [field: string]: unknown;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Total time-out for the whole call (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Names the object in error messages ("ConfigMap ns/name"). */
  object?: string;
}

export interface StreamOptions {
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Time-out until the response headers arrive; the body is the caller's to bound. */
  connectTimeoutMs?: number;
  signal: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
}

/** The collection or object path of a resource, optionally a subresource (`status`). */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = groupVersionPath(ref.group, ref.version);
  if (ref.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${ref.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

/** `apiVersion` of a resource ("v1", "apps/v1"). */
export function apiVersionOf(ref: Pick<ResourceRef, 'group' | 'version'>): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the store and queue key. */
const CACHED_KEY = Symbol('objectKey');
/** The symbol under which an object keeps its key (objectKey reads it): for a class whose
 *  instances give theirs from a getter instead of a property of their own. */
export const OBJECT_KEY: typeof CACHED_KEY = CACHED_KEY;

/**
 * "namespace/name" (the name alone for a cluster-scoped object). For an object of an
 * informer's cache, the one string the informer made for it (rememberKey): the store, the
 * work queue, the indexes and the controllers' own maps then hold one copy of each key
 * instead of a new one per call (at 100,000 Mailboxes ~300,000 keys, each built as a
 * two-part rope string that kept both its parts: ~20 MiB).
 */
export function objectKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const cached = (obj as { [CACHED_KEY]?: string })[CACHED_KEY];
  if (cached !== undefined) return cached;
  const ns = obj.metadata?.namespace;
  // join makes one flat string; a template literal makes a rope of its parts.
  return ns ? [ns, obj.metadata?.name ?? ''].join('/') : (obj.metadata?.name ?? '');
}

/** Keeps the object's key on it (not enumerable: copies and JSON leave it out); for objects
 *  that live on in a cache, whose namespace and name never change. `key`: the string an
 *  earlier version of the object had, so every version shares it. */
export function rememberKey<T extends object>(obj: T, key?: string): T {
  const held = obj as { [CACHED_KEY]?: string };
  if (held[CACHED_KEY] !== undefined) return obj;
  const value = key ?? objectKey(obj as { metadata?: { namespace?: string; name?: string } });
  if (Object.hasOwn(obj, CACHED_KEY)) held[CACHED_KEY] = value; // a slot reserveKeySlot made
  else if (Object.isExtensible(obj)) Object.defineProperty(obj, CACHED_KEY, { value });
  return obj;
}

/**
 * Reserves the key's slot on an object a constructor is building (writable, not enumerable,
 * empty until rememberKey fills it): a property added to an object after it was built goes to
 * a separate property array (~40 B), one reserved while it is built sits inside the object.
 */
export function reserveKeySlot(obj: object): void {
  Object.defineProperty(obj, CACHED_KEY, { value: undefined, writable: true });
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function buildUrl(server: string, path: string, query?: RequestOptions['query']): URL {
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

export class KubeClient {
  readonly kubeConfig: ClusterConfig;
  readonly #discovery = new Map<string, Promise<Array<{ name: string; kind: string; namespaced: boolean }>>>();
  // Connections kept open between requests. The KubeConfig's own agents do not keep them
  // (client-node builds `new https.Agent(options)` without keepAlive), so every request paid
  // a TCP connect and, against a real apiserver, a TLS handshake with the client certificate.
  // One agent per scheme is enough: Node pools connections by the TLS options of each request
  // (CA, client certificate, key), so rotated credentials get connections of their own.
  readonly #agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };

  constructor(kubeConfig: ClusterConfig) {
    this.kubeConfig = kubeConfig;
  }

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server;
  }

  /** One JSON request/response with a total time-out. Resolves with the parsed body. */
  async request<T = unknown>(opts: RequestOptions): Promise<T> {
    const method = opts.method ?? 'GET';
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const label = `${method} ${opts.path}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    let res: http.IncomingMessage;
    let text: string;
    try {
      res = await this.#send(method, buildUrl(this.server, opts.path, opts.query), headers, payload, signal);
      text = await readBody(res, signal);
    } catch (err) {
      if (timeout.aborted && !opts.signal?.aborted) throw new KubeTimeoutError(label, timeoutMs);
      throw err;
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      throw new KubeApiError({ statusCode: status, request: label, object: opts.object, status: parseStatus(text), body: text });
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Opens a streaming GET (a watch). Resolves with the response once it answered 200; the
   * caller reads the body and destroys it. Non-200 answers become KubeApiError.
   */
  async stream(opts: StreamOptions): Promise<http.IncomingMessage> {
    const label = `GET ${opts.path} (watch)`;
    const connectMs = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const connectTimeout = new AbortController();
    const timer = setTimeout(() => connectTimeout.abort(new KubeTimeoutError(label, connectMs)), connectMs);
    const signal = AbortSignal.any([opts.signal, connectTimeout.signal]);
    try {
      const res = await this.#send('GET', buildUrl(this.server, opts.path, opts.query), { Accept: 'application/json' }, undefined, signal);
      if (res.statusCode !== 200) {
        const text = await readBody(res, signal);
        throw new KubeApiError({ statusCode: res.statusCode ?? 0, request: label, status: parseStatus(text), body: text });
      }
      // Past the headers the connect time-out no longer applies, but the caller's signal does.
      const onAbort = () => res.destroy(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('watch aborted'));
      opts.signal.addEventListener('abort', onAbort, { once: true });
      res.once('close', () => opts.signal.removeEventListener('abort', onAbort));
      return res;
    } catch (err) {
      if (connectTimeout.signal.aborted && !opts.signal.aborted) throw connectTimeout.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Finds the resource (plural, scope) serving `kind` in `apiVersion`, via discovery (cached). */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceRef> {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const path = groupVersionPath(group, version);
    let entry = this.#discovery.get(path);
    if (!entry) {
      entry = this.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>({ path }).then((r) => r.resources);
      this.#discovery.set(path, entry);
      // A failed discovery must not stay cached (the CRD may be installed a moment later).
      entry.catch(() => this.#discovery.delete(path));
    }
    let resources = await entry;
    let found = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) {
      // A CRD installed after the first discovery: ask once more before giving up.
      this.#discovery.delete(path);
      resources = await this.request<{ resources: typeof resources }>({ path }).then((r) => r.resources);
      this.#discovery.set(path, Promise.resolve(resources));
      found = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    }
    if (!found) throw new Error(`the apiserver serves no kind ${kind} in ${apiVersion} (is its CRD installed?)`);
    return { group, version, plural: found.name, namespaced: found.namespaced, kind };
  }

  async #send(method: string, url: URL, headers: Record<string, string>, payload: string | undefined, signal: AbortSignal): Promise<http.IncomingMessage> {
    // Auth is applied per request: in-cluster tokens and exec credentials rotate.
    const opts: https.RequestOptions = { method, headers: { ...headers } };
    await this.kubeConfig.applyToHTTPSOptions(opts);
    // A proxy agent (socks, HTTP CONNECT) stays as the KubeConfig made it.
    const plain = opts.agent?.constructor === http.Agent || opts.agent?.constructor === https.Agent;
    if (plain) opts.agent = this.#agents[url.protocol === 'http:' ? 'http:' : 'https:'];
    if (payload !== undefined) (opts.headers as Record<string, string>)['Content-Length'] = String(Buffer.byteLength(payload));
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const req = transport.request(url, { ...opts, signal }, resolve);
      req.on('error', (err) => reject(signal.aborted ? (signal.reason ?? err) : err));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function parseStatus(text: string): ApiStatus | undefined {
  try {
    const parsed = JSON.parse(text) as ApiStatus;
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** After a body is read, errors the response may still emit (a reset socket) go nowhere. */
const ignoreLateError = (): void => {};

/**
 * The whole body of a response. Once it is read, the response keeps none of this function's
 * listeners: a kept-alive socket holds its last response until the next request, and through
 * the 'data' listener that response held the chunks and the settled promise with the body (two
 * list pages of 0.6 MiB each at 5,000 MailDomains, found in a heap snapshot).
 */
export function readBody(res: http.IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    const onAbort = () => res.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onData = (c: Buffer) => chunks.push(c);
    const settle = () => {
      signal.removeEventListener('abort', onAbort);
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('error', onError);
      res.on('error', ignoreLateError);
    };
    const onEnd = () => {
      settle();
      const body = Buffer.concat(chunks).toString('utf8');
      chunks = [];
      resolve(body);
    };
    const onError = (err: Error) => {
      settle();
      chunks = [];
      reject(err);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', onData);
    res.on('end', onEnd);
    res.on('error', onError);
  });
}
