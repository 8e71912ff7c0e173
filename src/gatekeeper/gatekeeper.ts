// The gatekeeper process: the proxy on the port the Service targets, the access list reader, and
// /metrics, /healthz, /readyz on a port of their own. On SIGTERM (see drain) it stops
// accepting, turns not-ready, tells keep-alive clients to reconnect, and waits for the requests
// in flight — a NotificationWait lasts up to 5 minutes — up to the drain time-out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AccessReader } from './access-reader.ts';
import { GatekeeperMetrics } from './metrics.ts';
import { GatekeeperProxy } from './proxy.ts';

export interface GatekeeperOptions {
  listenHost?: string;
  listenPort: number;
  upstreamHost?: string;
  upstreamPort: number;
  accessDir: string;
  metricsHost?: string;
  metricsPort: number;
  drainTimeoutMs: number;
  logger: Logger;
  /** Bound on a request's or an answer's header block (default 16 KiB, Node's). */
  maxHeaderSize?: number;
  accessPollMs?: number;
  upstreamIdleMs?: number;
  /** Process metrics (CPU, RSS) in /metrics; tests running several gatekeepers turn it off. */
  processMetrics?: boolean;
}

export interface Gatekeeper {
  port: number;
  metricsPort: number;
  proxy: GatekeeperProxy;
  reader: AccessReader;
  metrics: GatekeeperMetrics;
  /** Stops accepting and waits for requests in flight (at most drainTimeoutMs); idempotent. */
  drain(): Promise<void>;
}

async function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function startGatekeeper(opts: GatekeeperOptions): Promise<Gatekeeper> {
  const { logger } = opts;
  const metrics = new GatekeeperMetrics(opts.processMetrics ?? true);
  // The proxy reads the list through the reader, which re-decides the proxy's requests in
  // flight on every change.
  const p: GatekeeperProxy = new GatekeeperProxy({
    upstreamHost: opts.upstreamHost ?? '127.0.0.1',
    upstreamPort: opts.upstreamPort,
    access: () => reader.list,
    metrics,
    logger,
    ...(opts.maxHeaderSize ? { maxHeaderSize: opts.maxHeaderSize } : {}),
    ...(opts.upstreamIdleMs ? { upstreamIdleMs: opts.upstreamIdleMs } : {}),
  });
  const reader: AccessReader = new AccessReader({
    dir: opts.accessDir,
    logger,
    ...(opts.accessPollMs ? { pollMs: opts.accessPollMs } : {}),
    onReload: (result) => metrics.accessListReloads.inc({ result }),
    onChange: (list) => {
      metrics.accessListLoaded.set(1);
      logger.info({ server: list.server, domains: list.domains.size, shards: list.shards.length }, 'access list loaded');
      p.reevaluate();
    },
  });
  await reader.start();

  const server = http.createServer({
    ...(opts.maxHeaderSize ? { maxHeaderSize: opts.maxHeaderSize } : {}),
    // No whole-request deadline: an upload may be slow and a NotificationWait lasts 5 minutes.
    requestTimeout: 0,
    headersTimeout: 30_000,
    // Longer than the ingress's upstream keep-alive (nginx: 60 s), so the ingress closes first
    // and never sends on a connection the gatekeeper is closing.
    keepAliveTimeout: 75_000,
    noDelay: true,
  }, p.handle);
  // An idle connection (no byte either way) for longer than a long poll's keep-alive period.
  server.setTimeout(opts.upstreamIdleMs ?? 330_000, (socket) => socket.destroy());

  let draining = false;
  const metricsServer = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const ok = !draining;
      return void res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'draining\n');
    }
    if (path === '/metrics') {
      const body = await metrics.registry.metrics();
      return void res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(body);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  });
  metricsServer.requestTimeout = 10_000;
  metricsServer.headersTimeout = 5_000;

  const port = await listen(server, opts.listenPort, opts.listenHost);
  const metricsPort = await listen(metricsServer, opts.metricsPort, opts.metricsHost);
  logger.info({ port, metricsPort, upstream: `${opts.upstreamHost ?? '127.0.0.1'}:${opts.upstreamPort}`, accessDir: opts.accessDir }, 'gatekeeper listening');

  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => {
    drained ??= (async () => {
      draining = true;
      p.drain();
      logger.info({ inFlight: p.inFlight, timeoutMs: opts.drainTimeoutMs }, 'draining: no new connections, waiting for requests in flight');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + opts.drainTimeoutMs;
      // Keep-alive connections that finish their request become idle: close them as they do.
      while (p.inFlight > 0 && Date.now() < deadline) {
        server.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 100));
      }
      if (p.inFlight > 0) logger.warn({ inFlight: p.inFlight }, 'drain time-out: ending the requests still in flight');
      server.closeAllConnections();
      await closed;
      reader.stop();
      p.agent.destroy();
      await new Promise<void>((resolve) => {
        metricsServer.close(() => resolve());
        metricsServer.closeAllConnections();
      });
      logger.info('gatekeeper stopped');
    })();
    return drained;
  };
  return { port, metricsPort, proxy: p, reader, metrics, drain };
}
