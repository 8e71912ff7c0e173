import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccessListError, decideAddress, decideAttribution, fnv1a32, parseAccessIndex, parseAccessShard, type AccessList,
} from '../../../src/gatekeeper/access-list.ts';

const index = (over: Record<string, unknown> = {}) => JSON.stringify({
  format: 'mapi-operator.io/access/v1',
  server: 'bluemind',
  domains: { 'Example.com': { mapiEnabled: true, mailDomain: 'example-com' }, 'example.org': { mapiEnabled: true, mailDomain: 'example-com' }, 'other.example': { mapiEnabled: false, mailDomain: 'other' } },
  shards: { count: 2, files: ['mailboxes-0.json', 'mailboxes-1.json'] },
  ...over,
});

function list(mailboxes: Record<string, boolean>, count = 2): AccessList {
  const parsed = parseAccessIndex(index({ shards: { count, files: Array.from({ length: count }, (_, i) => `mailboxes-${i}.json`) } }));
  const shards = Array.from({ length: count }, () => new Map<string, boolean>());
  for (const [a, on] of Object.entries(mailboxes)) shards[fnv1a32(a) % count]!.set(a, on);
  return { server: parsed.server, domains: parsed.domains, shards };
}

test('fnv1a32 is FNV-1a over UTF-8 (published test vectors)', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // Non-ASCII is hashed as its UTF-8 bytes (c3 a9), not as UTF-16 code units.
  assert.equal(fnv1a32('é'), Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0);
});

test('the index parses; domains are lower-cased', () => {
  const parsed = parseAccessIndex(index());
  assert.equal(parsed.server, 'bluemind');
  assert.deepEqual([...parsed.domains], [['example.com', true], ['example.org', true], ['other.example', false]]);
  assert.deepEqual(parsed.shardFiles, ['mailboxes-0.json', 'mailboxes-1.json']);
});

test('a bad index is refused with the field and the fix', () => {
  const cases: [string, RegExp][] = [
    ['{', /content is not JSON/],
    [index({ format: 'mapi-operator.io/access/v2' }), /format is "mapi-operator.io\/access\/v2"; this gatekeeper reads only "mapi-operator.io\/access\/v1"/],
    [index({ domains: { 'a.example': { mapiEnabled: 'yes' } } }), /domains\["a.example"\].mapiEnabled must be true or false/],
    [index({ shards: { count: 3, files: ['a.json', 'b.json', 'c.json'] } }), /shards.count is 3; must be a power of two from 1 to 64/],
    [index({ shards: { count: 128, files: [] } }), /shards.count is 128/],
    [index({ shards: { count: 2, files: ['mailboxes-0.json'] } }), /shards.files must list exactly shards.count \(2\)/],
    [index({ shards: { count: 1, files: ['../../etc/passwd'] } }), /shards.files\[0\] is "..\/..\/etc\/passwd"; must be a plain file name/],
    [index({ shards: { count: 1, files: ['..data'] } }), /shards.files\[0\]/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseAccessIndex(text), (err: Error) => err instanceof AccessListError && message.test(err.message), text);
});

test('a shard maps lower-cased addresses to booleans; anything else is refused', () => {
  assert.deepEqual([...parseAccessShard('{"Ken@Example.com": false, "pilar@example.org": true}', 'mailboxes-0.json')], [['ken@example.com', false], ['pilar@example.org', true]]);
  assert.throws(() => parseAccessShard('{"ken@example.com": "no"}', 'mailboxes-0.json'), /mailboxes-0.json: \["ken@example.com"\] must be true or false/);
  assert.throws(() => parseAccessShard('[]', 'mailboxes-1.json'), /mailboxes-1.json: content must be an object/);
});

test('the decision rule: unknown domain allows, domain off denies, mailbox off denies, otherwise allow', () => {
  const l = list({ 'ken@example.com': false, 'pilar@example.org': true, 'ana@other.example': true });
  assert.deepEqual(decideAddress(l, 'someone@elsewhere.test'), { allow: true, reason: 'unknown-domain' });
  assert.deepEqual(decideAddress(l, 'ana@other.example'), { allow: false, reason: 'domain-disabled' });
  assert.deepEqual(decideAddress(l, 'Ken@EXAMPLE.com'), { allow: false, reason: 'mailbox-disabled' });
  assert.deepEqual(decideAddress(l, 'pilar@example.org'), { allow: true, reason: 'enabled' });
  assert.deepEqual(decideAddress(l, 'nobody@example.com'), { allow: true, reason: 'enabled' });
  assert.deepEqual(decideAddress(undefined, 'ken@example.com'), { allow: true, reason: 'no-list' });
});

test('the mailbox is looked up in its own shard (fnv1a32 mod count), as the format says', () => {
  // Put a switched-off address in the wrong shard: the rule does not find it there.
  const count = 4;
  const l = list({}, count);
  const right = fnv1a32('ken@example.com') % count;
  l.shards[(right + 1) % count]!.set('ken@example.com', false);
  assert.equal(decideAddress(l, 'ken@example.com').allow, true);
  l.shards[right]!.set('ken@example.com', false);
  assert.equal(decideAddress(l, 'ken@example.com').allow, false);
});

test('attribution: any address or the MailboxId domain switched off refuses; nothing known is unattributed', () => {
  const l = list({ 'ken@example.com': false });
  assert.deepEqual(decideAttribution(l, { addresses: [] }), { allow: true, reason: 'unattributed' });
  assert.deepEqual(decideAttribution(l, { domain: 'example.com', addresses: [] }), { allow: true, reason: 'unattributed' });
  assert.deepEqual(decideAttribution(l, { domain: 'elsewhere.test', addresses: [] }), { allow: true, reason: 'unknown-domain' });
  assert.deepEqual(decideAttribution(l, { domain: 'other.example', addresses: [] }), { allow: false, reason: 'domain-disabled' });
  assert.deepEqual(decideAttribution(l, { domain: 'example.com', addresses: ['pilar@example.com', 'ken@example.com'] }), { allow: false, reason: 'mailbox-disabled' });
  assert.deepEqual(decideAttribution(l, { domain: 'other.example', addresses: ['pilar@example.com'] }), { allow: false, reason: 'domain-disabled' });
  assert.deepEqual(decideAttribution(l, { domain: 'example.com', addresses: ['pilar@example.com'] }), { allow: true, reason: 'enabled' });
});
