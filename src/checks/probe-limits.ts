// Safety rails around the injected I/O (docs/design.md, "Checks"): requests go only to hosts the
// target declares, and no more than a few at once, per host and overall.
import { normalizeHost } from './host-names.ts';
import type { CheckIO, HttpRequest } from './types.ts';

export class ProbeNotAllowedError extends Error {
  constructor(host: string) {
    super(`refusing to probe ${host}: it is not a host this MailDomain declares`);
    this.name = 'ProbeNotAllowedError';
  }
}

/** A counting semaphore per key plus one overall. */
export class ConcurrencyLimiter {
  readonly #global: Semaphore;
  readonly #perKey = new Map<string, Semaphore>();
  readonly #perKeyLimit: number;

  constructor(globalLimit: number, perKeyLimit: number) {
    this.#global = new Semaphore(globalLimit);
    this.#perKeyLimit = perKeyLimit;
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let keyed = this.#perKey.get(key);
    if (!keyed) {
      keyed = new Semaphore(this.#perKeyLimit);
      this.#perKey.set(key, keyed);
    }
    const perKey = keyed;
    try {
      return await perKey.run(() => this.#global.run(task));
    } finally {
      // A host's semaphore goes once nothing runs or waits on it: hosts of deleted MailDomains
      // are never probed again, and under churn one was kept per host ever probed.
      if (perKey.idle && this.#perKey.get(key) === perKey) this.#perKey.delete(key);
    }
  }

  /** Hosts with a probe running or waiting. */
  get busyKeys(): number {
    return this.#perKey.size;
  }
}

class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  get idle(): boolean {
    return this.#active === 0 && this.#waiting.length === 0;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/**
 * Wraps the I/O so every TLS handshake and HTTP request is to an allowed host (throws
 * ProbeNotAllowedError otherwise) and runs under the limiter. DNS queries go to the name
 * servers, not to the hosts, and are not limited here.
 */
export function boundedIO(io: CheckIO, allowedHosts: Iterable<string>, limiter: ConcurrencyLimiter): CheckIO {
  const allowed = new Set([...allowedHosts].map(normalizeHost));
  const assertAllowed = (host: string): string => {
    const h = normalizeHost(host);
    if (!allowed.has(h)) throw new ProbeNotAllowedError(h);
    return h;
  };
  return {
    dns: io.dns,
    clock: io.clock,
    tls: { handshake: (host) => limiter.run(assertAllowed(host), () => io.tls.handshake(host)) },
    http: { request: (req: HttpRequest) => limiter.run(assertAllowed(req.host), () => io.http.request(req)) },
  };
}
