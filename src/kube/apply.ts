// Writes, all through server-side apply with one field manager, so `kubectl diff`, Argo CD
// and Flux see no drift and other managers' fields stay theirs.
import { apiVersionOf, resourcePath, type KubeClient, type KubeObject, type ResourceRef } from './client.ts';
import { carryTransitionTimes, statusChanged } from './status-diff.ts';

export const FIELD_MANAGER = 'mapi-operator';

export interface ApplyOptions {
  fieldManager?: string;
  /** Take ownership of fields another manager set (SSA conflicts); default true. */
  force?: boolean;
  /** Validate without persisting (`dryRun=All`). */
  dryRun?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function describe(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return `${obj.kind ?? 'object'} ${ns ? `${ns}/` : ''}${obj.metadata.name ?? '(no name)'}`;
}

async function targetOf(client: KubeClient, obj: KubeObject): Promise<ResourceRef> {
  if (!obj.apiVersion || !obj.kind) throw new Error(`${describe(obj)}: apiVersion and kind are required to apply`);
  if (!obj.metadata?.name) throw new Error(`${describe(obj)}: metadata.name is required to apply`);
  const ref = await client.resourceFor(obj.apiVersion, obj.kind);
  if (ref.namespaced && !obj.metadata.namespace) throw new Error(`${describe(obj)}: metadata.namespace is required (${obj.kind} is namespaced)`);
  return ref;
}

function applyQuery(opts: ApplyOptions): Record<string, string | undefined> {
  return {
    fieldManager: opts.fieldManager ?? FIELD_MANAGER,
    force: String(opts.force ?? true),
    dryRun: opts.dryRun ? 'All' : undefined,
  };
}

/** Strips what an apply must not send (the server owns these). */
function applyBody(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, uid: _uid, creationTimestamp: _ct, generation: _g, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * Server-side apply of a whole object (PATCH application/apply-patch+yaml; JSON is YAML).
 * Resolves with the object as stored. Rejections are KubeApiError naming the object and
 * every rejected field (the apiserver's details.causes).
 */
export async function applyObject<T extends KubeObject = KubeObject>(client: KubeClient, obj: KubeObject, opts: ApplyOptions = {}): Promise<T> {
  const ref = await targetOf(client, obj);
  return client.request<T>({
    method: 'PATCH',
    path: resourcePath(ref, obj.metadata.namespace, obj.metadata.name),
    query: applyQuery(opts),
    body: applyBody(obj),
    contentType: 'application/apply-patch+yaml',
    object: describe(obj),
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
  });
}

/**
 * Server-side apply of the status subresource: `status` is the full status this manager
 * owns. Send only apiVersion, kind, name/namespace and status.
 */
export async function applyStatus<T extends KubeObject = KubeObject>(client: KubeClient, obj: KubeObject, status: unknown, opts: ApplyOptions = {}): Promise<T> {
  const ref = await targetOf(client, obj);
  const body = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace }, status };
  return client.request<T>({
    method: 'PATCH',
    path: resourcePath(ref, obj.metadata.namespace, obj.metadata.name, 'status'),
    query: applyQuery(opts),
    body,
    contentType: 'application/apply-patch+yaml',
    object: `${describe(obj)} status`,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
  });
}

export interface PatchStatusOptions {
  fieldManager?: string;
  /**
   * Guard with the object's resourceVersion: the write fails with 409 if someone changed the
   * object since it was read (optimistic concurrency). Default: no guard.
   */
  resourceVersion?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** JSON merge patch of the status subresource (`{status: ...}` merged field by field). */
export async function patchStatus<T extends KubeObject = KubeObject>(client: KubeClient, ref: ResourceRef, namespace: string | undefined, name: string, status: unknown, opts: PatchStatusOptions = {}): Promise<T> {
  const body: Record<string, unknown> = { status };
  if (opts.resourceVersion) body.metadata = { resourceVersion: opts.resourceVersion };
  return client.request<T>({
    method: 'PATCH',
    path: resourcePath(ref, namespace, name, 'status'),
    query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER },
    body,
    contentType: 'application/merge-patch+json',
    object: `${ref.kind} ${namespace ? `${namespace}/` : ''}${name} status`,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
  });
}

/**
 * Applies `status` only when it differs from the object's current status (ignoring
 * lastTransitionTime of conditions whose status stayed, and keeping those times in what it
 * writes). Resolves with whether it wrote.
 */
export async function applyStatusIfChanged<T extends KubeObject>(client: KubeClient, current: T, status: unknown, opts: ApplyOptions = {}): Promise<{ written: boolean; object: T }> {
  if (!statusChanged(current.status, status)) return { written: false, object: current };
  const object = await applyStatus<T>(client, current, carryTransitionTimes(current.status, status), opts);
  return { written: true, object };
}

/** Deletes an object; a missing object is not an error. */
export async function deleteObject(client: KubeClient, ref: ResourceRef, namespace: string | undefined, name: string, opts: { timeoutMs?: number; signal?: AbortSignal; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<void> {
  try {
    await client.request({
      method: 'DELETE',
      path: resourcePath(ref, namespace, name),
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy ?? 'Background' },
      object: `${ref.kind} ${namespace ? `${namespace}/` : ''}${name}`,
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return;
    throw err;
  }
}

export { apiVersionOf };
