// The cache's sharing pools hold their conditions and statuses weakly: what no cached object
// holds any more leaves the pool (the 2-hour soak's heap grew by the conditions of objects
// long gone, up to the pool's bound), what is still held stays shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gc } from '../../support/gc.ts';
import { setImmediate as tick } from 'node:timers/promises';
import { ConditionPool, shareConditions, StatusPool } from '../../../src/kube/informer.ts';
import { WeakValueMap } from '../../../src/kube/weak-value-map.ts';


/** Collects until `done` holds (finalizers run after a collection, on a later turn). */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    gc();
    await tick();
    if (done()) return true;
  }
  return false;
}

const condition = (i: number) => ({ type: 'Ready', status: 'False', reason: 'Waiting', message: `object ${i} is on its way`, lastTransitionTime: '2026-12-02T15:00:00Z' });

test('WeakValueMap: an entry goes once nothing else holds its value; a held one stays', async () => {
  const map = new WeakValueMap<string, object>();
  const kept = { kept: true };
  map.set('kept', kept);
  (() => { for (let i = 0; i < 1000; i++) map.set(`gone-${i}`, { i }); })();
  assert.equal(map.size, 1001);
  assert.ok(await collectUntil(() => map.size === 1), `size ${map.size} after collections`);
  assert.equal(map.get('kept'), kept);
  assert.equal(map.get('gone-1'), undefined);
});

test('ConditionPool: the conditions of objects no longer held leave the pool; equal lists still held are still shared', async () => {
  const pool = new ConditionPool();
  const held = shareConditions({ status: { conditions: [condition(0)] } }, pool, new StatusPool());
  (() => { for (let i = 1; i <= 2000; i++) shareConditions({ status: { conditions: [condition(i)] } }, pool, new StatusPool()); })();
  assert.equal(pool.size, 2 * 2001, 'a condition and a list each');
  assert.ok(await collectUntil(() => pool.size === 2), `size ${pool.size} after collections`);
  const again = shareConditions({ status: { conditions: [condition(0)] } }, pool, new StatusPool());
  assert.equal(again.status.conditions, held.status.conditions, 'the held list is still the shared one');
});

test('StatusPool: statuses of objects no longer held leave the pool', async () => {
  const statuses = new StatusPool();
  const conditions = new ConditionPool();
  const held = shareConditions({ status: { observedGeneration: 1, mapiEnabled: true, conditions: [condition(0)] } }, conditions, statuses);
  (() => { for (let i = 2; i <= 1000; i++) shareConditions({ status: { observedGeneration: i, mapiEnabled: true, conditions: [condition(0)] } }, conditions, statuses); })();
  assert.equal(statuses.size, 1000);
  assert.ok(await collectUntil(() => statuses.size === 1), `size ${statuses.size} after collections`);
  const again = shareConditions({ status: { observedGeneration: 1, mapiEnabled: true, conditions: [condition(0)] } }, conditions, statuses);
  assert.equal(again.status, held.status);
});
