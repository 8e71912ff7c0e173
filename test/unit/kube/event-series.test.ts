// The event recorder's series bookkeeping, against a client that records requests: a repeat
// within the window joins its series, one past it starts a new Event whether or not the
// expired series was swept yet, and expired series are dropped by a sweep at most once a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from '../../../src/kube/events.ts';
import { ManualClock } from '../../../src/kube/clock.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/client.ts';

function recordingClient() {
  const calls: Array<{ method: string; path: string }> = [];
  const client = { request: async (o: { method: string; path: string }) => { calls.push({ method: o.method, path: o.path }); return {}; } } as unknown as KubeClient;
  return { client, calls, posts: () => calls.filter((c) => c.method === 'POST').length };
}

const domain = (name: string): KubeObject => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { namespace: 'tenant-a', name, uid: `uid-${name}` } });
const WINDOW = 6 * 60_000;

test('a repeat within the window joins the series; past the window it is a new Event even before any sweep', async () => {
  const clock = new ManualClock(1_000_000);
  const api = recordingClient();
  const recorder = new EventRecorder({ client: api.client, instance: 'test', clock, seriesUpdateMs: 30_000 });
  await recorder.warning(domain('d1'), 'AutodiscoverNotPublished', 'autodiscover.d1.test has no record');
  clock.advance(60_000);
  await recorder.warning(domain('d1'), 'AutodiscoverNotPublished', 'autodiscover.d1.test has no record');
  assert.equal(api.posts(), 1, 'the repeat joined the series');
  clock.advance(30_000); // the series write
  assert.equal(api.calls.filter((c) => c.method === 'PATCH').length, 1);
  // Past the window of the last observation; the sweep ran at the first record only.
  clock.advance(WINDOW);
  await recorder.warning(domain('d1'), 'AutodiscoverNotPublished', 'autodiscover.d1.test has no record');
  assert.equal(api.posts(), 2, 'a new Event, not a series update of an expired one');
  await recorder.flush();
});

test('expired series are dropped, by a sweep at most once a minute', async () => {
  const clock = new ManualClock(1_000_000);
  const api = recordingClient();
  const recorder = new EventRecorder({ client: api.client, instance: 'test', clock });
  const applied = (name: string) => recorder.normal(domain(name), 'Applied', `applied the children of ${name}`);
  for (let i = 0; i < 500; i++) await applied(`d${i}`);
  assert.equal(recorder.seriesCount, 500);
  clock.advance(WINDOW + 1);
  await applied('x'); // a sweep: the 500 expired series go
  assert.equal(recorder.seriesCount, 1);
  clock.advance(WINDOW - 10_000);
  await applied('w'); // a sweep; x is 10 s short of its window and stays
  assert.equal(recorder.seriesCount, 2);
  clock.advance(20_000);
  await applied('y'); // x has expired, but the last sweep was 20 s ago: none now
  assert.equal(recorder.seriesCount, 3);
  clock.advance(60_000);
  await applied('z'); // a minute after the last sweep: x goes
  assert.equal(recorder.seriesCount, 3);
  await recorder.flush();
});
