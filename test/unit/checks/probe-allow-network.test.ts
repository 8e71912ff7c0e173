// --probe-allow-network: exactly the named networks are admitted besides public addresses,
// never link-local or metadata addresses, and a bad value stops `run` and `check` with an
// error naming the flag and what to write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseProbeNetwork, refusedAddressUnder, type ProbePolicy } from '../../../src/policy/probe-policy.ts';
import { parseCheckArgs } from '../../../src/cli/check-command.ts';

const root = path.join(import.meta.dirname, '..', '..', '..');

function policy(...networks: string[]): ProbePolicy {
  return {
    loopback: false, privateNetworks: false,
    allowNetworks: networks.map((n) => { const p = parseProbeNetwork(n); assert.ok(p.ok, n); return p.cidr; }),
  };
}

test('networks are read in canonical form; a single address is a /32 or /128', () => {
  assert.deepEqual(parseProbeNetwork('10.20.0.0/16'), { ok: true, cidr: '10.20.0.0/16' });
  assert.deepEqual(parseProbeNetwork(' 127.0.0.2 '), { ok: true, cidr: '127.0.0.2/32' });
  assert.deepEqual(parseProbeNetwork('2001:DB8:0:0::/48'), { ok: true, cidr: '2001:db8::/48' });
  assert.deepEqual(parseProbeNetwork('::1'), { ok: true, cidr: '::1/128' });
  assert.deepEqual(parseProbeNetwork('fd00::/8'), { ok: true, cidr: 'fd00::/8' }, 'the metadata address inside stays refused on its own');
});

test('a bad network says what to write', () => {
  const problem = (text: string) => { const p = parseProbeNetwork(text); return p.ok ? `accepted as ${p.cidr}` : p.problem; };
  assert.match(problem('mail.example.com'), /is not a network: write ADDRESS\/PREFIX, e\.g\. 10\.20\.0\.0\/16/);
  assert.match(problem('10.0.0.0/33'), /prefix length must be a whole number from 0 to 32/);
  assert.match(problem('10.0.0.0/'), /prefix length/);
  assert.match(problem('10.1.2.3/8'), /host bits set: did you mean 10\.0\.0\.0\/8\?/);
  assert.match(problem('2001:db8::1/48'), /did you mean 2001:db8::\/48\?/);
  assert.match(problem('::ffff:10.0.0.0/104'), /IPv4-mapped IPv6: write the IPv4 network/);
});

test('never link-local, metadata, unspecified or multicast: networks overlapping them are refused', () => {
  for (const [text, range] of [
    ['169.254.169.254/32', '169.254.0.0/16'], ['169.254.0.0/16', '169.254.0.0/16'], ['169.0.0.0/8', '169.254.0.0/16'],
    ['0.0.0.0/0', '169.254.0.0/16'], ['224.0.0.0/4', '224.0.0.0/3'], ['fe80::/64', 'fe80::/10'], ['::/0', 'fe80::/10'],
    ['fd00:ec2::254', 'fd00:ec2::254/128'], ['::', '::/128'],
  ] as const) {
    const parsed = parseProbeNetwork(text);
    assert.ok(!parsed.ok, `${text} must be refused`);
    assert.ok(parsed.problem.includes(`overlaps ${range}`), `${text}: ${parsed.problem}`);
  }
});

test('exactly the allowed networks are admitted besides public addresses', () => {
  const p = policy('127.0.0.2/32', '10.20.0.0/16', 'fd12:3456::/48');
  for (const address of ['127.0.0.2', '::ffff:127.0.0.2', '10.20.0.1', '10.20.255.254', 'fd12:3456::25', '203.0.113.7', '2001:db8::1']) {
    assert.equal(refusedAddressUnder(address, p), null, address);
  }
  const refused: [string, RegExp][] = [
    ['127.0.0.3', /loopback/], ['127.0.0.1', /loopback/], ['::1', /loopback/], ['10.21.0.1', /private \(10\.0\.0\.0\/8\).*probeAllowNetworks/],
    ['192.168.1.1', /private/], ['fd12:3457::1', /unique local/], ['169.254.169.254', /link-local .*metadata/],
  ];
  for (const [address, why] of refused) assert.match(refusedAddressUnder(address, p) ?? 'admitted', why, address);
});

test('an allowed network never admits what is refused everywhere', () => {
  // fd00::/8 is a valid ULA network; the AWS metadata address inside it stays refused.
  assert.match(refusedAddressUnder('fd00:ec2::254', policy('fd00::/8')) ?? 'admitted', /metadata endpoint/);
  assert.equal(refusedAddressUnder('fd00:ec2::253', policy('fd00::/8')), null);
});

test('`check --probe-allow-network` builds the policy, and refuses a bad value naming the flag', () => {
  const args = ['--domain', 'example.com', '--external-host', 'mail.example.com'];
  const parsed = parseCheckArgs([...args, '--probe-allow-network', '10.20.0.0/16', '--probe-allow-network', '127.0.0.2'], {});
  assert.deepEqual(parsed.probePolicy, { loopback: false, privateNetworks: false, allowNetworks: ['10.20.0.0/16', '127.0.0.2/32'] });
  assert.throws(() => parseCheckArgs([...args, '--probe-allow-network', '169.254.169.254/32'], {}),
    /--probe-allow-network 169\.254\.169\.254\/32: .*overlaps 169\.254\.0\.0\/16 \(link-local, where cloud metadata services answer\)/);
});

test('`run --probe-allow-network` with a bad value exits 2 naming the flag (also from the environment)', async () => {
  const run = (args: string[], env: NodeJS.ProcessEnv) => new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [path.join(root, 'src/cli/main.ts'), 'run', ...args], { cwd: root, env, timeout: 30_000 },
      (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
  const bad = await run(['--probe-allow-network', '10.1.2.3/8'], process.env);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--probe-allow-network=10\.1\.2\.3\/8: "10\.1\.2\.3\/8" has host bits set: did you mean 10\.0\.0\.0\/8\?/);
  const fromEnv = await run([], { ...process.env, MAPI_OPERATOR_PROBE_ALLOW_NETWORK: '10.20.0.0/16,0.0.0.0/0' });
  assert.equal(fromEnv.code, 2, fromEnv.stderr);
  assert.match(fromEnv.stderr, /--probe-allow-network=0\.0\.0\.0\/0: .*overlaps 169\.254\.0\.0\/16/);
});
