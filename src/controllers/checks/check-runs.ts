// The background check runs of both controllers: one scheduler, keyed by kind and object, whose
// runs read the referenced trust bundle and probe credentials just before probing (never into
// a status or a log) and then call the check engine. The MailDomains of a server reference the
// same ConfigMap or Secret: one read of it is shared for a short while (ReferenceReads).
import type { CheckResult, CheckTarget, ProbeCredentials } from '../../checks/types.ts';
import type { KubeClient } from '../../kube/index.ts';
import { isNotFound, poolStrings, type StringPool } from '../../kube/index.ts';
import type { Logger } from 'pino';
import { CheckScheduler } from './check-scheduler.ts';
import { CONFIGMAPS, SECRETS } from '../resources.ts';
import { redactResults } from '../../policy/status-redaction.ts';
import { caBundleReference, probeCredentialsReference, type ReadOutcome } from '../../policy/check-references.ts';

export interface CheckRequest {
  target: CheckTarget;
  /** checks.interval: resources with the same interval share probe results. */
  intervalMs: number;
  namespace: string;
  caBundle?: { kind: 'ConfigMap' | 'Secret'; name: string; key: string };
  credentialsSecret?: string;
}

/** The latest results of a resource's checks, as the controllers read them. */
export interface RunSnapshot {
  results: CheckResult[];
  /** When the run that produced them started. */
  checkedAt: Date;
  /** The MAPI release its http/ probes judged (CheckTarget.release), if they ran. */
  release?: string;
}

export type CheckKind = 'MapiServer' | 'MailDomain';
export const checkKey = (kind: CheckKind, key: string): string => `${kind}:${key}`;

export interface CheckRunsOptions {
  client: KubeClient;
  log: Logger;
  runChecks: (target: CheckTarget, signal: AbortSignal, intervalMs: number) => Promise<CheckResult[]>;
  onChange: (kind: CheckKind, key: string) => void;
  /** `target`: what the run checked (without the referenced bundle and credentials). */
  onRun?: (kind: CheckKind, key: string, results: CheckResult[], durationMs: number, target: CheckTarget) => void;
  /** A key that was checked is not any more (its object deleted, or no longer served): what
   *  onRun reported about it must go too (its metric series). */
  onForget?: (kind: CheckKind, key: string) => void;
  concurrency?: number;
  /** Clock of the shared reference reads (tests). */
  now?: () => number;
  /** Where the rows' strings are pooled: the informers' pool unless given (tests). */
  stringPool?: StringPool;
}

const READ_TIMEOUT_MS = 10_000;
/** A run uses a read of a referenced object at most this old (or its interval, if shorter). */
export const REFERENCE_MAX_AGE_MS = 30_000;

export type ObjectRead = { found: false } | { found: true; data: Record<string, string> };
type ReferenceKind = 'ConfigMap' | 'Secret';

/**
 * The ConfigMaps and Secrets the check runs reference, read once per (kind, namespace, name)
 * while fresh and shared by every run that asks meanwhile, also while the GET is in flight.
 * Each run says how old a read it accepts (the smaller of its interval and 30 s), so a fixed
 * bundle or password reaches the next run. The data stays in this process's memory only.
 */
export class ReferenceReads {
  readonly #fetch: (kind: ReferenceKind, namespace: string, name: string) => Promise<ObjectRead>;
  readonly #now: () => number;
  readonly #entries = new Map<string, { startedAt: number; settled: boolean; read: Promise<ObjectRead> }>();

  constructor(fetch: (kind: ReferenceKind, namespace: string, name: string) => Promise<ObjectRead>, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#now = now;
  }

  read(kind: ReferenceKind, namespace: string, name: string, maxAgeMs: number, signal: AbortSignal): Promise<ObjectRead> {
    const key = `${kind}\u0000${namespace}\u0000${name}`;
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry || (entry.settled && now - entry.startedAt >= maxAgeMs)) {
      // Objects of deleted resources must not pile up in a long-lived operator.
      for (const [k, e] of this.#entries) if (e.settled && now - e.startedAt >= REFERENCE_MAX_AGE_MS) this.#entries.delete(k);
      const fresh = { startedAt: now, settled: false, read: this.#fetch(kind, namespace, name) };
      // A failed read (not a 404: that is an answer) is not kept; the next run asks again.
      fresh.read.then(() => { fresh.settled = true; }, () => { if (this.#entries.get(key) === fresh) this.#entries.delete(key); });
      this.#entries.set(key, fresh);
      entry = fresh;
    }
    return untilAborted(entry.read, signal);
  }
}

/** The shared read for one caller: it stops waiting when its own run is aborted. */
function untilAborted<T>(shared: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}

export class CheckRuns {
  readonly #scheduler: CheckScheduler<CheckRequest>;
  readonly #client: KubeClient;
  readonly #reads: ReferenceReads;
  readonly #onForget: CheckRunsOptions['onForget'];

  constructor(opts: CheckRunsOptions) {
    this.#client = opts.client;
    this.#onForget = opts.onForget;
    this.#reads = new ReferenceReads((kind, namespace, name) => this.#get(kind, namespace, name), opts.now);
    const split = (k: string): [CheckKind, string] => {
      const i = k.indexOf(':');
      return [k.slice(0, i) as CheckKind, k.slice(i + 1)];
    };
    this.#scheduler = new CheckScheduler<CheckRequest>({
      run: async (runKey, req, signal) => {
        // An unusable reference is a row of its own (reason names the field and the fix); the
        // probes still run without it, so the rest of the status stays current.
        const { target, problems } = await this.#withReferences(req, signal);
        // Status goes to the tenant: no other server's certificate names or redirect tokens.
        // The rows' strings go through the pool the cache parses objects with: a MapiServer's
        // cached status then shares them with its runs (a MailDomain's is kept packed).
        const rows = [...redactResults(await opts.runChecks(target, signal, req.intervalMs)), ...problems];
        return poolStrings(rows, opts.stringPool);
      },
      onChange: (k) => opts.onChange(...split(k)),
      onRun: (k, snapshot, ms) => {
        const [kind, key] = split(k);
        opts.onRun?.(kind, key, snapshot.results, ms, snapshot.request.target);
      },
      onError: (k, err) => opts.log.warn({ key: k, err }, 'check run failed'),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
  }

  ensure(kind: CheckKind, key: string, request: CheckRequest): void {
    this.#scheduler.ensure(checkKey(kind, key), request, request.intervalMs);
  }

  snapshot(kind: CheckKind, key: string): RunSnapshot | undefined {
    const snapshot = this.#scheduler.snapshot(checkKey(kind, key));
    if (!snapshot) return undefined;
    const release = snapshot.request.target.release;
    return { results: snapshot.results, checkedAt: snapshot.checkedAt, ...(release !== undefined ? { release } : {}) };
  }

  /** Since when the snapshot describes a superseded target (CheckScheduler.supersededSince). */
  supersededSince(kind: CheckKind, key: string): number | undefined {
    return this.#scheduler.supersededSince(checkKey(kind, key));
  }

  forget(kind: CheckKind, key: string): void {
    if (this.#scheduler.forget(checkKey(kind, key))) this.#onForget?.(kind, key);
  }

  async stop(): Promise<void> {
    await this.#scheduler.stop();
  }

  async #withReferences(req: CheckRequest, signal: AbortSignal): Promise<{ target: CheckTarget; problems: CheckResult[] }> {
    let target = req.target;
    const problems: CheckResult[] = [];
    const maxAgeMs = Math.min(req.intervalMs, REFERENCE_MAX_AGE_MS);
    if (req.caBundle) {
      const ref = req.caBundle;
      const bundle = caBundleReference(ref, await this.#readKey(ref.kind, req.namespace, ref.name, ref.key, maxAgeMs, signal));
      if ('pem' in bundle) target = { ...target, caBundlePem: bundle.pem };
      else problems.push(bundle.problem);
    }
    if (req.credentialsSecret) {
      const secret = req.credentialsSecret;
      const [username, password, address] = await Promise.all((['username', 'password', 'address'] as const).map((k) => this.#readKey('Secret', req.namespace, secret, k, maxAgeMs, signal)));
      const creds = probeCredentialsReference(secret, { username: username!, password: password!, address: address! });
      if ('credentials' in creds) target = { ...target, probeCredentials: creds.credentials satisfies ProbeCredentials };
      else problems.push(creds.problem);
    }
    return { target, problems };
  }

  async #readKey(kind: ReferenceKind, namespace: string, name: string, key: string, maxAgeMs: number, signal: AbortSignal): Promise<ReadOutcome> {
    const read = await this.#reads.read(kind, namespace, name, maxAgeMs, signal);
    if (!read.found) return { found: false };
    const raw = read.data[key];
    if (raw === undefined) return { found: true, value: undefined };
    return { found: true, value: kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw };
  }

  /** One GET, shared by the runs that wait on it: bounded by its own time-out, not a run's signal. */
  async #get(kind: ReferenceKind, namespace: string, name: string): Promise<ObjectRead> {
    const ref = kind === 'Secret' ? SECRETS : CONFIGMAPS;
    try {
      const obj = await this.#client.request<{ data?: Record<string, string> }>({
        method: 'GET', path: `/api/v1/namespaces/${namespace}/${ref.plural}/${name}`, timeoutMs: READ_TIMEOUT_MS, object: `${kind} ${namespace}/${name}`,
      });
      return { found: true, data: obj.data ?? {} };
    } catch (err) {
      if (isNotFound(err)) return { found: false };
      throw err;
    }
  }
}
