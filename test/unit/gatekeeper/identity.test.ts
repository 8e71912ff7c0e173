import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityOf, ntlmUser } from '../../../src/gatekeeper/identity.ts';
import { ntlmAuthenticate } from './ntlm-message.ts';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

test('Basic: the user name is the identity when it is an address', () => {
  assert.deepEqual(identityOf(basic('Ken@Example.com:pa:ss')), { scheme: 'basic', address: 'ken@example.com' });
  assert.deepEqual(identityOf(basic('EXAMPLE\\ken:pass')), { scheme: 'basic', address: undefined });
  assert.deepEqual(identityOf('basic !!!'), { scheme: 'basic', address: undefined });
});

test('NTLM: the UserName of an AUTHENTICATE message, Unicode or OEM; other messages are no identity', () => {
  assert.deepEqual(identityOf(`NTLM ${ntlmAuthenticate('Ken@Example.com').toString('base64')}`), { scheme: 'ntlm', address: 'ken@example.com' });
  assert.equal(ntlmUser(ntlmAuthenticate('ken', 'EXAMPLE', false)), 'ken');
  assert.deepEqual(identityOf(`Negotiate ${ntlmAuthenticate('ken').toString('base64')}`), { scheme: 'ntlm', address: undefined });
  const negotiate = Buffer.alloc(40); negotiate.write('NTLMSSP\0', 0, 'latin1'); negotiate.writeUInt32LE(1, 8);
  assert.equal(identityOf(`NTLM ${negotiate.toString('base64')}`), undefined);
});

test('a truncated or lying NTLM message is no identity and never reads out of bounds', () => {
  const msg = ntlmAuthenticate('ken@example.com');
  msg.writeUInt32LE(10_000, 40);
  assert.equal(ntlmUser(msg), undefined);
  assert.equal(ntlmUser(msg.subarray(0, 20)), undefined);
  assert.equal(identityOf('Bearer abc'), undefined);
  assert.equal(identityOf(undefined), undefined);
  assert.equal(identityOf(`Basic ${'A'.repeat(20_000)}`), undefined);
});
