import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { carryTransitionTimes, jsonEqual, statusChanged } from '../../../src/kube/status-diff.ts';
import { ManualClock } from '../../../src/kube/clock.ts';

const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
const at = (ms: number) => new Date(ms).toISOString();

function cond(type: string, status: string, time: string, reason = 'Because') {
  return { type, status, reason, message: `${type} is ${status}`, observedGeneration: 1, lastTransitionTime: time };
}

describe('statusChanged', () => {
  const t0 = at(clock.now());
  clock.advance(60_000);
  const t1 = at(clock.now());
  const current = {
    observedGeneration: 1,
    conditions: [cond('Ready', 'True', t0), cond('Reconciling', 'False', t0)],
    checks: [{ type: 'dns/autodiscover.example.com', name: 'dns/autodiscover.example.com', status: 'Passed', lastTransitionTime: t0 }],
  };

  const cases: Array<{ name: string; desired: unknown; changed: boolean }> = [
    { name: 'identical', desired: structuredClone(current), changed: false },
    {
      name: 'only a fresh lastTransitionTime on conditions whose status stayed',
      desired: { ...current, conditions: [cond('Ready', 'True', t1), cond('Reconciling', 'False', t1)] },
      changed: false,
    },
    {
      name: 'a condition status flipped',
      desired: { ...current, conditions: [cond('Ready', 'False', t1), cond('Reconciling', 'False', t1)] },
      changed: true,
    },
    {
      name: 'same status, new reason',
      desired: { ...current, conditions: [cond('Ready', 'True', t1, 'Other'), cond('Reconciling', 'False', t0)] },
      changed: true,
    },
    { name: 'observedGeneration moved', desired: { ...current, observedGeneration: 2 }, changed: true },
    { name: 'a condition removed', desired: { ...current, conditions: [cond('Ready', 'True', t0)] }, changed: true },
    {
      name: 'nested check rows keep their time when unchanged',
      desired: { ...current, checks: [{ ...current.checks[0], lastTransitionTime: t1 }] },
      changed: false,
    },
    { name: 'undefined fields count as absent', desired: { ...current, rollout: undefined }, changed: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(statusChanged(current, c.desired), c.changed));
  }

  it('treats a missing status like an empty one', () => {
    assert.equal(statusChanged(undefined, {}), false);
    assert.equal(statusChanged(undefined, { observedGeneration: 1 }), true);
  });
});

describe('carryTransitionTimes', () => {
  it('keeps the old time when the status stayed and the new time when it changed, without touching inputs', () => {
    const current = { conditions: [cond('Ready', 'True', 'old'), cond('Stalled', 'False', 'old')] };
    const desired = { conditions: [cond('Ready', 'True', 'new'), cond('Stalled', 'True', 'new'), cond('Fresh', 'True', 'new')] };
    const out = carryTransitionTimes(current, desired);
    assert.deepEqual(out.conditions.map((c) => c.lastTransitionTime), ['old', 'new', 'new']);
    assert.equal(desired.conditions[0]?.lastTransitionTime, 'new');
  });
});

describe('jsonEqual', () => {
  it('compares JSON values structurally', () => {
    assert.equal(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
    assert.equal(jsonEqual({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.equal(jsonEqual({ a: 1 }, { a: 1, b: null }), false);
    assert.equal(jsonEqual([], {}), false);
  });
});
