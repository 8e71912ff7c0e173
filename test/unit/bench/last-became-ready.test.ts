import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastBecameReady } from '../../../bench/scale/readiness.ts';

const obj = (ready: string, at?: string) => ({
  metadata: { name: 'x' },
  status: { conditions: [{ type: 'Reconciling', status: 'False', lastTransitionTime: '2026-12-04T17:00:00Z' }, { type: 'Ready', status: ready, ...(at ? { lastTransitionTime: at } : {}) }] },
});

test('the latest Ready transition among the objects, from their own conditions', () => {
  assert.equal(
    lastBecameReady([obj('True', '2026-12-04T16:44:10Z'), obj('True', '2026-12-04T16:45:59Z'), obj('True', '2026-12-04T16:02:00Z')]),
    Date.parse('2026-12-04T16:45:59Z'),
  );
});

test('none while one is not Ready or does not say when it became Ready', () => {
  assert.equal(lastBecameReady([obj('True', '2026-12-04T16:44:10Z'), obj('False', '2026-12-04T16:50:00Z')]), undefined);
  assert.equal(lastBecameReady([obj('True', '2026-12-04T16:44:10Z'), obj('True')]), undefined);
  assert.equal(lastBecameReady([]), undefined);
});
