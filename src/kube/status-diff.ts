// Decides whether a status write is needed. An unchanged world must cost no API writes
// (DESIGN: "rows change only when a result changes"), and a condition whose status did not
// change keeps its lastTransitionTime, so a freshly computed timestamp alone is no change.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown' | string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
  [field: string]: unknown;
}

/** Deep equality for JSON values; `undefined` fields count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function isConditionList(v: unknown): v is Condition[] {
  return Array.isArray(v) && v.every((c) => c && typeof c === 'object' && typeof (c as Condition).type === 'string' && 'status' in c);
}

/**
 * Copies lastTransitionTime from `current` into `desired` wherever a condition (any list of
 * {type, status} objects, at any depth: `conditions`, check rows) kept its status, so the
 * time records when the status last *changed*. Returns a new object; inputs are not touched.
 */
export function carryTransitionTimes<T>(current: unknown, desired: T): T {
  if (isConditionList(desired)) {
    const before = isConditionList(current) ? current : [];
    return desired.map((c) => {
      const old = before.find((o) => o.type === c.type);
      if (old && old.status === c.status && old.lastTransitionTime !== undefined) {
        return { ...c, lastTransitionTime: old.lastTransitionTime };
      }
      return c;
    }) as T;
  }
  if (Array.isArray(desired)) {
    return desired.map((v, i) => carryTransitionTimes(Array.isArray(current) ? current[i] : undefined, v)) as T;
  }
  if (desired && typeof desired === 'object') {
    const cur = current && typeof current === 'object' ? (current as Record<string, unknown>) : {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(desired)) out[k] = carryTransitionTimes(cur[k], v);
    return out as T;
  }
  return desired;
}

/**
 * True when writing `desired` would change the stored `current` status. Differences only in
 * the lastTransitionTime of conditions whose status stayed the same do not count.
 */
export function statusChanged(current: unknown, desired: unknown): boolean {
  return !jsonEqual(current ?? {}, carryTransitionTimes(current, desired ?? {}));
}
