// Errors from the apiserver, carrying what a person needs to fix them: the object, the HTTP
// status, the apiserver's reason and every field it rejected (Status.details.causes).

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The metav1.Status the apiserver returns with every error. */
export interface ApiStatus {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
}

export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly causes: StatusCause[];
  readonly status: ApiStatus | undefined;
  /** "<METHOD> <path>" of the failed request (no query: it may carry a continue token). */
  readonly request: string;
  /** The object the call was about, "kind namespace/name", when known. */
  readonly object: string | undefined;

  constructor(args: { statusCode: number; request: string; object?: string; status?: ApiStatus; body?: string }) {
    const status = args.status;
    const causes = status?.details?.causes ?? [];
    const what = args.object ? `${args.object}: ` : '';
    const base = status?.message ?? (args.body ? args.body.slice(0, 500) : `HTTP ${args.statusCode}`);
    // The apiserver's message usually lists the causes already; add any it left out, by field.
    const extra = causes
      .filter((c) => !(c.message && base.includes(c.message)))
      .map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? 'rejected'}`);
    super(`${what}${base}${extra.length ? ` [${extra.join('; ')}]` : ''} (${args.request} → ${args.statusCode}${status?.reason ? ` ${status.reason}` : ''})`);
    this.name = 'KubeApiError';
    this.statusCode = args.statusCode;
    this.reason = status?.reason ?? '';
    this.causes = causes;
    this.status = status;
    this.request = args.request;
    this.object = args.object;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409 && err.reason === 'AlreadyExists';
}

/** 410 Gone / reason Expired: the resourceVersion we asked for is no longer in the window. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && (err.statusCode === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

/** A request that did not finish within its time-out. */
export class KubeTimeoutError extends Error {
  constructor(request: string, ms: number) {
    super(`${request}: no answer from the apiserver within ${ms} ms`);
    this.name = 'KubeTimeoutError';
  }
}
