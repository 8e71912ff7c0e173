// The operator validates again what the apiserver validated: a stored object may predate
// the current CRD, or the CRD may not be installed at all (`mapi-operator check -f`).
import type { z } from 'zod';
import { MailDomainSpecSchema, type MailDomain, type MailDomainSpec } from './maildomain.ts';
import { MailboxSpecSchema, type MailboxSpec } from './mailbox.ts';

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

export function parseMailDomainSpec(spec: unknown): ParseResult<MailDomainSpec> {
  return parseWith(MailDomainSpecSchema, spec, 'spec') as ParseResult<MailDomainSpec>;
}

export function parseMailboxSpec(spec: unknown): ParseResult<MailboxSpec> {
  return parseWith(MailboxSpecSchema, spec, 'spec') as ParseResult<MailboxSpec>;
}

/** Validates a whole object as read from the apiserver or a file. */
export function parseMailDomain(obj: unknown): ParseResult<MailDomain> {
  const o = (obj ?? {}) as Partial<MailDomain>;
  if (!o.metadata?.name) return { ok: false, errors: ['metadata.name: required'], message: 'metadata.name: required' };
  const spec = parseMailDomainSpec(o.spec);
  if (!spec.ok) return spec;
  return { ok: true, value: { ...(o as MailDomain), spec: spec.value } };
}
