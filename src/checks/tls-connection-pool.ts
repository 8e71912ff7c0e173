// The TLS connections the checks keep between probes: the HTTPS probes of a host reuse the
// connection its tls/ handshake (or the probe before) left open, for a moment, so a host costs
// one TLS connection per check interval instead of one per probe.
import type net from 'node:net';
import type tls from 'node:tls';

/** An established TLS connection: the TLS socket and the TCP socket under it. */
export interface TlsConnection {
  socket: tls.TLSSocket;
  raw: net.Socket;
}

/** How long a connection waits for the next probe of its host: well under the keep-alive time
 *  of servers (usually 5 s or more; Node's default is 5 s), so the server rarely closes first. */
const POOL_IDLE_MS = 2_000;
/** Idle connections kept at most, all hosts together (memory and descriptors stay bounded). */
const POOL_MAX_IDLE = 256;
/** How long a probe waits for the connection another probe of the same host is using (or still
 *  dialling) before it dials its own; at most the connect time-out. */
export const POOL_WAIT_MS = 2_000;

interface IdleConnection {
  connection: TlsConnection;
  timer: NodeJS.Timeout;
  drop: () => void;
}

interface Waiter {
  timer: NodeJS.Timeout;
  resolve: (connection: TlsConnection | null) => void;
}

/** A probe's hold on a key, ended by release() (the connection is fit for another request) or
 *  done() (there is none to give back); whichever comes first, once. */
export interface Lease {
  release(connection: TlsConnection): void;
  done(): void;
}

/**
 * The TLS connections of one IO between probes, by address|port|SNI name: at most one idle per
 * key, for POOL_IDLE_MS, unref'd (an idle connection never keeps the process alive), destroyed
 * at once when it closes, errors, ends or receives a byte nobody asked for.
 *
 * A probe holds a lease on its key from acquire() (or claim()) until it releases the connection
 * or is done without one (never dialled, or destroyed). While a key is leased,
 * the next probe of that key waits for its connection (at most POOL_WAIT_MS) instead of dialling
 * a second one: the probes of a host are issued together (the tls/ handshake and the http/ POSTs
 * run side by side), and this is what makes them share one connection.
 */
export class TlsConnectionPool {
  readonly #idle = new Map<string, IdleConnection>();
  readonly #leases = new Map<string, number>();
  readonly #waiting = new Map<string, Waiter[]>();

  /** A connection of this key that is open (idle, or handed over by the lease holder when it is
   *  done), or null: then the caller dials one. Either way the caller holds the lease. */
  async acquire(key: string, waitMs: number): Promise<{ lease: Lease; connection: TlsConnection | null }> {
    const idle = this.#take(key);
    if (idle || (this.#leases.get(key) ?? 0) === 0 || waitMs <= 0) return { lease: this.claim(key), connection: idle };
    const connection = await new Promise<TlsConnection | null>((resolve) => {
      const waiters = this.#waiting.get(key) ?? [];
      this.#waiting.set(key, waiters);
      const waiter: Waiter = {
        // Waited long enough: dial a connection of its own.
        timer: setTimeout(() => {
          this.#unwait(key, waiter);
          this.#lease(key);
          resolve(null);
        }, waitMs),
        resolve,
      };
      waiters.push(waiter);
    });
    return { lease: this.#leaseOf(key), connection };
  }

  /** A lease without looking for a connection: the tls/ handshake always dials its own, and the
   *  probes arriving meanwhile wait for it. */
  claim(key: string): Lease {
    this.#lease(key);
    return this.#leaseOf(key);
  }

  /** The lease object of a lease already counted: ends it once, whatever its holder calls. */
  #leaseOf(key: string): Lease {
    let ended = false;
    return {
      release: (connection) => {
        if (ended) return;
        ended = true;
        this.#release(key, connection);
      },
      done: () => {
        if (ended) return;
        ended = true;
        this.#done(key);
      },
    };
  }

  /** The lease ends with a connection fit for another request: to the next waiter, else idle. */
  #release(key: string, connection: TlsConnection): void {
    if (!usable(connection)) {
      destroyConnection(connection);
      this.#done(key);
      return;
    }
    const waiter = this.#nextWaiter(key);
    if (waiter) {
      // The lease passes on with the connection.
      waiter.resolve(connection);
      return;
    }
    this.#unlease(key);
    this.#park(key, connection);
  }

  /** The lease ends without a connection to give back: the next waiter dials its own. */
  #done(key: string): void {
    const waiter = this.#nextWaiter(key);
    if (waiter) waiter.resolve(null);
    else this.#unlease(key);
  }

  #lease(key: string): void {
    this.#leases.set(key, (this.#leases.get(key) ?? 0) + 1);
  }

  #unlease(key: string): void {
    const n = (this.#leases.get(key) ?? 0) - 1;
    if (n > 0) this.#leases.set(key, n);
    else this.#leases.delete(key);
  }

  #nextWaiter(key: string): Waiter | undefined {
    const waiters = this.#waiting.get(key);
    const waiter = waiters?.shift();
    if (waiters?.length === 0) this.#waiting.delete(key);
    if (waiter) clearTimeout(waiter.timer);
    return waiter;
  }

  #unwait(key: string, waiter: Waiter): void {
    const waiters = this.#waiting.get(key);
    if (!waiters) return;
    const index = waiters.indexOf(waiter);
    if (index >= 0) waiters.splice(index, 1);
    if (waiters.length === 0) this.#waiting.delete(key);
  }

  #park(key: string, connection: TlsConnection): void {
    const previous = this.#idle.get(key);
    if (previous) {
      previous.drop();
      destroyConnection(previous.connection);
    }
    while (this.#idle.size >= POOL_MAX_IDLE) {
      const [oldestKey, oldest] = this.#idle.entries().next().value as [string, IdleConnection];
      oldest.drop();
      this.#idle.delete(oldestKey);
      destroyConnection(oldest.connection);
    }
    const { socket, raw } = connection;
    const discard = () => {
      if (this.#idle.get(key)?.connection !== connection) return;
      entry.drop();
      this.#idle.delete(key);
      destroyConnection(connection);
    };
    // Nothing was asked: a byte now is the server's business, not an answer to a request.
    socket.on('data', discard);
    socket.once('end', discard);
    socket.once('close', discard);
    const entry: IdleConnection = {
      connection,
      timer: setTimeout(discard, POOL_IDLE_MS).unref(),
      drop: () => {
        clearTimeout(entry.timer);
        socket.off('data', discard);
        socket.off('end', discard);
        socket.off('close', discard);
      },
    };
    this.#idle.set(key, entry);
    socket.unref();
    raw.unref();
  }

  #take(key: string): TlsConnection | null {
    const entry = this.#idle.get(key);
    if (!entry) return null;
    entry.drop();
    this.#idle.delete(key);
    if (!usable(entry.connection)) {
      destroyConnection(entry.connection);
      return null;
    }
    entry.connection.socket.ref();
    entry.connection.raw.ref();
    return entry.connection;
  }
}

function usable({ socket }: TlsConnection): boolean {
  return !socket.destroyed && socket.readable && socket.writable && socket.readableLength === 0
    && (socket.alpnProtocol === false || socket.alpnProtocol === 'http/1.1');
}

export function destroyConnection({ socket, raw }: TlsConnection): void {
  socket.destroy();
  raw.destroy();
}

export function poolKey(address: string, port: number, servername: string): string {
  return `${address}|${port}|${servername}`;
}
