// Reading the kube-apiserver's audit log of a control plane started with
// ControlPlaneOptions.audit: one client's requests by verb and resource, and its writes with
// their bodies. The apiserver counts them itself, so nothing sits between that client and the
// apiserver (a counting proxy made every request of the benchmark's operator wait on one more
// process, on a machine where both legs are CPU-bound).
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** As the apiserver's metrics and the API proxy of the chaos suite name them. */
export type RequestVerb = 'GET' | 'LIST' | 'WATCH' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface AuditedWrite { at: string; verb: RequestVerb; resource: string; namespace?: string; name?: string; body: string }

interface AuditEvent {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp?: string;
  requestObject?: unknown;
}

const VERBS: Record<string, RequestVerb> = {
  get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE',
};
const WRITES = new Set<RequestVerb>(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Whether an auditCounts key (`VERB resource`) is a write. */
export const isWriteKey = (key: string): boolean => WRITES.has(key.split(' ')[0] as RequestVerb);
const BODY_MAX = 4096;

export interface AuditWindow {
  user: string;
  /** Requests received at or after this time (ms since the epoch). */
  from?: number;
  /** Requests received before this time. */
  to?: number;
}

/** Each request of `user` in the window once: a watch when it started, anything else when it
 *  completed (the policy omits RequestReceived). */
async function scan(logPath: string, w: AuditWindow, visit: (e: AuditEvent, verb: RequestVerb, key: string) => void): Promise<void> {
  if (!existsSync(logPath)) return;
  const lines = createInterface({ input: createReadStream(logPath, { encoding: 'utf8' }), crlfDelay: Infinity });
  const needle = `"username":${JSON.stringify(w.user)}`;
  for await (const line of lines) {
    if (!line.includes(needle)) continue; // most lines are someone else's: skip the parse
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // the line being written when the file was read
    }
    if (e.user?.username !== w.user) continue;
    const verb = VERBS[e.verb ?? ''];
    if (!verb) continue;
    if (e.stage !== (verb === 'WATCH' ? 'ResponseStarted' : 'ResponseComplete')) continue;
    const at = Date.parse(e.requestReceivedTimestamp ?? '');
    if ((w.from !== undefined && at < w.from) || (w.to !== undefined && at >= w.to)) continue;
    const ref = e.objectRef ?? {};
    visit(e, verb, `${verb} ${ref.resource ?? '?'}${ref.subresource ? `/${ref.subresource}` : ''}`);
  }
}

/** The user's requests in the window by `VERB resource[/subresource]`. */
export async function auditCounts(logPath: string, w: AuditWindow): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await scan(logPath, w, (_e, _verb, key) => counts.set(key, (counts.get(key) ?? 0) + 1));
  return counts;
}

/** The user's first `max` writes in the window, bodies cut at 4 KiB: what changed, not only how often. */
export async function auditWrites(logPath: string, w: AuditWindow, max: number): Promise<AuditedWrite[]> {
  const writes: AuditedWrite[] = [];
  await scan(logPath, w, (e, verb, key) => {
    if (!WRITES.has(verb) || writes.length >= max) return;
    const ref = e.objectRef ?? {};
    writes.push({
      at: e.requestReceivedTimestamp ?? '', verb, resource: key.slice(verb.length + 1),
      ...(ref.namespace ? { namespace: ref.namespace } : {}), ...(ref.name ? { name: ref.name } : {}),
      body: JSON.stringify(e.requestObject ?? null).slice(0, BODY_MAX),
    });
  });
  return writes;
}

/** The batched audit backend flushes every second: wait this long before reading a window. */
export const AUDIT_FLUSH_MS = 3_000;
