// The operator validates again what the apiserver validated: a stored object may predate
// the current CRD, or the CRD may not be installed at all (`mapi-operator check -f`).
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { API_VERSION } from './common.ts';
import { MapiServerSpecSchema, type MapiServer, type MapiServerSpec } from './mapiserver.ts';
import { MailDomainSpecSchema, type MailDomain, type MailDomainSpec } from './maildomain.ts';
import { MailboxSpecSchema, type Mailbox, type MailboxSpec } from './mailbox.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[]; message: string };

function fieldPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown, base: string): ParseResult<T> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return { ok: true, value: r.data };
  const errors = r.error.issues.map((i) => `${fieldPath(base, i.path)}: ${i.message}`);
  return { ok: false, errors, message: errors.join('; ') };
}

export function parseMapiServerSpec(spec: unknown): ParseResult<MapiServerSpec> {
  return parseWith(MapiServerSpecSchema, spec, 'spec') as ParseResult<MapiServerSpec>;
}

export function parseMailDomainSpec(spec: unknown): ParseResult<MailDomainSpec> {
  return parseWith(MailDomainSpecSchema, spec, 'spec') as ParseResult<MailDomainSpec>;
}

export function parseMailboxSpec(spec: unknown): ParseResult<MailboxSpec> {
  return parseWith(MailboxSpecSchema, spec, 'spec') as ParseResult<MailboxSpec>;
}

type Kind = 'MapiServer' | 'MailDomain' | 'Mailbox';

function parseObject<T extends { spec: unknown }>(obj: unknown, kind: Kind, parseSpec: (s: unknown) => ParseResult<T['spec']>): ParseResult<T> {
  const o = (obj ?? {}) as Partial<T> & { metadata?: { name?: string }; apiVersion?: string; kind?: string };
  if (o.kind !== undefined && o.kind !== kind) return fail(`kind: expected ${kind}, got ${o.kind}`);
  if (o.apiVersion !== undefined && o.apiVersion !== API_VERSION) return fail(`apiVersion: must be ${API_VERSION} (got ${o.apiVersion}); v1alpha1 is gone: see the upgrade notes`);
  if (!o.metadata?.name) return fail('metadata.name: required');
  const spec = parseSpec(o.spec);
  if (!spec.ok) return spec;
  // What the schema passes as it is (the apiserver applied the same defaults) is kept as the
  // object it came in, not a copy: the operator keeps a parse per cached object, and at 5,000
  // MailDomains the copies of specs and metadata were ~5 MiB of its heap. Frozen, as a cached
  // object is read-only: code that changed a parsed spec in place would change the cache.
  const value = isDeepStrictEqual(spec.value, o.spec) ? deepFreeze(o.spec as T['spec']) : spec.value;
  const metadata = (o.metadata as { namespace?: string }).namespace !== undefined ? o.metadata : { namespace: 'default', ...o.metadata };
  // The object's own properties as they are, not read: a status the cache keeps packed stays
  // packed in the parse it keeps beside it (src/kube/packed-fields.ts).
  const parsed = Object.defineProperties({}, Object.getOwnPropertyDescriptors(o)) as T;
  const own = { enumerable: true, writable: true, configurable: true };
  Object.defineProperties(parsed, { apiVersion: { ...own, value: API_VERSION }, kind: { ...own, value: kind }, metadata: { ...own, value: metadata }, spec: { ...own, value } });
  return { ok: true, value: parsed };
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const fail = (message: string): { ok: false; errors: string[]; message: string } => ({ ok: false, errors: [message], message });

/** Validates a whole object as read from the apiserver or a file. */
export function parseMapiServer(obj: unknown): ParseResult<MapiServer> {
  return parseObject<MapiServer>(obj, 'MapiServer', parseMapiServerSpec);
}

export function parseMailDomain(obj: unknown): ParseResult<MailDomain> {
  return parseObject<MailDomain>(obj, 'MailDomain', parseMailDomainSpec);
}

export function parseMailbox(obj: unknown): ParseResult<Mailbox> {
  return parseObject<Mailbox>(obj, 'Mailbox', parseMailboxSpec);
}
