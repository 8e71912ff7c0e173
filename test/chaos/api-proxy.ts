// A small HTTP proxy on loopback in front of the kube-apiserver, for the operator alone.
// Two jobs:
//  - count the operator's own requests by verb and resource (the apiserver's
//    apiserver_request_total mixes every client: cert-manager, the controller manager, kwok);
//  - inject faults: answer some requests 429 (with Retry-After) or 409 itself, as a busy or
//    racing apiserver would, without the apiserver ever seeing them.
// The operator talks plain HTTP to the proxy (a kubeconfig with no credentials); the proxy
// talks TLS to the apiserver with the admin kubeconfig's client certificate. Streaming
// responses (watches) are piped through unchanged.
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** GET/LIST/WATCH/CREATE/PATCH/UPDATE/DELETE, as the apiserver's metrics name them. */
export type Verb = 'GET' | 'LIST' | 'WATCH' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ProxiedRequest {
  verb: Verb;
  /** Plural resource, with `/status` when it is the status subresource. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** An answer the proxy gives instead of forwarding, or undefined to forward. */
export type Fault = (req: ProxiedRequest) => { status: 409 | 410 | 429 | 500 | 503; retryAfterSeconds?: number } | undefined;

export interface ApiProxy {
  url: string;
  /** A kubeconfig pointing at the proxy (plain HTTP, no credentials). */
  kubeconfigPath: string;
  /** Forwarded requests by `VERB resource`. */
  counts(): Map<string, number>;
  /** Faults answered by `status VERB resource`. */
  injected(): Map<string, number>;
  setFault(fault: Fault | undefined): void;
  /** Keeps the next `max` forwarded writes (their bodies cut at 4 KiB) until `stop` is called:
   *  what an idle operator changed, not only how often. */
  recordWrites(max: number): { stop(): RecordedWrite[] };
  /** Cuts every open connection (watches included) without stopping the proxy. */
  dropConnections(): void;
  stop(): Promise<void>;
}

export interface RecordedWrite { at: string; verb: Verb; resource: string; namespace?: string; name?: string; body: string }

const RECORDED_BODY_MAX = 4096;
const WRITE_VERBS = new Set<Verb>(['POST', 'PATCH', 'PUT', 'DELETE']);
export const isWrite = (key: string): boolean => WRITE_VERBS.has(key.split(' ')[0] as Verb);

/** `/api/v1/namespaces/ns/pods/name/status`, `/apis/g/v/...` → resource, namespace, name. */
export function classify(method: string, url: URL): ProxiedRequest {
  const parts = url.pathname.split('/').filter(Boolean);
  // Strip /api/v1 or /apis/<group>/<version>.
  let rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : parts;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = (rest[0] ?? url.pathname) + (rest[2] ? `/${rest[2]}` : '');
  const name = rest[1];
  const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const verb: Verb = method === 'GET' ? (watch ? 'WATCH' : name === undefined ? 'LIST' : 'GET') : (method as Verb);
  return { verb, resource, namespace, name };
}

export async function startApiProxy(opts: { kubeconfigPath: string; fault?: Fault }): Promise<ApiProxy> {
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const upstream = new URL(kc.getCurrentCluster()!.server);
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256, ca: tls.ca, cert: tls.cert, key: tls.key });
  let fault = opts.fault;
  const counts = new Map<string, number>();
  const injected = new Map<string, number>();
  const sockets = new Set<Socket>();
  const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  let recording: { max: number; writes: RecordedWrite[] } | undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const what = classify(req.method ?? 'GET', url);
    const key = `${what.verb} ${what.resource}`;
    const answer = fault?.(what);
    if (answer) {
      bump(injected, `${answer.status} ${key}`);
      req.resume();
      if (answer.status === 410 && what.verb === 'WATCH') {
        // What the apiserver does when the resourceVersion was compacted away: the watch is
        // accepted (200), then one ERROR event carrying 410 Expired, then the end.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'injected by the chaos proxy: too old resource version' } }) + '\n');
        return;
      }
      const reason = answer.status === 429 ? 'TooManyRequests' : answer.status === 409 ? 'Conflict' : answer.status === 410 ? 'Expired' : 'InternalError';
      const body = JSON.stringify({
        kind: 'Status', apiVersion: 'v1', status: 'Failure', code: answer.status, reason,
        message: `injected by the chaos proxy: ${reason}`,
        ...(answer.retryAfterSeconds ? { details: { retryAfterSeconds: answer.retryAfterSeconds } } : {}),
      });
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...(answer.retryAfterSeconds ? { 'Retry-After': String(answer.retryAfterSeconds) } : {}) });
      res.end(body);
      return;
    }
    bump(counts, key);
    const headers = { ...req.headers, host: upstream.host };
    // Request bodies are small JSON: buffer them so a request that met a kept-alive socket
    // the apiserver had just closed (ECONNRESET before any answer) can be sent once more,
    // as client-go does; only faults we inject should reach the operator.
    const body: Buffer[] = [];
    req.on('data', (b: Buffer) => body.push(b));
    req.on('end', () => {
      if (recording && recording.writes.length < recording.max && WRITE_VERBS.has(what.verb)) {
        recording.writes.push({
          at: new Date().toISOString(), verb: what.verb, resource: what.resource, namespace: what.namespace, name: what.name,
          body: Buffer.concat(body).toString('utf8').slice(0, RECORDED_BODY_MAX),
        });
      }
      forward(1);
    });
    let closed = false;
    res.on('close', () => { closed = true; });
    const forward = (attempt: number): void => {
      if (closed) return;
      const up = https.request({ protocol: 'https:', hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        // A watch answers its headers at once and its body much later: send them now.
        res.flushHeaders();
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      });
      up.on('error', () => {
        if (!res.headersSent && attempt < 3 && !closed) {
          setTimeout(() => forward(attempt + 1), 100 * attempt);
          return;
        }
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.destroy();
      });
      res.on('close', () => up.destroy());
      up.end(Buffer.concat(body));
    };
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mapi-api-proxy-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, [
    'apiVersion: v1', 'kind: Config',
    // client-node refuses http:// unless TLS verification is off (there is no TLS to verify).
    'clusters:', '- name: proxy', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: proxy', '  user: {}',
    'contexts:', '- name: proxy', '  context:', '    cluster: proxy', '    user: proxy',
    'current-context: proxy', '',
  ].join('\n'));
  return {
    url, kubeconfigPath,
    counts: () => new Map(counts),
    injected: () => new Map(injected),
    setFault: (f) => { fault = f; },
    recordWrites(max) {
      const r = { max, writes: [] as RecordedWrite[] };
      recording = r;
      return { stop: () => { if (recording === r) recording = undefined; return r.writes; } };
    },
    dropConnections: () => { for (const s of sockets) s.destroy(); },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** after − before, keys with a positive difference only. */
export function countsSince(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, n] of after) if (n - (before.get(k) ?? 0) > 0) out.set(k, n - (before.get(k) ?? 0));
  return out;
}
