// The installed command, as a person runs it after `npm ci` (prepare builds dist/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.join(import.meta.dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('npx mapi-operator --help and --version work from the built package', async () => {
  assert.ok(existsSync(path.join(root, pkg.bin['mapi-operator']!)), 'dist is built by npm prepare (npm ci)');
  const help = await run('npx', ['--no-install', 'mapi-operator', '--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: mapi-operator <command>/);
  assert.match(help.stdout, /run\s+run the operator/);
  assert.match(help.stdout, /check\s+run the Outlook readiness checks/);
  const version = await run('npx', ['--no-install', 'mapi-operator', '--version']);
  assert.equal(version.stdout.trim(), `mapi-operator ${pkg.version}`);
});

test('usage errors exit 2 and name the flag and the fix', async () => {
  const main = path.join(root, 'src/cli/main.ts');
  const unknown = await run(process.execPath, [main, 'bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "bogus"; run "mapi-operator --help"/);
  const badFlag = await run(process.execPath, [main, 'run', '--concurrency', '0']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--concurrency=0: must be a whole number of at least 1/);
  const badMailboxFlag = await run(process.execPath, [main, 'run', '--mailbox-concurrency', 'many']);
  assert.equal(badMailboxFlag.code, 2);
  assert.match(badMailboxFlag.stderr, /--mailbox-concurrency=many: must be a whole number of at least 1/);
  const badDuration = await run(process.execPath, [main, 'run', '--resync-period', 'soon']);
  assert.equal(badDuration.code, 2);
  assert.match(badDuration.stderr, /--resync-period: "soon" is not a duration: write it like 30s, 5m or 1h30m/);
  const runHelp = await run(process.execPath, [main, 'run', '--help']);
  assert.equal(runHelp.code, 0);
  assert.match(runHelp.stdout, /--leader-elect/);
  assert.match(runHelp.stdout, /MAPI_OPERATOR_LABEL_SELECTOR/);
  assert.match(runHelp.stdout, /--mailbox-concurrency N +Mailboxes reconciled at once \(default 16, at least --concurrency\) +MAPI_OPERATOR_MAILBOX_CONCURRENCY/);
});
