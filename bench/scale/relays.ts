// Counting relays on loopback between the operator's probes and the world (BIND, the front):
// the DNS relay counts queries by name, the TLS relay counts handshakes by SNI name. That is
// how "DNS queries and TLS handshakes per check interval" is measured without touching BIND's
// or the front's code. Both can be told to misbehave for the chaos suite: the DNS relay to
// drop every query (a name server that stopped answering), the TLS relay to accept and never
// answer (a peer that hangs).
import dgram from 'node:dgram';
import net from 'node:net';

export interface Counter {
  total(): number;
  byName(): Map<string, number>;
  reset(): void;
}

function counter(): Counter & { add(name: string): void } {
  let by = new Map<string, number>();
  return {
    add: (name) => by.set(name, (by.get(name) ?? 0) + 1),
    total: () => [...by.values()].reduce((a, b) => a + b, 0),
    byName: () => new Map(by),
    reset: () => { by = new Map(); },
  };
}

/** The question name of a DNS message (RFC 1035 §4.1.2), lower-cased; '' when unreadable. */
export function dnsQuestionName(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && labels.length < 128) {
    const len = msg[i]!;
    if (len === 0 || len > 63) break;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  const qtype = i + 2 < msg.length ? msg.readUInt16BE(i + 1) : 0;
  return `${labels.join('.').toLowerCase()} ${qtype}`;
}

export interface DnsRelay extends Counter {
  /** "127.0.0.1:<port>", for checks.nameservers. */
  nameserver: string;
  /** While true every query is dropped (UDP) or its connection held silent (TCP). */
  setSilent(silent: boolean): void;
  stop(): Promise<void>;
}

/** A UDP and TCP DNS relay to `upstream` ("host:port"), counting questions by name and type. */
export async function startDnsRelay(upstream: string): Promise<DnsRelay> {
  // The UDP port is picked by the kernel; on a busy machine the same TCP port can be in use
  // (an outgoing connection's ephemeral port): pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDnsRelayOnce(upstream);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function startDnsRelayOnce(upstream: string): Promise<DnsRelay> {
  const [uhost, uport] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))];
  const c = counter();
  let silent = false;
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    c.add(dnsQuestionName(msg));
    if (silent) return;
    const out = dgram.createSocket('udp4');
    const timer = setTimeout(() => out.close(), 5_000);
    out.on('message', (answer) => {
      clearTimeout(timer);
      udp.send(answer, rinfo.port, rinfo.address);
      out.close();
    });
    out.on('error', () => { clearTimeout(timer); out.close(); });
    out.send(msg, uport, uhost);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.once('data', (first) => {
      c.add(dnsQuestionName(first.subarray(2)));
      if (silent) return; // held open, never answered
      s.pause();
      const up = net.connect(uport, uhost, () => { up.write(first); s.pipe(up).pipe(s); });
      up.on('error', () => s.destroy());
      s.on('error', () => up.destroy());
      up.on('close', () => { s.unpipe(up); s.resume(); }); // see the TLS relay
    });
    s.setTimeout(30_000, () => s.destroy());
  });
  // The same port for TCP (truncated answers retry over TCP at the same address).
  await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen(port, '127.0.0.1', resolve); })
    .catch((err: unknown) => { udp.close(); throw err; });
  return {
    ...c,
    nameserver: `127.0.0.1:${port}`,
    setSilent: (v) => { silent = v; },
    async stop() {
      for (const s of conns) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}

/** The SNI host name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3); '' when absent. */
export function clientHelloSni(buf: Buffer): string {
  try {
    if (buf[0] !== 0x16 || buf[5] !== 0x01) return '';
    let i = 9 + 2 + 32; // record header 5, handshake header 4, version 2, random 32
    i += 1 + buf[i]!; // session id
    i += 2 + buf.readUInt16BE(i); // cipher suites
    i += 1 + buf[i]!; // compression methods
    const end = i + 2 + buf.readUInt16BE(i);
    i += 2;
    while (i + 4 <= end && i + 4 <= buf.length) {
      const type = buf.readUInt16BE(i);
      const len = buf.readUInt16BE(i + 2);
      if (type === 0) {
        const nameLen = buf.readUInt16BE(i + 7);
        return buf.subarray(i + 9, i + 9 + nameLen).toString('latin1').toLowerCase();
      }
      i += 4 + len;
    }
  } catch {
    // a partial or odd hello: counted without a name
  }
  return '';
}

export interface TlsRelay extends Counter {
  port: number;
  /** Client connections the relay holds now. */
  openConnections(): number;
  /** While true a connection is accepted and never answered (the hanging-peer fault). */
  setHang(hang: boolean): void;
  stop(): Promise<void>;
}

/** A TCP relay to 127.0.0.1:`upstreamPort` counting TLS handshakes (ClientHellos) by SNI. */
export async function startTlsRelay(upstreamPort: number): Promise<TlsRelay> {
  const c = counter();
  let hang = false;
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
    s.on('error', () => s.destroy());
    if (hang) return; // accepted; nothing is ever read or written
    s.once('data', (first) => {
      c.add(clientHelloSni(first));
      s.pause(); // nothing is read until the upstream can take it
      const up = net.connect(upstreamPort, '127.0.0.1', () => { up.write(first); s.pipe(up).pipe(s); });
      up.on('error', () => s.destroy());
      s.on('close', () => up.destroy());
      // The upstream closed first (a front answering "Connection: close"): pipe() then ends
      // the client's side but also unpipes and pauses it, and whatever the client still sends
      // (a TLS close_notify) sat unread, so its FIN was never seen and the descriptor stayed
      // open for good: 20,000 of them at 2,000 hosts. Drain and let the client's close end it.
      up.on('close', () => { s.unpipe(up); s.resume(); });
    });
    // A client that never closes its side.
    s.setTimeout(120_000, () => s.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    ...c,
    port: (server.address() as net.AddressInfo).port,
    setHang: (v) => { hang = v; },
    openConnections: () => conns.size,
    async stop() {
      for (const s of conns) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
