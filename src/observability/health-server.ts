// /healthz, /readyz and /metrics. Metrics and health may listen on separate addresses
// (--metrics-addr, --health-addr), like controller-runtime's manager; "0" disables one.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A readiness check: resolves true when ready; a string return is a not-ready reason. */
export type ReadyCheck = () => boolean | string | Promise<boolean | string>;

export class HealthChecks {
  readonly #checks = new Map<string, ReadyCheck>();

  add(name: string, check: ReadyCheck): void {
    this.#checks.set(name, check);
  }

  /** Runs every check; failing ones are listed by name with their reason. */
  async run(): Promise<{ ok: boolean; failures: string[] }> {
    const failures: string[] = [];
    for (const [name, check] of this.#checks) {
      try {
        const r = await check();
        if (r !== true) failures.push(`${name}: ${typeof r === 'string' ? r : 'not ready'}`);
      } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { ok: failures.length === 0, failures };
  }
}

/** "host:port", ":port" (all interfaces) or "0" (disabled). */
export function parseAddress(addr: string): { host: string | undefined; port: number } | undefined {
  if (addr === '0' || addr === '') return undefined;
  const i = addr.lastIndexOf(':');
  if (i < 0) throw new Error(`address "${addr}" is not host:port or :port`);
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`address "${addr}": bad port`);
  return { host, port };
}

export interface ServingOptions {
  metricsAddr: string;
  healthAddr: string;
  registry: Registry;
  health: HealthChecks;
}

export interface Serving {
  /** Base URLs actually bound (port 0 resolved), for tests and logs. */
  metricsUrl: string | undefined;
  healthUrl: string | undefined;
  close(): Promise<void>;
}

export async function startServing(opts: ServingOptions): Promise<Serving> {
  const metricsAt = parseAddress(opts.metricsAddr);
  const healthAt = parseAddress(opts.healthAddr);
  const sameAddress = metricsAt && healthAt && metricsAt.port !== 0 && metricsAt.port === healthAt.port && metricsAt.host === healthAt.host;
  const handle = (serveMetrics: boolean, serveHealth: boolean) => async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (serveHealth && (path === '/healthz' || path === '/livez')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (serveHealth && path === '/readyz') {
        const r = await opts.health.run();
        res.writeHead(r.ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(r.ok ? 'ok\n' : `${r.failures.join('\n')}\n`);
      } else if (serveMetrics && path === '/metrics') {
        const body = await opts.registry.metrics();
        res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(body);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  const servers: http.Server[] = [];
  const listen = async (at: { host: string | undefined; port: number }, m: boolean, h: boolean): Promise<string> => {
    const server = http.createServer(handle(m, h));
    // Scrapes and probes are short; a stuck client must not hold a socket forever.
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}`;
  };
  let metricsUrl: string | undefined;
  let healthUrl: string | undefined;
  try {
    if (sameAddress) {
      metricsUrl = healthUrl = await listen(metricsAt, true, true);
    } else {
      if (metricsAt) metricsUrl = await listen(metricsAt, true, false);
      if (healthAt) healthUrl = await listen(healthAt, false, true);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  return {
    metricsUrl,
    healthUrl,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
    },
  };
}
