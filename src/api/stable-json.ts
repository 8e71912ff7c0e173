// JSON with sorted keys, so equal values always serialise (and hash) alike: template hashes,
// applied-object hashes, check-target fingerprints and probe-cache keys all rest on it.
import { createHash } from 'node:crypto';

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A fixed-size fingerprint of a value (SHA-256 of its stableJson, 44 characters), for state
 * kept per object to tell "changed" from "the same again": the JSON itself, kept per
 * MailDomain, was 1–3 KB of heap each (a check target, a gate standing), ~10 MiB at 5,000.
 */
export function stableDigest(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('base64');
}

/** 128 bits of SHA-256 in base64 (24 characters): for keys and fingerprints held per check or
 *  per object by the thousand, where the whole digest's length is memory for nothing. */
export function shortDigest(text: string): string {
  return createHash('sha256').update(text).digest().subarray(0, 16).toString('base64');
}
