// The one way both controllers act on a plan: apply the children that drifted, remove the
// children that must no longer exist (only our own), emit the plan's Events, write status
// once. The decision was made before, without I/O; this is the I/O.
import type { Informer, KubeClient, KubeObject, Manager, ReconcileContext, ResourceRef } from '../kube/index.ts';
import { applyObject, applyStatusIfChanged, carryTransitionTimes, deleteObject, KubeApiError, resourcePath } from '../kube/index.ts';
import type { Condition } from '../api/conditions.ts';
import { controllerOf, isControlledBy, secretUsableBy, type Refusal } from '../policy/child-ownership.ts';
import { setConditions, transitionEvents } from './conditions.ts';
import { needsApply, withAppliedHash } from './drift.ts';
import { OWNED_KINDS, SECRETS } from './resources.ts';

export interface PlanToApply {
  apply: object[];
  prune: { kind: string; name: string }[];
  status: unknown;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

export interface ApplyPlanInput {
  manager: Manager;
  /** The primary object as read from the cache (apiVersion/kind set). */
  owner: KubeObject;
  plan: PlanToApply;
  liveOf: (kind: string) => Informer<KubeObject> | undefined;
  ctx: ReconcileContext;
}

export async function applyPlan({ manager, owner, plan, liveOf, ctx }: ApplyPlanInput): Promise<{ applied: number; pruned: number; statusWritten: boolean }> {
  const namespace = owner.metadata.namespace ?? '';
  const refusals: Refusal[] = [];
  let transient: { error: unknown; message: string } | undefined;
  const refusedSecrets = new Set<string>();
  // Three waves, each of requests made at once, instead of a few round trips per child one
  // after the other: (1) what the caches cannot tell, (2) the applies, (3) the status.
  const children = await mapLimited(certificatesFirst(plan.apply as KubeObject[]), APPLY_CONCURRENCY, (obj) => readChild(manager.client, obj, namespace, liveOf, ctx.signal));
  // The decisions, in the plan's order (Certificates first: a refused Secret keeps the
  // Ingress serving it from going out, whatever order the applies then take).
  const toApply: ChildRead[] = [];
  for (const child of children) {
    const { desired, kind, name, live } = child;
    if (live && !isControlledBy(live, owner.metadata.uid)) {
      refusals.push({
        reason: 'NameInUse', object: `${kind} ${name}`,
        message: `${kind} ${name} already exists in namespace ${namespace} and was not created by this ${owner.kind} (controller: ${controllerOf(live)}); it is left unchanged: rename or delete it, or rename this ${owner.kind}`,
      });
      continue;
    }
    // An Ingress serving a refused Secret would hand the user's own certificate to our host.
    if (kind === 'Ingress' && tlsSecretsOf(desired).some((s) => refusedSecrets.has(s))) continue;
    if (!needsApply(desired, live)) continue;
    if (child.secretName && !secretUsableBy(await child.secret!, name)) {
      refusedSecrets.add(child.secretName);
      refusals.push({
        reason: 'SecretInUse', object: `Secret ${child.secretName}`,
        message: `Secret ${child.secretName} already exists in namespace ${namespace} and was not issued for Certificate ${name}; cert-manager would overwrite its certificate and key, so it is left unchanged: set tls.secretName to an unused name, or delete that Secret`,
      });
      continue;
    }
    toApply.push(child);
  }
  // An owner's first children (every one a create, nothing to prune): its status, which can
  // only say they are on their way, goes out with the applies instead of after them — two
  // sequential round trips for a new MailDomain instead of three, the pace of onboarding
  // thousands. Should an apply then fail, a second write adds the problem.
  const refusedBefore = refusals.length;
  const expected = refusedBefore > 0 ? withProblem(owner, plan.status, stalled(refusals)) : plan.status;
  const allNew = toApply.length > 0 && plan.prune.length === 0 && toApply.every((c) => c.live === undefined);
  const early = allNew
    ? applyStatusIfChanged(manager.client, owner, expected, { signal: ctx.signal }).then((r) => ({ r }), (err: unknown) => ({ err }))
    : undefined;
  // Every check above was made before any apply, so the other children need no order among
  // themselves: a Certificate's Secret only appears once cert-manager has issued it, seconds
  // later, whether or not the Ingress naming it went out first. The access list is the
  // exception: its ConfigMaps go out first (new pods find the list in place) and one by one
  // in the plan's order (its shards before its index, so the index never names a shard not
  // written yet).
  const outcomes: Array<{ err: unknown } | undefined> = [];
  const first = toApply.filter((c) => c.kind === 'ConfigMap');
  const then = toApply.filter((c) => c.kind !== 'ConfigMap');
  toApply.splice(0, toApply.length, ...first, ...then);
  const apply = async ({ desired }: ChildRead) => {
    try {
      await applyObject(manager.client, desired, { signal: ctx.signal });
      return undefined;
    } catch (err) {
      return { err };
    }
  };
  outcomes.push(...await mapLimited(first, 1, apply));
  outcomes.push(...await mapLimited(then, APPLY_CONCURRENCY, apply));
  let applied = 0;
  outcomes.forEach((outcome, i) => {
    if (!outcome) {
      applied++;
      return;
    }
    const { kind, name } = toApply[i]!;
    if (ctx.signal.aborted) throw outcome.err;
    const rejected = rejection(outcome.err, kind, name);
    if (rejected) refusals.push(rejected);
    // Transient (conflict, throttling, 5xx, time-out): the other children still go out, the
    // status says what failed, and the error goes back to the work queue for a retry.
    else if (!transient) transient = { error: outcome.err, message: `applying ${kind} ${name} failed, retrying: ${(outcome.err as Error).message}` };
  });
  let pruned = 0;
  for (const p of plan.prune) {
    const live = liveOf(p.kind)?.get(namespace, p.name);
    // Only what this owner made: a foreign object of the same name is never touched.
    const ours = live?.metadata.ownerReferences?.some((o) => o.uid === owner.metadata.uid && o.controller);
    const ref = OWNED_KINDS[p.kind];
    if (live && ours && ref) {
      await deleteObject(manager.client, ref, namespace, p.name, { signal: ctx.signal });
      pruned++;
    }
  }
  for (const e of plan.events) void manager.events.record(owner, e.type, e.reason, e.message);
  const status = refusals.length > 0 ? withProblem(owner, plan.status, stalled(refusals)) : transient ? withProblem(owner, plan.status, retrying(transient.message)) : plan.status;
  if (refusals.length > 0 || transient) {
    // One Event when the problem is news, not one per reconcile (or per retry).
    const type = refusals.length > 0 ? 'Stalled' : 'Reconciling';
    const before = (owner.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === type);
    const now = (status as { conditions?: Condition[] }).conditions?.find((c) => c.type === type);
    if (now && (before?.status !== 'True' || before.reason !== now.reason || before.message !== now.message)) void manager.events.record(owner, 'Warning', now.reason, now.message);
    ctx.log.warn({ refusals, transient: transient?.message }, 'children not applied');
  }
  let written: boolean;
  const sent = early ? await early : undefined;
  if (sent && 'r' in sent && refusals.length === refusedBefore && !transient) {
    written = sent.r.written;
  } else {
    // Compared with what the early write left, when it went out.
    const base = sent && 'r' in sent ? { ...owner, status: carryTransitionTimes(owner.status, expected) } : owner;
    ({ written } = await applyStatusIfChanged(manager.client, base, status, { signal: ctx.signal }));
    written ||= sent !== undefined && 'r' in sent && sent.r.written;
  }
  if (applied > 0 || pruned > 0 || written) ctx.log.debug({ applied, pruned, statusWritten: written }, 'reconciled');
  if (transient) throw transient.error;
  return { applied, pruned, statusWritten: written };
}

interface ChildRead {
  desired: KubeObject;
  kind: string;
  name: string;
  live: KubeObject | undefined;
  /** The Certificate's spec.secretName, when its Secret must be looked at before applying. */
  secretName?: string;
  secret?: Promise<KubeObject | undefined>;
}

/**
 * What one child needs read before the decision, read at once: the live object (the caches
 * hold only labelled children; an object of this name without our label, the user's own, is
 * only visible to a GET) and, for a Certificate about to be applied, its Secret.
 */
async function readChild(client: KubeClient, obj: KubeObject, namespace: string, liveOf: ApplyPlanInput['liveOf'], signal: AbortSignal): Promise<ChildRead> {
  const desired = withAppliedHash(obj);
  const kind = obj.kind ?? '';
  const name = obj.metadata.name ?? '';
  const cached = liveOf(kind)?.get(namespace, name);
  const secretName = kind === 'Certificate' ? (obj as { spec?: { secretName?: string } }).spec?.secretName : undefined;
  // A cache miss is a new child (or a foreign one): it needs applying, so its Secret is read
  // together with it rather than after it.
  const wantSecret = secretName !== undefined && secretName !== '' && (cached === undefined || needsApply(desired, cached));
  // Without RBAC to read Secrets (the chart's rbac.readSecrets=false) the check cannot be
  // made; cert-manager then writes the Secret as it always would.
  const secret = wantSecret ? readObject(client, SECRETS, namespace, secretName, signal, { forbiddenIsAbsent: true }) : undefined;
  // Read only when the decision needs it: a foreign object makes the Secret irrelevant, and
  // an unhandled rejection must not escape.
  secret?.catch(() => undefined);
  const live = cached ?? await readObject(client, OWNED_KINDS[kind], namespace, name, signal);
  return { desired, kind, name, live, ...(wantSecret ? { secretName, secret: secret! } : {}) };
}

/** Applies of one plan in flight at once: a server's access list may be dozens of shards. */
const APPLY_CONCURRENCY = 8;

/** `fn` over `items` with at most `limit` running; results in the order of `items`. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const certificatesFirst = (objects: KubeObject[]): KubeObject[] => [...objects.filter((o) => o.kind === 'Certificate'), ...objects.filter((o) => o.kind !== 'Certificate')];
const tlsSecretsOf = (o: KubeObject): string[] => ((o as { spec?: { tls?: { secretName?: string }[] } }).spec?.tls ?? []).flatMap((t) => (t.secretName ? [t.secretName] : []));

/** A GET bounded by the client's time-out; absent (404) is undefined. */
async function readObject(client: KubeClient, ref: ResourceRef | undefined, namespace: string, name: string, signal: AbortSignal, opts: { forbiddenIsAbsent?: boolean } = {}): Promise<KubeObject | undefined> {
  if (!ref || !name) return undefined;
  try {
    return await client.request<KubeObject>({ path: resourcePath(ref, namespace, name), object: `${ref.kind} ${namespace}/${name}`, timeoutMs: 10_000, signal });
  } catch (err) {
    if (err instanceof KubeApiError && (err.statusCode === 404 || (opts.forbiddenIsAbsent && err.statusCode === 403))) return undefined;
    throw err;
  }
}

/**
 * An apply the apiserver refused for good (invalid, forbidden, too large): a person must act, so
 * it goes into status with the apiserver's own message. Conflicts, throttling and 5xx are
 * transient and go back to the work queue instead.
 */
function rejection(err: unknown, kind: string, name: string): Refusal | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  const code = err.statusCode;
  // The apiserver answers 500 when a patch cannot be converted to the typed object (an invalid
  // quantity, a wrong type); that never heals by retrying.
  const unconvertible = code === 500 && /failed to convert|unable to convert/.test(err.message);
  if (!unconvertible && (code < 400 || code >= 500 || code === 409 || code === 429 || code === 404)) return undefined;
  return { reason: 'ApplyRejected', object: `${kind} ${name}`, message: `the apiserver refused ${kind} ${name}: ${err.message}` };
}

type Overrides = Record<string, { status: 'True' | 'False'; reason: string; message: string }>;

/** Refused for good: a person must act. */
function stalled(refusals: Refusal[]): Overrides {
  const reason = refusals[0]!.reason;
  const message = refusals.map((r) => r.message).join('; ');
  return {
    Stalled: { status: 'True', reason, message },
    Ready: { status: 'False', reason, message },
    Reconciling: { status: 'False', reason, message: `waiting for a person: ${message}` },
  };
}

/** Failed for now: retried with backoff. */
function retrying(message: string): Overrides {
  return {
    Reconciling: { status: 'True', reason: 'ApplyFailed', message },
    Ready: { status: 'False', reason: 'ApplyFailed', message },
  };
}

/** The plan's status with the given conditions replaced (or added). */
function withProblem(owner: KubeObject, planned: unknown, override: Overrides): unknown {
  const status = planned as { conditions?: Condition[] } & Record<string, unknown>;
  const plannedConditions = status.conditions ?? [];
  const next = [
    ...plannedConditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, ...override[c.type] })),
    ...Object.entries(override).filter(([type]) => !plannedConditions.some((c) => c.type === type)).map(([type, c]) => ({ type, ...c })),
  ];
  const previous = (owner.status as { conditions?: Condition[] } | undefined)?.conditions;
  return { ...status, conditions: setConditions(previous, next, owner.metadata.generation, new Date()) };
}

/**
 * A resource whose spec the operator cannot read: Stalled/InvalidSpec naming the fields, one
 * Event on the transition, the status written once. Reported, never rewritten: only the status
 * subresource is written.
 */
export async function reportInvalidSpec(manager: Manager, owner: KubeObject, message: string, kind: string, now: Date, ctx: ReconcileContext): Promise<void> {
  const previous = (owner.status as { conditions?: Condition[] } | undefined)?.conditions;
  const conditions = setConditions(previous, invalidSpecConditions(message, kind), owner.metadata.generation, now);
  for (const e of transitionEvents(previous, conditions)) void manager.events.record(owner, e.type, e.reason, e.message);
  await applyStatusIfChanged(manager.client, owner, { ...(owner.status as object), observedGeneration: owner.metadata.generation, conditions }, { signal: ctx.signal });
}

/** The status a resource whose spec the operator cannot read gets; the spec is never rewritten. */
export function invalidSpecConditions(message: string, kind: string) {
  return [
    { type: 'Stalled', status: 'True' as const, reason: 'InvalidSpec', message: `${message}; fix the ${kind} and apply it again` },
    { type: 'Ready', status: 'False' as const, reason: 'InvalidSpec', message },
    { type: 'Reconciling', status: 'False' as const, reason: 'InvalidSpec', message: 'waiting for a valid spec' },
  ];
}
