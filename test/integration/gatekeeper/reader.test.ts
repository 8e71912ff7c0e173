// The access list reader on a real directory: a volume that appears late, fs.watch lost, the
// kubelet's symlink swap, and the drain time-out that ends what is still open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { AccessReader } from '../../../src/gatekeeper/access-reader.ts';
import { decideAddress } from '../../../src/gatekeeper/access-list.ts';
import { accessFiles, autodiscover, eventually, KubeletDir, mapiHeaders, request, startRig } from './harness.ts';

const quiet = pino({ level: 'silent' });

test('a directory that is not there yet: no list (everything passes), then the list as soon as it appears', { timeout: 60_000 }, async () => {
  const parent = mkdtempSync(join(tmpdir(), 'gk-late-'));
  const dir = join(parent, 'access');
  let changes = 0;
  const reader = new AccessReader({ dir, logger: quiet, pollMs: 100, onChange: () => { changes++; } });
  try {
    await reader.start();
    assert.equal(reader.list, undefined);
    assert.match(reader.lastError ?? '', /ENOENT/);
    assert.deepEqual(decideAddress(reader.list, 'ken@example.com'), { allow: true, reason: 'no-list' });
    // The volume shows up later (fs.watch could not watch it at start: the periodic stat finds it).
    const kubelet = new KubeletDir(dir);
    mkdirSync(dir);
    kubelet.write(accessFiles({ domains: { 'example.com': true }, mailboxes: { 'ken@example.com': false } }));
    await eventually('the list is read once it exists', () => reader.list !== undefined);
    assert.deepEqual(decideAddress(reader.list, 'ken@example.com'), { allow: false, reason: 'mailbox-disabled' });
    assert.equal(reader.lastError, undefined);
    // Each swap is one reload, not one per file event.
    const before = changes;
    kubelet.write(accessFiles({ domains: { 'example.com': true }, mailboxes: { 'ken@example.com': true } }));
    await eventually('the swap is applied', () => decideAddress(reader.list, 'ken@example.com').allow);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(changes - before <= 2, `${changes - before} reloads for one swap`);
  } finally {
    reader.stop();
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a shard file that is missing keeps the previous list', { timeout: 60_000 }, async () => {
  const kubelet = new KubeletDir();
  const reader = new AccessReader({ dir: kubelet.dir, logger: quiet, pollMs: 100 });
  try {
    kubelet.write(accessFiles({ domains: { 'example.com': true }, mailboxes: { 'ken@example.com': false }, shards: 2 }));
    await reader.start();
    assert.equal(decideAddress(reader.list, 'ken@example.com').allow, false);
    const { 'mailboxes-1.json': _gone, ...partial } = accessFiles({ domains: { 'example.com': true }, mailboxes: {}, shards: 2 });
    kubelet.write(partial);
    await eventually('the incomplete list was refused', () => /mailboxes-1\.json/.test(reader.lastError ?? ''));
    assert.equal(decideAddress(reader.list, 'ken@example.com').allow, false);
  } finally {
    reader.stop();
    kubelet.remove();
  }
});

test('past the drain time-out, a long poll still open is cut and the gatekeeper stops', { timeout: 60_000 }, async () => {
  const user = 'pilar@example.com';
  const rig = await startRig([user], { domains: { 'example.com': true }, mailboxes: {} }, { drainTimeoutMs: 300 });
  try {
    await autodiscover(rig.url, user);
    const path = `/mapi/emsmdb/?MailboxId=${rig.server.mailboxIdOf(user)}@example.com`;
    const cookie = String((await request(rig.url, { path, headers: mapiHeaders('Connect', user) })).headers['set-cookie']).split(';')[0]!;
    const held = rig.server.holdNext();
    const closed = new Promise<boolean>((resolve, reject) => {
      const req = http.request(`${rig.url}${path}`, { method: 'POST', headers: mapiHeaders('NotificationWait', user, { Cookie: cookie }), agent: false }, (res) => {
        res.resume();
        res.on('close', () => resolve(res.complete));
      });
      req.on('error', reject);
      req.end();
    });
    await held.started;
    await rig.gatekeeper.drain();
    assert.equal(await closed, false, 'the long poll was cut, not completed');
    await held.closed;
  } finally {
    await rig.close();
  }
});
