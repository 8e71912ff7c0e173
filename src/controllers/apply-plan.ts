// The one way both controllers act on a plan: apply the children that drifted, remove the
// children that must no longer exist (only our own), emit the plan's Events, write status
// once. The decision was made before, without I/O; this is the I/O.
import type { Informer, KubeObject, Manager, ReconcileContext } from '../kube/index.ts';
import { applyObject, applyStatusIfChanged, deleteObject } from '../kube/index.ts';
import { needsApply, withAppliedHash } from './drift.ts';
import { OWNED_KINDS } from './resources.ts';

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
  let applied = 0;
  // Children first, so the status describes what exists.
  for (const obj of plan.apply as KubeObject[]) {
    const desired = withAppliedHash(obj);
    const live = liveOf(obj.kind ?? '')?.get(namespace, obj.metadata.name ?? '');
    if (!needsApply(desired, live)) continue;
    await applyObject(manager.client, desired, { signal: ctx.signal });
    applied++;
  }
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
  const { written } = await applyStatusIfChanged(manager.client, owner, plan.status, { signal: ctx.signal });
  if (applied > 0 || pruned > 0 || written) ctx.log.debug({ applied, pruned, statusWritten: written }, 'reconciled');
  return { applied, pruned, statusWritten: written };
}

/** The status a resource whose spec the operator cannot read gets; the spec is never rewritten. */
export function invalidSpecConditions(message: string, kind: string) {
  return [
    { type: 'Stalled', status: 'True' as const, reason: 'InvalidSpec', message: `${message}; fix the ${kind} and apply it again` },
    { type: 'Ready', status: 'False' as const, reason: 'InvalidSpec', message },
    { type: 'Reconciling', status: 'False' as const, reason: 'InvalidSpec', message: 'waiting for a valid spec' },
  ];
}
