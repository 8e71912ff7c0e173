// Shared parts of the gatekeeper integration tests: an access list directory laid out the way
// the kubelet writes a projected ConfigMap volume (timestamped directory, `..data` symlink
// swapped atomically, one symlink per key), the framing MAPI server, and a gatekeeper in front.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, readlinkSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { fnv1a32 } from '../../../src/gatekeeper/access-list.ts';
import { startGatekeeper, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { startFramingServer, type FramingServer } from '../../../src/dev/mapi-framing-server.ts';

export interface AccessContent {
  domains: Record<string, boolean>;
  mailboxes: Record<string, boolean>;
  shards?: number;
  format?: string;
}

/** The files the operator would publish for this content. */
export function accessFiles(content: AccessContent): Record<string, string> {
  const count = content.shards ?? 1;
  const shards: Record<string, boolean>[] = Array.from({ length: count }, () => ({}));
  for (const [address, enabled] of Object.entries(content.mailboxes)) shards[fnv1a32(address.toLowerCase()) % count]![address.toLowerCase()] = enabled;
  const files: Record<string, string> = {
    'access.json': JSON.stringify({
      format: content.format ?? 'mapi-operator.io/access/v1',
      server: 'bluemind',
      domains: Object.fromEntries(Object.entries(content.domains).map(([d, on]) => [d, { mapiEnabled: on, mailDomain: d.replace(/\./g, '-') }])),
      shards: { count, files: shards.map((_, i) => `mailboxes-${i}.json`) },
    }),
  };
  shards.forEach((s, i) => { files[`mailboxes-${i}.json`] = JSON.stringify(s); });
  return files;
}

/** A directory updated like the kubelet's AtomicWriter: new data dir, then a `..data` rename. */
export class KubeletDir {
  readonly dir: string;
  #generation = 0;

  /** In `dir` (which must exist when write is called), or a new temporary directory. */
  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'gk-access-'));
  }

  write(files: Record<string, string>): void {
    const name = `..2026_12_02_00_00_00.${process.pid}${this.#generation++}`;
    const data = join(this.dir, name);
    mkdirSync(data);
    for (const [key, text] of Object.entries(files)) writeFileSync(join(data, key), text);
    const old = existsSync(join(this.dir, '..data')) ? readlinkSync(join(this.dir, '..data')) : undefined;
    symlinkSync(name, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const key of Object.keys(files)) {
      if (!existsSync(join(this.dir, key))) symlinkSync(join('..data', key), join(this.dir, key));
    }
    if (old) rmSync(join(this.dir, old), { recursive: true, force: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const PASSWORD = 'secret';
export const basic = (user: string) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}`;

export interface Rig {
  server: FramingServer;
  gatekeeper: Gatekeeper;
  access: KubeletDir;
  url: string;
  close(): Promise<void>;
}

export async function startRig(users: string[], content: AccessContent, opts: { drainTimeoutMs?: number; accessPollMs?: number } = {}): Promise<Rig> {
  const server = await startFramingServer({ users: Object.fromEntries(users.map((u) => [u, PASSWORD])), pendingMs: 200 });
  const access = new KubeletDir();
  access.write(accessFiles(content));
  const gatekeeper = await startGatekeeper({
    listenHost: '127.0.0.1', listenPort: 0, upstreamPort: server.port, accessDir: access.dir,
    metricsHost: '127.0.0.1', metricsPort: 0, drainTimeoutMs: opts.drainTimeoutMs ?? 5000,
    logger: pino({ level: 'silent' }), processMetrics: false, accessPollMs: opts.accessPollMs ?? 500,
  });
  return {
    server, gatekeeper, access, url: `http://127.0.0.1:${gatekeeper.port}`,
    close: async () => {
      await gatekeeper.drain();
      await server.close();
      access.remove();
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request, whole answer; every call is bounded by a time-out. */
export function request(url: string, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string; agent?: http.Agent }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${opts.path}`, { method: opts.method ?? 'POST', headers: opts.headers ?? {}, agent: opts.agent ?? false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${opts.path} in 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function poxRequest(address: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`;
}

/** Autodiscover through `url` as Outlook asks (authenticated, MAPI/HTTP capable). */
export function autodiscover(url: string, address: string, user = address): Promise<Answer> {
  return request(url, {
    path: '/autodiscover/autodiscover.xml',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', 'X-MapiHttpCapability': '1', 'X-AnchorMailbox': address, Authorization: basic(user) },
    body: poxRequest(address),
  });
}

export function mapiHeaders(requestType: string, user: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'Content-Type': 'application/mapi-http',
    'X-RequestType': requestType,
    'X-RequestId': '{E2EA4C8A-6C5F-4E5F-8B6A-1F2D3C4B5A69}:1',
    'X-ClientInfo': '{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1',
    'X-ClientApplication': 'Outlook/16.0.17928.20114',
    Authorization: basic(user),
    'Content-Length': '0',
    ...extra,
  };
}

/** Waits until `check` holds, polling; fails with `what` after `ms` (a guard, not a measure). */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}
