// A resource's latest check results go through the string pool the informers parse objects
// with: the status written from those rows comes back by watch as the same strings, so the
// names and messages are held once, not once in the results and again in the cached status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { StringPool } from '../../../src/kube/index.ts';
import type { CheckResult, CheckTarget } from '../../../src/checks/types.ts';
import type { KubeClient } from '../../../src/kube/index.ts';

const log = { warn() {}, info() {}, debug() {}, error() {} } as unknown as Logger;
const target: CheckTarget = { domain: 'example.com', aliases: [], externalHost: 'mail.hoster.example', autodiscoverHosts: [], require: 'Any', nameservers: [], includeHttp: false };

test('the rows of a run are pooled: their messages (and reasons) are in the pool once the run ends', async () => {
  const pool = new StringPool();
  const message = ['autodiscover.example.com: trusted certificate for autodiscover.example.com', 'valid until 2027-02-28T00:00:00.000Z'].join(', ');
  const rows: CheckResult[] = [{ name: 'tls/autodiscover.example.com', status: 'Passed', reason: 'CertificateValid', message, details: {} }];
  let ran!: () => void;
  const done = new Promise<void>((resolve) => { ran = resolve; });
  const runs = new CheckRuns({
    client: {} as KubeClient, log, stringPool: pool, onChange: () => {},
    runChecks: async () => rows.map((r) => ({ ...r })),
    onRun: () => ran(),
  });
  try {
    runs.ensure('MailDomain', 'tenant/example', { target, intervalMs: 60_000, namespace: 'tenant' });
    await Promise.race([done, new Promise((_r, reject) => setTimeout(() => reject(new Error('no run within 10 s')), 10_000))]);
    assert.deepEqual(runs.snapshot('MailDomain', 'tenant/example')?.results.map((r) => [r.name, r.message]), [[rows[0]!.name, message]]);
    const size = pool.size;
    assert.ok(size >= 1, `pooled ${size} strings`);
    // Interning what the status will carry finds them there: nothing new is added. (A row's
    // `name`, like an object's, is unique to it: the pool leaves names out.)
    for (const s of [message, 'Passed', 'CertificateValid']) pool.intern(s);
    assert.equal(pool.size, size);
  } finally {
    await runs.stop();
  }
});
