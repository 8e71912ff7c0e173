// The background check runs of both controllers: one scheduler, keyed by kind and object, whose
// runs read the referenced trust bundle and probe credentials just before probing (never into
// a status or a log) and then call the check engine.
import type { CheckResult, CheckTarget, ProbeCredentials } from '../../checks/types.ts';
import type { KubeClient } from '../../kube/index.ts';
import { isNotFound } from '../../kube/index.ts';
import type { Logger } from 'pino';
import { CheckScheduler, type CheckSnapshot } from './check-scheduler.ts';
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

export type CheckKind = 'MapiServer' | 'MailDomain';
export const checkKey = (kind: CheckKind, key: string): string => `${kind}:${key}`;

export interface CheckRunsOptions {
  client: KubeClient;
  log: Logger;
  runChecks: (target: CheckTarget, signal: AbortSignal, intervalMs: number) => Promise<CheckResult[]>;
  onChange: (kind: CheckKind, key: string) => void;
  onRun?: (kind: CheckKind, key: string, results: CheckResult[], durationMs: number) => void;
  concurrency?: number;
}

const READ_TIMEOUT_MS = 10_000;

export class CheckRuns {
  readonly #scheduler: CheckScheduler<CheckRequest>;
  readonly #client: KubeClient;

  constructor(opts: CheckRunsOptions) {
    this.#client = opts.client;
    const split = (k: string): [CheckKind, string] => {
      const i = k.indexOf(':');
      return [k.slice(0, i) as CheckKind, k.slice(i + 1)];
    };
    this.#scheduler = new CheckScheduler<CheckRequest>({
      run: async (_key, req, signal) => {
        // An unusable reference is a row of its own (reason names the field and the fix); the
        // probes still run without it, so the rest of the status stays current.
        const { target, problems } = await this.#withReferences(req, signal);
        // Status goes to the tenant: no other server's certificate names or redirect tokens.
        return [...redactResults(await opts.runChecks(target, signal, req.intervalMs)), ...problems];
      },
      onChange: (k) => opts.onChange(...split(k)),
      onRun: (k, snapshot, ms) => opts.onRun?.(...split(k), snapshot.results, ms),
      onError: (k, err) => opts.log.warn({ key: k, err }, 'check run failed'),
      ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    });
  }

  ensure(kind: CheckKind, key: string, request: CheckRequest): void {
    this.#scheduler.ensure(checkKey(kind, key), request, request.intervalMs);
  }

  snapshot(kind: CheckKind, key: string): CheckSnapshot | undefined {
    return this.#scheduler.snapshot(checkKey(kind, key));
  }

  forget(kind: CheckKind, key: string): void {
    this.#scheduler.forget(checkKey(kind, key));
  }

  stop(): Promise<void> {
    return this.#scheduler.stop();
  }

  async #withReferences(req: CheckRequest, signal: AbortSignal): Promise<{ target: CheckTarget; problems: CheckResult[] }> {
    let target = req.target;
    const problems: CheckResult[] = [];
    if (req.caBundle) {
      const ref = req.caBundle;
      const bundle = caBundleReference(ref, await this.#readKey(ref.kind, req.namespace, ref.name, ref.key, signal));
      if ('pem' in bundle) target = { ...target, caBundlePem: bundle.pem };
      else problems.push(bundle.problem);
    }
    if (req.credentialsSecret) {
      const secret = req.credentialsSecret;
      const [username, password, address] = await Promise.all((['username', 'password', 'address'] as const).map((k) => this.#readKey('Secret', req.namespace, secret, k, signal)));
      const creds = probeCredentialsReference(secret, { username: username!, password: password!, address: address! });
      if ('credentials' in creds) target = { ...target, probeCredentials: creds.credentials satisfies ProbeCredentials };
      else problems.push(creds.problem);
    }
    return { target, problems };
  }

  async #readKey(kind: 'ConfigMap' | 'Secret', namespace: string, name: string, key: string, signal: AbortSignal): Promise<ReadOutcome> {
    const ref = kind === 'Secret' ? SECRETS : CONFIGMAPS;
    try {
      const obj = await this.#client.request<{ data?: Record<string, string> }>({
        method: 'GET', path: `/api/v1/namespaces/${namespace}/${ref.plural}/${name}`, timeoutMs: READ_TIMEOUT_MS, signal, object: `${kind} ${namespace}/${name}`,
      });
      const raw = obj.data?.[key];
      if (raw === undefined) return { found: true, value: undefined };
      return { found: true, value: kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw };
    } catch (err) {
      if (isNotFound(err)) return { found: false };
      throw err;
    }
  }
}
