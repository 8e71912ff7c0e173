// Real TLS endpoints on loopback for the check tests. Each scenario gets its own 127.0.0.x
// address, all on one shared port, so one `--https-port` reaches every host and the test DNS
// server decides which scenario a host name lands on.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface ServerCertificate {
  keyPem: string;
  /** Sent to clients as is: leaf alone, or leaf + intermediates. */
  chainPem: string;
}

export interface Fixture {
  address: string;
  port: number;
  close(): Promise<void>;
}

/** A TCP port free on every given loopback address (each server then listens on address:port). */
export async function pickSharedPort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await Promise.all(addresses.map((a) => tcpFree(a, port)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${addresses.join(', ')}`);
}

function tcpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

function listen(server: net.Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Closes a server and every connection it still holds (silent and slow peers keep theirs open). */
function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () => new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}

function tracked(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

export interface HttpsFixtureOptions {
  address: string;
  port?: number;
  certificate: ServerCertificate;
  /** Default: 200 "ok" to everything. */
  handler?: http.RequestListener;
  /** Hold each connection this long before the TLS handshake starts (a slow peer). */
  handshakeDelayMs?: number;
}

export async function startHttpsFixture(options: HttpsFixtureOptions): Promise<Fixture> {
  const handler: http.RequestListener = options.handler ?? ((_req, res) => res.end('ok'));
  const server = https.createServer({ key: options.certificate.keyPem, cert: options.certificate.chainPem }, handler);
  if (!options.handshakeDelayMs) {
    const sockets = tracked(server);
    const port = await listen(server, options.address, options.port ?? 0);
    return { address: options.address, port, close: closer(server, sockets) };
  }
  // A plain TCP listener that hands each connection to the TLS server only after the delay.
  const delay = options.handshakeDelayMs;
  const front = net.createServer((socket) => {
    const timer = setTimeout(() => server.emit('connection', socket), delay);
    socket.once('close', () => clearTimeout(timer));
  });
  const sockets = tracked(front);
  const port = await listen(front, options.address, options.port ?? 0);
  return { address: options.address, port, close: closer(front, sockets) };
}

/** Accepts TCP connections and never sends a byte: handshakes and requests must time out. */
export async function startSilentPeer(address: string, port = 0): Promise<Fixture> {
  const server = net.createServer(() => { /* silent on purpose */ });
  const sockets = tracked(server);
  const bound = await listen(server, address, port);
  return { address, port: bound, close: closer(server, sockets) };
}

/** A plain HTTP listener (the HTTP redirect method on port 80), answering with `handler`. */
export async function startHttpFixture(address: string, port: number, handler: http.RequestListener): Promise<Fixture> {
  const server = http.createServer(handler);
  const sockets = tracked(server);
  const bound = await listen(server, address, port);
  return { address, port: bound, close: closer(server, sockets) };
}
