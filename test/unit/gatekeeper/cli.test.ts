import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatekeeperCommand, gatekeeperEnvName } from '../../../src/cli/gatekeeper-command.ts';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string; stdout: string }> {
  let stderr = '';
  let stdout = '';
  const err = process.stderr.write.bind(process.stderr);
  const out = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string) => { stderr += chunk; return true; }) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string) => { stdout += chunk; return true; }) as typeof process.stdout.write;
  try {
    return { code: await gatekeeperCommand(argv, env), stderr, stdout };
  } finally {
    process.stderr.write = err;
    process.stdout.write = out;
  }
}

test('flags have MAPI_GATEKEEPER_* environment equivalents', () => {
  assert.equal(gatekeeperEnvName('upstream-port'), 'MAPI_GATEKEEPER_UPSTREAM_PORT');
  assert.equal(gatekeeperEnvName('drain-timeout'), 'MAPI_GATEKEEPER_DRAIN_TIMEOUT');
});

test('usage errors name the flag and the fix, exit 2', async () => {
  const missing = await run(['--listen-port', '18080']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--upstream-port is required: the port the MAPI server listens on in the pod/);
  const badPort = await run(['--upstream-port', '70000']);
  assert.match(badPort.stderr, /--upstream-port=70000: must be a port number from 0 to 65535/);
  const badDrain = await run(['--upstream-port', '8080'], { MAPI_GATEKEEPER_DRAIN_TIMEOUT: 'soon' });
  assert.match(badDrain.stderr, /--drain-timeout: "soon" is not a duration/);
  const badHeader = await run(['--upstream-port', '8080', '--max-header-size', '10']);
  assert.match(badHeader.stderr, /--max-header-size=10: must be a number of bytes from 1024 to 1048576/);
  const unknown = await run(['--upstream-port', '8080', '--listen', '1']);
  assert.equal(unknown.code, 2);
});

test('--help documents every flag with its environment variable', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  for (const flag of ['listen-port', 'upstream-port', 'access-dir', 'metrics-port', 'drain-timeout', 'log-level']) {
    assert.match(help.stdout, new RegExp(`--${flag} .*${gatekeeperEnvName(flag)}`));
  }
});
