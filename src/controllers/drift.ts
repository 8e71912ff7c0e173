// Skipping applies that would change nothing. A server-side apply of an unchanged object is
// still a PATCH request; at a few hundred MailDomains and a resync every few minutes that is
// steady load for nothing. An object is re-applied when what we want changed (the hash of the
// desired object, kept in an annotation) or when a field we set no longer holds our value
// (someone edited it). Fields others added are not our business and do not count.
import { createHash } from 'node:crypto';
import { stableJson } from '../api/stable-json.ts';

export const APPLIED_HASH_ANNOTATION = 'mapi-operator.io/applied-hash';

type Json = unknown;

// The hashed copy of a desired object, kept while the object lives: a builder that hands out
// the same object again (the access list while no Mailbox changed: megabytes of JSON at
// 100,000 Mailboxes) has it hashed once. Desired objects are never changed once built.
const hashed = new WeakMap<object, object>();

export function withAppliedHash<T extends { metadata?: { annotations?: Record<string, string> } }>(desired: T): T {
  const held = hashed.get(desired);
  if (held) return held as T;
  const hash = createHash('sha256').update(stableJson(desired)).digest('hex').slice(0, 20);
  const out = { ...desired, metadata: { ...desired.metadata, annotations: { ...(desired.metadata?.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hash } } };
  hashed.set(desired, out);
  return out;
}

/** Every value in `want` is present with the same value in `have` (arrays: same length, element-wise). */
export function containsDesired(want: Json, have: Json): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => containsDesired(w, have[i]));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    const h = have as Record<string, Json>;
    return Object.entries(want as Record<string, Json>).every(([k, w]) => {
      // An empty map or list we send may come back absent: the apiserver drops empty values.
      if (h[k] === undefined && ((Array.isArray(w) && w.length === 0) || (w !== null && typeof w === 'object' && Object.keys(w).length === 0))) return true;
      return containsDesired(w, h[k]);
    });
  }
  return want === have;
}

/** `desired` must already carry its applied-hash annotation (withAppliedHash). */
export function needsApply(desired: { metadata?: { annotations?: Record<string, string> } }, live: Json | undefined): boolean {
  if (live === undefined) return true;
  const liveHash = (live as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  if (liveHash !== desired.metadata?.annotations?.[APPLIED_HASH_ANNOTATION]) return true;
  return !containsDesired(desired, live);
}
