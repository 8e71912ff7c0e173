// A MailDomain's cached status shares its check rows' names and messages with the last run's
// rows: the apiserver sends back what the operator wrote, and at 5,000 MailDomains the second
// copies were ~4.6 MiB (a heap snapshot). Strings compare by value in JavaScript, so sharing
// shows in the heap: the received copy's strings must be collectable once adopted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settledHeap } from '../../support/gc.ts';
import type { Logger } from 'pino';
import { adoptMailDomainRunRows, forgetRunRows, rememberRunRows, rememberedRunRows, shareLastRunStrings } from '../../../src/controllers/checks/run-row-strings.ts';
import { StringPool } from '../../../src/kube/index.ts';
import { CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import type { CheckResult, CheckTarget } from '../../../src/checks/types.ts';
import type { KubeClient, KubeObject } from '../../../src/kube/index.ts';


const row = (name: string, message: string): CheckResult => ({ name, status: 'Passed', reason: 'Passed', message, details: {} });
/** The status the operator writes from a run's rows, as the informer parses it back. */
const received = (namespace: string, name: string, rows: readonly CheckResult[]): KubeObject => JSON.parse(JSON.stringify({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { namespace, name, resourceVersion: '7' },
  status: { checks: rows.map((r) => ({ name: r.name, status: r.status, reason: r.reason, message: r.message, lastTransitionTime: '2026-12-06T00:00:00Z' })) },
})) as KubeObject;

test('a received MailDomain status adopts the last run\'s row strings: its own copies are freed', () => {
  const domains = 1_000;
  const runs = Array.from({ length: domains }, (_, i) => [
    row(`dns/autodiscover.d${i}.example`, `autodiscover.d${i}.example resolves to 192.0.2.1, the address of mail.example ${'.'.repeat(1000)}`),
    row(`tls/autodiscover.d${i}.example`, `autodiscover.d${i}.example: trusted certificate ${'.'.repeat(1000)}`),
  ]);
  runs.forEach((rows, i) => rememberRunRows(runs, 'MailDomain', `hosted/d${i}`, rows));
  try {
    const bytes = runs.flat().reduce((n, r) => n + r.name.length + r.message.length, 0);
    const live = runs.map((rows, i) => received('hosted', `d${i}`, rows));
    const before = settledHeap();
    for (const obj of live) assert.equal(adoptMailDomainRunRows(obj), obj, 'the same object, changed in place');
    const freed = before - settledHeap();
    assert.ok(freed > bytes * 0.9, `freed ${freed} of the received copies' ${bytes} bytes`);
    assert.deepEqual(live, runs.map((rows, i) => received('hosted', `d${i}`, rows)), 'the same content');
  } finally {
    runs.forEach((_, i) => forgetRunRows('MailDomain', `hosted/d${i}`));
  }
});

test('a new run\'s rows keep the last run\'s strings where equal: the status adopted those, and the new copies are freed', () => {
  const domains = 1_000;
  // Built at run time, as the checks build them: equal values are distinct strings. Joined, so
  // that they are flat: comparing a rope flattens it, a new string the measure would count.
  const text = (...parts: unknown[]) => parts.join('');
  const rowsOf = (i: number) => [
    row(text('dns/autodiscover.d', i, '.example'), text('autodiscover.d', i, '.example resolves to 192.0.2.1 ', '.'.repeat(1000))),
    row(text('tls/autodiscover.d', i, '.example'), text('autodiscover.d', i, '.example: trusted certificate ', '.'.repeat(1000))),
  ];
  const pool = new StringPool();
  const first = Array.from({ length: domains }, (_, i) => shareLastRunStrings('MailDomain', `hosted/r${i}`, rowsOf(i), pool));
  first.forEach((rows, i) => rememberRunRows(first, 'MailDomain', `hosted/r${i}`, rows));
  try {
    const bytes = first.flat().reduce((n, r) => n + r.name.length + r.message.length, 0);
    const second = Array.from({ length: domains }, (_, i) => rowsOf(i));
    const before = settledHeap();
    second.forEach((rows, i) => shareLastRunStrings('MailDomain', `hosted/r${i}`, rows, pool));
    const freed = before - settledHeap();
    assert.ok(freed > bytes * 0.9, `freed ${freed} of the new run's ${bytes} bytes of equal strings`);
    assert.deepEqual(second, Array.from({ length: domains }, (_, i) => rowsOf(i)), 'the same content');

    // A row whose message changed keeps its own message, and its name is the last run's.
    const changed = [row('dns/autodiscover.d0.example', 'NXDOMAIN now'), row('http/new.example', 'a row the last run did not have')];
    shareLastRunStrings('MailDomain', 'hosted/r0', changed, pool);
    assert.deepEqual(changed.map((r) => r.message), ['NXDOMAIN now', 'a row the last run did not have']);
    assert.ok(pool.has('NXDOMAIN now') && pool.has('a row the last run did not have'), 'what changed is pooled, as a new row is');
  } finally {
    first.forEach((_, i) => forgetRunRows('MailDomain', `hosted/r${i}`));
  }
});

test('a row that differs, a resource never checked, or a status without rows is kept as received', () => {
  rememberRunRows(test, 'MailDomain', 'hosted/changed', [row('dns/a.example', 'the run says this')]);
  try {
    const changed = received('hosted', 'changed', [row('dns/a.example', 'the status says that'), row('tls/a.example', 'not in the run')]);
    adoptMailDomainRunRows(changed);
    assert.deepEqual((changed.status as { checks: { message: string }[] }).checks.map((c) => c.message), ['the status says that', 'not in the run']);
    const stranger = received('hosted', 'never-checked', [row('dns/b.example', 'x')]);
    assert.deepEqual(adoptMailDomainRunRows(structuredClone(stranger)), stranger);
    const bare = { apiVersion: 'v1', kind: 'MailDomain', metadata: { namespace: 'hosted', name: 'changed' } } as KubeObject;
    assert.deepEqual(adoptMailDomainRunRows(structuredClone(bare)), bare);
  } finally {
    forgetRunRows('MailDomain', 'hosted/changed');
  }
});

test('CheckRuns remembers each run\'s rows and drops them when the resource is forgotten or the runs stop', async () => {
  const target: CheckTarget = { domain: 'x.example', aliases: [], externalHost: 'mail.example', autodiscoverHosts: [], require: 'Any', nameservers: [], includeHttp: true };
  const log = { warn() {}, info() {}, debug() {}, error() {} } as unknown as Logger;
  const before = rememberedRunRows();
  let ran = 0;
  let bothRan: () => void = () => {};
  const done = new Promise<void>((resolve) => { bothRan = resolve; });
  const runs = new CheckRuns({
    client: {} as KubeClient, log, onChange: () => {},
    runChecks: async () => [row('dns/autodiscover.x.example', 'ok')],
    onRun: () => { if (++ran === 2) bothRan(); },
  });
  try {
    for (const d of ['one', 'two']) runs.ensure('MailDomain', `hosted/${d}`, { target, intervalMs: 60_000, namespace: 'hosted' });
    await Promise.race([done, new Promise((_r, reject) => setTimeout(() => reject(new Error('the runs did not finish')), 10_000))]);
    assert.equal(rememberedRunRows(), before + 2);
    runs.forget('MailDomain', 'hosted/one');
    assert.equal(rememberedRunRows(), before + 1);
  } finally {
    await runs.stop();
  }
  assert.equal(rememberedRunRows(), before, 'nothing left once the runs stopped');
});
