// The benchmark counts one client's requests from the apiserver's audit log: each request
// once (a watch when it starts, anything else when it completes), only that user's, only in
// the window; a line cut off by the reader racing the writer is skipped, not fatal.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { auditCounts, auditWrites } from '../../../src/dev/audit-log.ts';

const event = (o: { user: string; verb: string; stage: string; resource: string; subresource?: string; name?: string; at: string; body?: object }) => JSON.stringify({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: o.body ? 'Request' : 'Metadata', stage: o.stage, verb: o.verb,
  user: { username: o.user, groups: ['system:masters'] },
  objectRef: { resource: o.resource, namespace: 'scale', ...(o.subresource ? { subresource: o.subresource } : {}), ...(o.name ? { name: o.name } : {}), apiVersion: 'v1' },
  requestReceivedTimestamp: o.at, ...(o.body ? { requestObject: o.body } : {}),
});

describe('audit log counts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'audit-'));
  const log = path.join(dir, 'audit.log');
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(log, [
    event({ user: 'op', verb: 'watch', stage: 'ResponseStarted', resource: 'mailboxes', at: '2026-01-01T00:00:01.000000Z' }),
    event({ user: 'op', verb: 'patch', stage: 'ResponseComplete', resource: 'mailboxes', subresource: 'status', name: 'm1', at: '2026-01-01T00:00:02.000000Z', body: { status: { mapiEnabled: true } } }),
    event({ user: 'op', verb: 'get', stage: 'ResponseComplete', resource: 'configmaps', name: 'c', at: '2026-01-01T00:00:03.000000Z' }),
    event({ user: 'cert-manager', verb: 'patch', stage: 'ResponseComplete', resource: 'certificates', name: 'x', at: '2026-01-01T00:00:03.000000Z' }),
    event({ user: 'op', verb: 'create', stage: 'ResponseComplete', resource: 'events', at: '2026-01-01T00:00:09.000000Z', body: { reason: 'Ready' } }),
    event({ user: 'op', verb: 'watch', stage: 'ResponseComplete', resource: 'mailboxes', at: '2026-01-01T00:00:01.000000Z' }),
    '{"kind":"Event","user":{"username":"op"},"verb":"pat',
  ].join('\n'));
  const t = (s: number) => Date.parse(`2026-01-01T00:00:0${s}Z`);

  it('by verb and resource, a watch once, nobody else\'s, within the window', async () => {
    assert.deepEqual(Object.fromEntries(await auditCounts(log, { user: 'op' })), { 'WATCH mailboxes': 1, 'PATCH mailboxes/status': 1, 'GET configmaps': 1, 'POST events': 1 });
    assert.deepEqual(Object.fromEntries(await auditCounts(log, { user: 'op', from: t(2), to: t(9) })), { 'PATCH mailboxes/status': 1, 'GET configmaps': 1 });
    assert.deepEqual(Object.fromEntries(await auditCounts(log, { user: 'cert-manager' })), { 'PATCH certificates': 1 });
  });

  it('the writes with their bodies, the first `max`', async () => {
    const writes = await auditWrites(log, { user: 'op' }, 1);
    assert.deepEqual(writes, [{ at: '2026-01-01T00:00:02.000000Z', verb: 'PATCH', resource: 'mailboxes/status', namespace: 'scale', name: 'm1', body: '{"status":{"mapiEnabled":true}}' }]);
    assert.equal((await auditWrites(log, { user: 'op' }, 10)).length, 2);
  });
});
