import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapiServer } from '../gate/fixtures.ts';
import { desiredServerPodTemplate } from '../../../src/builders/server.ts';
import {
  decideRollout, releaseUnderProbe, LAST_GOOD_TEMPLATE_ANNOTATION, FAILED_TEMPLATE_HASH_ANNOTATION, ROLLOUT_STARTED_ANNOTATION,
  type RolloutInput, type RunningDeployment,
} from '../../../src/rollout/decision.ts';

const now = new Date('2026-11-22T12:00:00Z');
const v1 = desiredServerPodTemplate(mapiServer({ image: 'bm-mapi:1' }));
const v2 = desiredServerPodTemplate(mapiServer({ image: 'bm-mapi:2' }));
const open = { open: true, reason: 'ChecksPassed', message: 'all checks pass' };
const closed = { open: false, reason: 'DomainsNotReady', message: '1/2 MailDomains pass; blocking (1): example.org (AutodiscoverNotPublished: dns/autodiscover.example.org Failed)' };

function running(template = v1, extra: Partial<RunningDeployment> = {}, annotations: Record<string, string> = {}): RunningDeployment {
  return {
    replicas: 2, template,
    annotations: { [LAST_GOOD_TEMPLATE_ANNOTATION]: JSON.stringify(v1), [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:00:00.000Z', ...annotations },
    status: { replicas: 2, updatedReplicas: 2, readyReplicas: 2, observedGeneration: 1, generation: 1, progressDeadlineExceeded: false },
    ...extra,
  };
}

function input(over: Partial<RolloutInput>): RolloutInput {
  return {
    mode: 'Enforce', gate: open, specReplicas: 2, desiredTemplate: v1,
    serving: { status: 'Passed', message: 'ok', checkedAt: now }, now, progressDeadlineMs: 60_000, ...over,
  };
}

const image = (d: { template: typeof v1 }) => d.template.spec?.containers[0]?.image;

test('never rolled out, gate closed, Enforce: held at 0 replicas with the gate reason', () => {
  const d = decideRollout(input({ gate: closed, current: undefined }));
  assert.equal(d.replicas, 0);
  assert.equal(d.state, 'Held');
  assert.equal(d.held, true);
  assert.equal(d.reason, 'DomainsNotReady');
  assert.match(d.message, /rollout held: .*blocking \(1\): example\.org/);
});

test('never rolled out, gate closed, Warn: rolls out anyway', () => {
  const d = decideRollout(input({ gate: closed, mode: 'Warn' }));
  assert.equal(d.replicas, 2);
  assert.equal(d.state, 'Progressing');
  assert.equal(d.reason, 'ChecksNotBlocking');
});

test('gate opens for the first time: rolls out the desired template with an Event', () => {
  const d = decideRollout(input({}));
  assert.equal(d.replicas, 2);
  assert.equal(image(d), 'bm-mapi:1');
  assert.equal(d.events[0]?.reason, 'RolloutStarted');
  assert.ok(d.annotations[ROLLOUT_STARTED_ANNOTATION]);
});

test('held at 0 replicas before, still held: the held Deployment does not count as released', () => {
  const zero = running(v1, { replicas: 0 }, {});
  delete zero.annotations[LAST_GOOD_TEMPLATE_ANNOTATION];
  delete zero.annotations[ROLLOUT_STARTED_ANNOTATION];
  const d = decideRollout(input({ gate: closed, current: zero }));
  assert.equal(d.replicas, 0);
  assert.equal(d.state, 'Held');
});

test('running, spec changed, gate closed: keeps the running template and replicas, holds the new one', () => {
  const d = decideRollout(input({ gate: closed, desiredTemplate: v2, specReplicas: 4, current: running() }));
  assert.equal(image(d), 'bm-mapi:1');
  assert.equal(d.replicas, 2);
  assert.equal(d.state, 'Held');
  assert.match(d.message, /bm-mapi:2.*held.*bm-mapi:1 keeps running/);
});

test('running, spec changed, Warn with gate closed: rolls out', () => {
  const d = decideRollout(input({ gate: closed, mode: 'Warn', desiredTemplate: v2, current: running() }));
  assert.equal(image(d), 'bm-mapi:2');
  assert.equal(d.state, 'Progressing');
});

test('running, gate closes (DNS blip): never scales down', () => {
  const d = decideRollout(input({ gate: closed, specReplicas: 2, current: running() }));
  assert.equal(d.replicas, 2);
  assert.equal(image(d), 'bm-mapi:1');
  assert.equal(d.state, 'Available');
});

test('new template fully up and probes of it pass after the rollout started: becomes the last good template', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:59:00.000Z' });
  const d = decideRollout(input({ desiredTemplate: v2, current: cur, serving: { status: 'Passed', message: 'ok', checkedAt: now, release: releaseUnderProbe(cur) } }));
  assert.equal(d.state, 'Available');
  assert.equal(JSON.parse(d.annotations[LAST_GOOD_TEMPLATE_ANNOTATION]!).spec.containers[0].image, 'bm-mapi:2');
  assert.equal(d.events[0]?.reason, 'RolloutSucceeded');
});

test('probes made while the old pods still answered do not prove the new template, even after it started', () => {
  // The template changed at 11:59:00; a probe at 11:59:30 reached the old pods (v2's were not
  // all Ready: its release key said "rolling"). Now all v2 pods run: that Passed says nothing.
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:59:00.000Z' });
  const rolling = releaseUnderProbe({ ...cur, status: { ...cur.status, updatedReplicas: 1, readyReplicas: 1 } });
  assert.notEqual(rolling, releaseUnderProbe(cur));
  const d = decideRollout(input({ desiredTemplate: v2, current: cur, serving: { status: 'Passed', message: 'ok', checkedAt: new Date('2026-11-22T11:59:30Z'), release: rolling } }));
  assert.equal(d.state, 'Progressing');
  assert.equal(d.reason, 'WaitingForProbes');
  assert.equal(d.annotations[LAST_GOOD_TEMPLATE_ANNOTATION], JSON.stringify(v1), 'v2 is not recorded as good');
  // Past the deadline with no probe of the rolled-out release: rolled back, not kept.
  const late = decideRollout(input({ desiredTemplate: v2, current: cur, now: new Date('2026-11-22T12:01:00Z'), serving: { status: 'Passed', message: 'ok', checkedAt: new Date('2026-11-22T11:59:30Z'), release: rolling } }));
  assert.equal(late.state, 'RolledBack');
  assert.equal(image(late), 'bm-mapi:1');
});

test('probe results from before the rollout do not prove the new template', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:59:30.000Z' });
  const d = decideRollout(input({ desiredTemplate: v2, current: cur, serving: { status: 'Passed', message: 'ok', checkedAt: new Date('2026-11-22T11:59:00Z'), release: releaseUnderProbe(cur) } }));
  assert.equal(d.state, 'Progressing');
  assert.equal(d.reason, 'WaitingForProbes');
});

test('new pods up but probes fail past the deadline: rolled back to the last good template, Degraded, Warning Event', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:58:00.000Z' });
  const d = decideRollout(input({ desiredTemplate: v2, current: cur, serving: { status: 'Failed', message: 'POST /mapi/emsmdb/ answered 503', checkedAt: now } }));
  assert.equal(d.state, 'RolledBack');
  assert.equal(image(d), 'bm-mapi:1');
  assert.ok(d.degraded);
  assert.equal(d.events[0]?.type, 'Warning');
  assert.match(d.message, /rolled back from bm-mapi:2 to bm-mapi:1.*503/);
  assert.ok(d.annotations[FAILED_TEMPLATE_HASH_ANNOTATION]);

  // Next reconcile: the spec still asks for bm-mapi:2; it is not retried until the spec changes.
  const after = decideRollout(input({ desiredTemplate: v2, current: running(v1, {}, d.annotations) }));
  assert.equal(image(after), 'bm-mapi:1');
  assert.equal(after.state, 'RolledBack');
  const v3 = desiredServerPodTemplate(mapiServer({ image: 'bm-mapi:3' }));
  assert.equal(image(decideRollout(input({ desiredTemplate: v3, current: running(v1, {}, d.annotations) }))), 'bm-mapi:3');
});

test('failing within the deadline: keeps waiting', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:59:50.000Z' });
  const d = decideRollout(input({ desiredTemplate: v2, current: cur, serving: { status: 'Failed', message: '503', checkedAt: now } }));
  assert.equal(d.state, 'Progressing');
  assert.equal(image(d), 'bm-mapi:2');
  assert.ok(d.requeueAfterMs);
});

test('Warn mode: a failing release is reported, not rolled back', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:50:00.000Z' });
  const d = decideRollout(input({ mode: 'Warn', desiredTemplate: v2, current: cur, serving: { status: 'Failed', message: '503', checkedAt: now } }));
  assert.equal(image(d), 'bm-mapi:2');
  assert.ok(d.degraded);
  assert.notEqual(d.state, 'RolledBack');
});

const stalled = { reason: 'HostConflict', message: 'spec.externalHost mail.hoster.example is already served by MapiServer other/first' };

test('stalled, never rolled out: held at 0 even in Warn mode with the gate open', () => {
  for (const mode of ['Enforce', 'Warn'] as const) {
    const d = decideRollout(input({ mode, gate: open, stalled, current: undefined }));
    assert.deepEqual([d.replicas, d.state, d.held, d.reason], [0, 'Held', true, 'HostConflict'], mode);
  }
});

test('stalled, running, spec changed, Warn: the new template is not released and nothing scales down', () => {
  const d = decideRollout(input({ mode: 'Warn', gate: closed, stalled, desiredTemplate: v2, specReplicas: 1, current: running() }));
  assert.equal(image(d), 'bm-mapi:1');
  assert.equal(d.replicas, 2);
  assert.deepEqual([d.state, d.held, d.reason], ['Held', true, 'HostConflict']);
  assert.match(d.message, /bm-mapi:1 keeps running unchanged; bm-mapi:2 is held while the server is stalled/);
  assert.deepEqual(d.events, []);
});

test('stalled while a new release fails past the deadline: frozen, not rolled back (nothing moves)', () => {
  const cur = running(v2, {}, { [ROLLOUT_STARTED_ANNOTATION]: '2026-11-22T11:50:00.000Z' });
  const d = decideRollout(input({ stalled, desiredTemplate: v2, current: cur, serving: { status: 'Failed', message: '503', checkedAt: now } }));
  assert.equal(image(d), 'bm-mapi:2');
  assert.equal(d.replicas, 2);
  assert.deepEqual(d.annotations, cur.annotations);
});

test('gate closed in Enforce, user lowers spec.replicas: the running count stays until the gate opens', () => {
  const d = decideRollout(input({ gate: closed, specReplicas: 1, current: running() }));
  assert.equal(d.replicas, 2);
  assert.equal(decideRollout(input({ gate: open, specReplicas: 1, current: running() })).replicas, 1);
});
