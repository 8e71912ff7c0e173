import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studentT975, trend } from '../../../bench/measure.ts';

// Minute samples over hours, as the soak takes them: [hours, value].
const minutes = (n: number, f: (minute: number) => number): Array<[number, number]> =>
  Array.from({ length: n }, (_, i) => [i / 60, f(i)]);

// A fixed pseudo-random sequence (a linear congruential generator): the same noise every run.
function noise(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  };
}

test('a straight line: its slope, and no uncertainty', () => {
  const t = trend(minutes(120, (m) => 100 + m / 10)); // +0.1 per minute = +6 per hour
  assert.ok(Math.abs(t.slope - 6) < 1e-9, `${t.slope}`);
  assert.ok(t.ci95 < 1e-6, `${t.ci95}`);
});

test('flat noise: an interval that holds 0', () => {
  const r = noise(7);
  const t = trend(minutes(120, () => 100 + 4 * r()));
  assert.ok(Math.abs(t.slope) < t.ci95, `${t.slope} ± ${t.ci95}`);
});

test('a slow growth under noise: an interval that excludes 0 and holds the true slope', () => {
  const r = noise(11);
  const t = trend(minutes(120, (m) => 100 + m * (3 / 60) + 4 * r())); // +3 per hour
  assert.ok(t.slope - t.ci95 > 0, `${t.slope} ± ${t.ci95}`);
  assert.ok(Math.abs(t.slope - 3) < t.ci95, `${t.slope} ± ${t.ci95}`);
});

test('a flat sawtooth seen over two teeth: not called a trend, because neighbours are alike', () => {
  // A heap that fills for 30 minutes and is collected, over one hour: the least-squares line
  // rises (the window ends high in a tooth); the samples are worth far fewer than 60.
  const t = trend(minutes(60, (m) => 100 + 8 * ((m % 30) / 30)));
  assert.ok(t.slope > 2, `${t.slope}`);
  assert.ok(t.effectiveN < 15, `${t.effectiveN}`);
  assert.ok(Math.abs(t.slope) < t.ci95, `${t.slope} ± ${t.ci95}`);
});

test("Student's t quantile against the table", () => {
  for (const [df, table] of [[1, 12.706], [2, 4.303], [3, 3.182], [5, 2.571], [10, 2.228], [30, 2.042], [120, 1.98]] as const) {
    assert.ok(Math.abs(studentT975(df) / table - 1) < 0.008, `df ${df}: ${studentT975(df)} against ${table}`);
  }
});

test('too few samples: no interval', () => {
  assert.ok(Number.isNaN(trend([[0, 1]]).slope));
  assert.equal(trend([[0, 1], [1, 3]]).slope, 2);
  assert.ok(Number.isNaN(trend([[0, 1], [1, 3]]).ci95));
});
