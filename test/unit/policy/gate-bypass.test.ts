// The gate cannot be bypassed by scaling a held Deployment by hand: "released" is the operator's
// own record (annotations on the Deployment), never the replica count someone set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapiServer } from '../gate/fixtures.ts';
import { desiredServerPodTemplate } from '../../../src/builders/server.ts';
import { decideRollout, LAST_GOOD_TEMPLATE_ANNOTATION, ROLLOUT_STARTED_ANNOTATION, type RolloutInput, type RunningDeployment } from '../../../src/rollout/decision.ts';

const now = new Date('2026-11-22T12:00:00Z');
const v1 = desiredServerPodTemplate(mapiServer({ image: 'bm-mapi:1' }));
const closed = { open: false, reason: 'DomainsNotReady', message: 'example.org fails' };

const scaledByHand = (replicas: number, annotations: Record<string, string> = {}): RunningDeployment => ({
  replicas, template: v1, annotations,
  status: { replicas, updatedReplicas: replicas, readyReplicas: replicas, observedGeneration: 2, generation: 2, progressDeadlineExceeded: false },
});
const input = (over: Partial<RolloutInput>): RolloutInput => ({
  mode: 'Enforce', gate: closed, specReplicas: 2, desiredTemplate: v1, serving: { status: 'Passed', message: 'ok', checkedAt: now }, now, progressDeadlineMs: 60_000, ...over,
});

for (const replicas of [1, 3, 50]) {
  test(`a never-released server scaled to ${replicas} by hand goes back to 0 while the gate is closed`, () => {
    const d = decideRollout(input({ current: scaledByHand(replicas) }));
    assert.equal(d.replicas, 0);
    assert.equal(d.held, true);
    assert.equal(d.state, 'Held');
    assert.equal(d.annotations[ROLLOUT_STARTED_ANNOTATION], undefined, 'no release is recorded for it');
  });
}

test('a stalled never-released server scaled by hand goes back to 0 too', () => {
  const d = decideRollout(input({ current: scaledByHand(3), stalled: { reason: 'NotGranted', message: 'not granted' } }));
  assert.equal(d.replicas, 0);
});

test('a released server is never scaled down by the gate (its release is on the Deployment)', () => {
  const released = scaledByHand(2, { [LAST_GOOD_TEMPLATE_ANNOTATION]: JSON.stringify(v1), [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:00:00.000Z' });
  const d = decideRollout(input({ current: released }));
  assert.equal(d.replicas, 2);
  const startedOnly = decideRollout(input({ current: scaledByHand(2, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:00:00.000Z' }) }));
  assert.equal(startedOnly.replicas, 2, 'a release recorded but not yet proven good keeps its pods');
});

test('the release decision is recorded on the Deployment when the gate first opens', () => {
  const d = decideRollout(input({ gate: { open: true, reason: 'GatePassed', message: 'ok' }, current: scaledByHand(0) }));
  assert.equal(d.replicas, 2);
  assert.ok(d.annotations[ROLLOUT_STARTED_ANNOTATION]);
});
