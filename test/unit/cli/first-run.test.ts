// The demo's first-run check (src/dev/first-run.ts) with a fake probe: what is missing, what
// it installs, and the exact command it names when it may not install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureFirstRunDependencies, FirstRunError, planFirstRun, type Probe } from '../../../src/dev/first-run.ts';

const probe = (over: Partial<{ go: string | undefined; have: string[]; canInstall: boolean }>): Probe => {
  const o = { go: 'go1.26.8', have: ['named', 'openssl'], canInstall: false, ...over };
  return { goVersion: async () => o.go, hasProgram: (n) => o.have.includes(n), canInstall: async () => o.canInstall };
};

test('a machine with Go 1.26, BIND and openssl needs nothing', async () => {
  assert.deepEqual(await planFirstRun(probe({})), { packages: [], blocking: [] });
  assert.deepEqual(await ensureFirstRunDependencies({ probe: probe({}), log: () => {} }), []);
});

test('missing BIND and openssl become packages; no Go or an old Go blocks with the fix named', async () => {
  assert.deepEqual((await planFirstRun(probe({ have: [] }))).packages, ['bind9', 'openssl']);
  assert.match((await planFirstRun(probe({ go: undefined }))).blocking[0]!, /Go 1\.26 or newer is needed .* https:\/\/go\.dev\/dl/);
  assert.match((await planFirstRun(probe({ go: 'go1.22.2' }))).blocking[0]!, /Go 1\.22\.2 is too old/);
  assert.deepEqual((await planFirstRun(probe({ go: 'go1.27.0' }))).blocking, []);
  assert.deepEqual((await planFirstRun(probe({ go: 'go2.0.1' }))).blocking, []);
});

test('when the user may not install, the error is the exact command', async () => {
  await assert.rejects(ensureFirstRunDependencies({ probe: probe({ have: ['openssl'] }), log: () => {} }), (e: unknown) =>
    e instanceof FirstRunError && /missing Debian packages bind9: run `sudo bash src\/dev\/install-test-deps\.sh` \(or sudo apt-get install -y bind9\)/.test(e.message));
  await assert.rejects(ensureFirstRunDependencies({ probe: probe({ go: undefined }), log: () => {} }), /Go 1\.26 or newer/);
});
