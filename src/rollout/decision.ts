// The rollout half of the gate, as one pure function: the server's gate verdict and the running
// Deployment in, the Deployment to apply and a report out.
//
//   never rolled out, gate closed   Enforce: held at 0 replicas   Warn: roll out, report
//   running, gate closed            the running pods and template are kept, never scaled down;
//                                   a new template is held (Enforce) or rolled out (Warn)
//   running, stalled                nothing moves, in either mode: the server's hosts or issuer
//                                   are not its own, so no new release and no scale-down
//   new pods fail http/ probes      rolled back to the last good template past the progress
//                                   deadline (Enforce), reported (Warn)
//
// Switching MAPI off for a domain or a mailbox is the access list's job, never the
// Deployment's: one server serves every domain, so no switch may scale it.
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { TEMPLATE_HASH_ANNOTATION } from '../builders/names.ts';
import { templateHash } from '../builders/workload.ts';

/** Deployment annotations the operator keeps its rollout memory in (survives restarts). */
export const LAST_GOOD_TEMPLATE_ANNOTATION = 'mapi-operator.io/last-good-template';
export const FAILED_TEMPLATE_HASH_ANNOTATION = 'mapi-operator.io/failed-template-hash';
export const ROLLOUT_STARTED_ANNOTATION = 'mapi-operator.io/rollout-started';

export type RolloutState = 'Held' | 'Progressing' | 'Available' | 'RolledBack';

export interface GateVerdict {
  open: boolean;
  reason: string;
  message: string;
}

export interface RunningDeployment {
  replicas: number;
  template: V1PodTemplateSpec;
  annotations: Record<string, string>;
  status: { replicas: number; updatedReplicas: number; readyReplicas: number; observedGeneration: number; generation: number; progressDeadlineExceeded: boolean };
}

export interface RolloutInput {
  mode: 'Enforce' | 'Warn';
  gate: GateVerdict;
  /** A policy objection that needs a person (HostConflict, IssuerNotFound …): nothing moves. */
  stalled?: { reason: string; message: string };
  specReplicas: number;
  desiredTemplate: V1PodTemplateSpec;
  current?: RunningDeployment;
  /** The http/ probes of the served hosts; `checkedAt` is when that run started, `release` what
   *  it judged (releaseUnderProbe of the Deployment it probed). */
  serving: { status: 'Passed' | 'Failed' | 'Unknown'; message: string; checkedAt?: Date; release?: string };
  now: Date;
  progressDeadlineMs: number;
}

export interface RolloutEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface RolloutDecision {
  replicas: number;
  template: V1PodTemplateSpec;
  annotations: Record<string, string>;
  state: RolloutState;
  reason: string;
  message: string;
  held: boolean;
  degraded?: { reason: string; message: string };
  events: RolloutEvent[];
  /** Look again this soon while something is in flight. */
  requeueAfterMs?: number;
}

const hashOf = (t: V1PodTemplateSpec): string => t.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION] ?? templateHash(t);
const imageOf = (t: V1PodTemplateSpec): string => t.spec?.containers?.[0]?.image ?? '';

function parseTemplate(json: string | undefined): V1PodTemplateSpec | undefined {
  if (!json) return undefined;
  try {
    return JSON.parse(json) as V1PodTemplateSpec;
  } catch {
    return undefined; // a hand-edited annotation: treat as no memory rather than crash
  }
}

export function fullyRolledOut(d: RunningDeployment): boolean {
  const s = d.status;
  return s.observedGeneration >= s.generation && s.updatedReplicas === d.replicas && s.readyReplicas === d.replicas && s.replicas === d.replicas;
}

/**
 * What the http/ probes judge, as the check target's `release`: the template, and whether its
 * pods had all replaced the old ones. Between a template change and its last new pod Ready the
 * old pods still answer; a probe made then says nothing about the new release, and under this
 * key it is never mistaken for one made after (nor reused from the probe cache for it).
 */
export function releaseUnderProbe(d: RunningDeployment): string {
  return fullyRolledOut(d) ? hashOf(d.template) : `${hashOf(d.template)}/rolling`;
}

export function decideRollout(input: RolloutInput): RolloutDecision {
  const { current: cur, desiredTemplate: desired, gate, mode, now } = input;
  const mayRelease = gate.open || mode === 'Warn';
  const nowIso = now.toISOString();
  const annotations = { ...(cur?.annotations ?? {}) };
  const desiredHash = hashOf(desired);

  const lastGood = parseTemplate(annotations[LAST_GOOD_TEMPLATE_ANNOTATION]);
  // Released means the operator itself released it (its own annotations, which survive
  // restarts), never that the Deployment has replicas: a held Deployment scaled by hand would
  // otherwise count as released and bypass the gate.
  const released = cur !== undefined && (lastGood !== undefined || annotations[ROLLOUT_STARTED_ANNOTATION] !== undefined);

  // Stalled: freeze. Not even Warn releases a template for a server whose hosts or issuer are
  // not its own, and pods already serving keep serving (template, replicas and memory as they are).
  if (input.stalled) {
    const { reason, message } = input.stalled;
    if (!cur || !released) return { replicas: 0, template: desired, annotations, state: 'Held', held: true, reason, message: `rollout held: ${message}`, events: [] };
    const changed = hashOf(desired) !== hashOf(cur.template);
    return {
      replicas: cur.replicas, template: cur.template, annotations, state: 'Held', held: changed, reason,
      message: `${imageOf(cur.template)} keeps running unchanged${changed ? `; ${imageOf(desired)} is held` : ''} while the server is stalled: ${message}`, events: [],
    };
  }

  // Never rolled out: hold at zero replicas until the gate first opens (bm-mapi would
  // crash-loop instead; we hold before any pod starts and say why).
  if (!cur || !released) {
    if (!mayRelease) {
      return { replicas: 0, template: desired, annotations, state: 'Held', held: true, reason: gate.reason, message: `rollout held: ${gate.message}`, events: [] };
    }
    annotations[ROLLOUT_STARTED_ANNOTATION] = nowIso;
    return {
      replicas: input.specReplicas, template: desired, annotations, state: 'Progressing', held: false,
      reason: gate.open ? 'ChecksPassed' : 'ChecksNotBlocking',
      message: gate.open ? `checks passed; rolling out ${imageOf(desired)}` : `checks fail but mode is Warn; rolling out ${imageOf(desired)}: ${gate.message}`,
      events: [{ type: 'Normal', reason: 'RolloutStarted', message: `rolling out ${imageOf(desired)} with ${input.specReplicas} replicas` }],
      requeueAfterMs: 5_000,
    };
  }

  const curHash = hashOf(cur.template);
  const lastGoodHash = lastGood ? hashOf(lastGood) : undefined;
  const failedHash = annotations[FAILED_TEMPLATE_HASH_ANNOTATION];
  // A DNS blip, a domain that starts failing or a new domain that is not ready never scales a
  // running MAPI server down: with the gate closed in Enforce mode the running replica count and
  // template stay as they are.
  const replicas = mayRelease ? input.specReplicas : cur.replicas;
  const events: RolloutEvent[] = [];

  // 1. A template under evaluation (not yet proven to answer).
  if (curHash !== lastGoodHash) {
    const started = Date.parse(annotations[ROLLOUT_STARTED_ANNOTATION] ?? '') || now.getTime();
    const rolled = fullyRolledOut(cur);
    // Probes of this very release, made once every pod ran it, and after it was started.
    const probedAfterRollout = rolled && input.serving.release === releaseUnderProbe(cur) &&
      input.serving.checkedAt !== undefined && input.serving.checkedAt.getTime() >= started;
    if (rolled && input.serving.status === 'Passed' && probedAfterRollout) {
      annotations[LAST_GOOD_TEMPLATE_ANNOTATION] = JSON.stringify(cur.template);
      delete annotations[FAILED_TEMPLATE_HASH_ANNOTATION];
      events.push({ type: 'Normal', reason: 'RolloutSucceeded', message: `${imageOf(cur.template)} is serving MAPI and autodiscover` });
      return finishWithSpecChange({ ...input, current: { ...cur, annotations } }, cur.template, replicas, annotations, events, 'Available', 'Serving', `${imageOf(cur.template)} answers the MAPI and autodiscover probes`);
    }
    const overdue = now.getTime() - started > input.progressDeadlineMs || cur.status.progressDeadlineExceeded;
    if (overdue) {
      const why = cur.status.progressDeadlineExceeded
        ? 'its pods did not become ready before the progress deadline'
        : `its endpoints did not answer within ${Math.round(input.progressDeadlineMs / 1000)}s (${input.serving.message})`;
      if (lastGood && mode === 'Enforce') {
        annotations[FAILED_TEMPLATE_HASH_ANNOTATION] = curHash;
        annotations[ROLLOUT_STARTED_ANNOTATION] = nowIso;
        const message = `rolled back from ${imageOf(cur.template)} to ${imageOf(lastGood)}: ${why}`;
        return {
          replicas, template: lastGood, annotations, state: 'RolledBack', held: false, reason: 'RolledBack', message,
          degraded: { reason: 'RolledBack', message: `${message}; fix the image or spec and apply again` },
          events: [{ type: 'Warning', reason: 'RolledBack', message }], requeueAfterMs: 5_000,
        };
      }
      const message = `${imageOf(cur.template)} is not serving: ${why}${lastGood ? ' (mode Warn: reported, not rolled back)' : '; there is no earlier good release to roll back to'}`;
      // A spec change may still fix it: a new template replaces a failing one.
      if (desiredHash !== curHash && mayRelease) {
        annotations[ROLLOUT_STARTED_ANNOTATION] = nowIso;
        return { replicas, template: desired, annotations, state: 'Progressing', held: false, reason: 'NewTemplate', message: `rolling out ${imageOf(desired)}`, events: [{ type: 'Normal', reason: 'RolloutStarted', message: `rolling out ${imageOf(desired)}` }], requeueAfterMs: 5_000 };
      }
      return { replicas, template: cur.template, annotations, state: 'Progressing', held: false, reason: 'NotServing', message, degraded: { reason: 'NotServing', message }, events: [], requeueAfterMs: 30_000 };
    }
    // Still within the deadline: a newer spec replaces the template under evaluation.
    if (desiredHash !== curHash && desiredHash !== failedHash && mayRelease) {
      annotations[ROLLOUT_STARTED_ANNOTATION] = nowIso;
      return { replicas, template: desired, annotations, state: 'Progressing', held: false, reason: 'NewTemplate', message: `rolling out ${imageOf(desired)}`, events: [{ type: 'Normal', reason: 'RolloutStarted', message: `rolling out ${imageOf(desired)}` }], requeueAfterMs: 5_000 };
    }
    return {
      replicas, template: cur.template, annotations, state: 'Progressing', held: false, reason: rolled ? 'WaitingForProbes' : 'PodsStarting',
      message: rolled ? `${imageOf(cur.template)} is up; waiting for the MAPI and autodiscover probes to answer` : `waiting for ${imageOf(cur.template)} pods to become ready`,
      events, requeueAfterMs: 5_000,
    };
  }

  return finishWithSpecChange(input, cur.template, replicas, annotations, events, fullyRolledOut(cur) ? 'Available' : 'Progressing', fullyRolledOut(cur) ? 'Serving' : 'Scaling', `${imageOf(cur.template)} is serving`);
}

// The running template is good: roll out a changed spec when the gate allows, else hold it.
function finishWithSpecChange(
  input: RolloutInput, running: V1PodTemplateSpec, replicas: number, annotations: Record<string, string>,
  events: RolloutEvent[], state: RolloutState, reason: string, message: string,
): RolloutDecision {
  const { desiredTemplate: desired, gate, mode, now } = input;
  const desiredHash = hashOf(desired);
  const runningHash = hashOf(running);
  if (desiredHash === runningHash) return { replicas, template: running, annotations, state, held: false, reason, message, events };
  if (desiredHash === annotations[FAILED_TEMPLATE_HASH_ANNOTATION]) {
    const msg = `${imageOf(desired)} was rolled back because it did not answer; ${imageOf(running)} keeps serving. Change spec.image (or the pod spec) to try again`;
    return { replicas, template: running, annotations, state: 'RolledBack', held: false, reason: 'RolledBack', message: msg, degraded: { reason: 'RolledBack', message: msg }, events };
  }
  if (gate.open || mode === 'Warn') {
    annotations[ROLLOUT_STARTED_ANNOTATION] = now.toISOString();
    return {
      replicas, template: desired, annotations, state: 'Progressing', held: false, reason: 'NewTemplate', message: `rolling out ${imageOf(desired)}`,
      events: [...events, { type: 'Normal', reason: 'RolloutStarted', message: `rolling out ${imageOf(desired)} (was ${imageOf(running)})` }], requeueAfterMs: 5_000,
    };
  }
  return {
    replicas, template: running, annotations, state: 'Held', held: true, reason: gate.reason,
    message: `new template (${imageOf(desired)}) held while checks fail; ${imageOf(running)} keeps running: ${gate.message}`, events,
  };
}
