import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import {
  desiredAccessConfigMaps, accessListFiles, accessShardNames, accessConfigMapNames, unneededAccessShardNames, accessApplyOrder,
  liveAccessShardCount, shardOf, fnv1a32, ACCESS_FORMAT, ACCESS_INDEX_KEY, ACCESS_SHARD_LIMIT_BYTES, MAX_ACCESS_SHARDS,
  type AccessListInput,
} from '../../../src/builders/access.ts';
import { serverChildNames } from '../../../src/builders/names.ts';
import { stableJson } from '../../../src/api/stable-json.ts';
import { mapiServer, accessInput } from './fixtures.ts';
import { projectedFiles, readList, decide, fnv, type List, type Verdict } from './access-reader.ts';

const server = mapiServer();
/** The order the pod template projects the ConfigMaps in (the server tests check the template lists exactly these). */
const sources = [...accessShardNames(server), serverChildNames(server).accessConfigMap];
const byName = (cms: V1ConfigMap[]) => new Map(cms.map((cm) => [cm.metadata!.name!, cm]));
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** What the doc's rule should say for a mailbox of the fixtures' input. */
function expected(input: AccessListInput, address: string, enabled: boolean): Verdict {
  const domain = input.domains.find((d) => d.domains.includes(address.slice(address.lastIndexOf('@') + 1)));
  if (!domain) return 'allow-unknown-domain';
  if (!domain.mapiEnabled) return 'deny-domain';
  return enabled ? 'allow' : 'deny-mailbox';
}

test('FNV-1a 32 test vectors, ASCII and UTF-8', () => {
  const vectors: [string, number][] = [['', 0x811c9dc5], ['a', 0xe40c292c], ['foobar', 0xbf9cf968]];
  for (const [text, hash] of vectors) assert.equal(fnv1a32(text), hash, JSON.stringify(text));
  for (const text of ['josé@exämple.com', 'ユーザー@example.jp', 'user@example.com']) assert.equal(fnv1a32(text), fnv(text), text);
  assert.equal(shardOf('User.1@Example.COM', 64), fnv('user.1@example.com') % 64, 'lower-cased before hashing');
  assert.equal(shardOf('a', 1), 0);
});

test('3 mailboxes: one ConfigMap holding the index and the only shard', () => {
  const cms = desiredAccessConfigMaps(server, accessInput(3));
  assert.equal(cms.length, 1);
  assert.equal(cms[0]!.metadata!.name, 'bluemind-mapi-access');
  assert.deepEqual(Object.keys(cms[0]!.data!).sort(), ['access.json', 'mailboxes-0.json']);
  const index = JSON.parse(cms[0]!.data![ACCESS_INDEX_KEY]!);
  assert.deepEqual(index, {
    format: ACCESS_FORMAT,
    server: 'bluemind',
    domains: {
      'example.com': { mapiEnabled: true, mailDomain: 'example-com' },
      'example.org': { mapiEnabled: true, mailDomain: 'example-com' },
      'other.example': { mapiEnabled: false, mailDomain: 'other' },
    },
    shards: { count: 1, files: ['mailboxes-0.json'] },
  });
  assert.deepEqual(JSON.parse(cms[0]!.data!['mailboxes-0.json']!), { 'user.0@example.com': false, 'user.1@example.org': true, 'user.2@other.example': true });
  assert.deepEqual(cms[0]!.metadata!.ownerReferences?.map((o) => o.kind), ['MapiServer']);
  assert.deepEqual(accessConfigMapNames(server, accessInput(3)), ['bluemind-mapi-access']);
  assert.deepEqual(unneededAccessShardNames(server, cms), accessShardNames(server));
});

for (const n of [10_000, 100_000]) {
  test(`${n.toLocaleString('en')} mailboxes: the smallest shard count keeping every shard under 256 KiB; every address in its shard; the doc's rule holds`, () => {
    const input = accessInput(n);
    const cms = desiredAccessConfigMaps(server, input);
    const { count, shards } = accessListFiles(server, input);
    assert.ok(count > 1 && count <= MAX_ACCESS_SHARDS && (count & (count - 1)) === 0, `count ${count}`);
    assert.equal(cms.length, count + 1, 'count shard ConfigMaps and the index');
    assert.deepEqual(cms.map((cm) => cm.metadata!.name), [...accessShardNames(server).slice(0, count), 'bluemind-mapi-access']);
    assert.deepEqual(cms.at(-1)!.data, { [ACCESS_INDEX_KEY]: accessListFiles(server, input).index }, 'the index ConfigMap holds only the index');
    for (const [i, cm] of cms.slice(0, -1).entries()) {
      assert.deepEqual(Object.keys(cm.data!), [`mailboxes-${i}.json`]);
      const text = cm.data![`mailboxes-${i}.json`]!;
      assert.ok(bytes(text) < ACCESS_SHARD_LIMIT_BYTES, `shard ${i}: ${bytes(text)} bytes`);
      for (const address of Object.keys(JSON.parse(text))) assert.equal(shardOf(address, count), i, address);
    }
    // Minimal: merging the shards pairwise (count / 2) would put one over the limit.
    const merged = Array.from({ length: count / 2 }, (_, j) => bytes(shards[j]!) + bytes(shards[j + count / 2]!) - 1);
    assert.ok(Math.max(...merged) >= ACCESS_SHARD_LIMIT_BYTES, `count / 2 would fit: ${Math.max(...merged)}`);

    const list = readList(projectedFiles(byName(cms), sources))!;
    assert.equal(list.shards.reduce((sum, s) => sum + Object.keys(s).length, 0), n, 'every mailbox once');
    for (const m of input.mailboxes) assert.equal(decide(list, m.address), expected(input, m.address, m.mapiEnabled), m.address);
    assert.equal(decide(list, 'nobody@unknown.example'), 'allow-unknown-domain');
    assert.equal(decide(list, 'NOBODY@Example.COM'), 'allow', 'an address without a Mailbox follows its domain');

    assert.deepEqual(accessConfigMapNames(server, input), ['bluemind-mapi-access', ...accessShardNames(server).slice(0, count)]);
    assert.deepEqual(unneededAccessShardNames(server, cms), accessShardNames(server).slice(count));
  });
}

test('stable bytes: the same list in any order, any case, gives the same ConfigMaps', () => {
  const input = accessInput(20_000);
  const shuffled: AccessListInput = {
    domains: [...input.domains].reverse(),
    mailboxes: input.mailboxes.map((m, i) => ({ ...m, address: i % 2 ? m.address.toUpperCase() : m.address })).reverse(),
  };
  assert.deepEqual(desiredAccessConfigMaps(server, shuffled), desiredAccessConfigMaps(server, input));
  const { index } = accessListFiles(server, input);
  assert.equal(index, `${stableJson(JSON.parse(index))}\n`, 'the index keys sorted at every level');
  const shard = JSON.parse(accessListFiles(server, input).shards[0]!) as Record<string, boolean>;
  const keys = Object.keys(shard);
  assert.deepEqual(keys, [...keys].sort(), 'keys sorted');
});

test('an address alone stands for MAPI on: the same ConfigMaps as the address with mapiEnabled true', () => {
  const input = accessInput(2_000);
  const bare: AccessListInput = { domains: input.domains, mailboxes: input.mailboxes.map((m) => (typeof m !== 'string' && m.mapiEnabled ? m.address : m)) };
  assert.ok(bare.mailboxes.some((m) => typeof m === 'string') && bare.mailboxes.some((m) => typeof m !== 'string'), 'both forms in one list');
  assert.deepEqual(desiredAccessConfigMaps(server, bare), desiredAccessConfigMaps(server, input));
});

test('a duplicate address cannot switch MAPI back on; a domain two MailDomains list resolves the same in any order', () => {
  const cases: { mailboxes: AccessListInput['mailboxes']; value: boolean }[] = [
    { mailboxes: [{ address: 'a@example.com', mapiEnabled: true }, { address: 'A@example.com', mapiEnabled: false }], value: false },
    { mailboxes: [{ address: 'a@example.com', mapiEnabled: false }, { address: 'a@example.com', mapiEnabled: true }], value: false },
    { mailboxes: [{ address: 'a@example.com', mapiEnabled: true }, { address: 'a@example.com', mapiEnabled: true }], value: true },
  ];
  for (const { mailboxes, value } of cases) {
    const files = accessListFiles(server, { domains: [], mailboxes });
    assert.equal(files.shards[0], `{"a@example.com":${value}}`);
  }
  const a = { name: 'a', domains: ['Example.COM'], mapiEnabled: true };
  const b = { name: 'b', domains: ['example.com'], mapiEnabled: false };
  for (const domains of [[a, b], [b, a]]) {
    const index = JSON.parse(accessListFiles(server, { domains, mailboxes: [] }).index);
    assert.deepEqual(index.domains, { 'example.com': { mapiEnabled: false, mailDomain: 'b' } });
  }
});

test('an address that needs JSON escaping or is not ASCII is written and found like any other', () => {
  const mailboxes = [{ address: 'josé@exämple.com', mapiEnabled: false }, { address: 'q"uote@example.com', mapiEnabled: false }];
  const list = readList(projectedFiles(byName(desiredAccessConfigMaps(server, { domains: [{ name: 'x', domains: ['exämple.com', 'example.com'], mapiEnabled: true }], mailboxes })), sources))!;
  for (const m of mailboxes) assert.equal(decide(list, m.address), 'deny-mailbox', m.address);
});

test('an empty list is one ConfigMap with an empty shard; a list beyond 64 shards of 1 MiB is refused with the fix', () => {
  const cms = desiredAccessConfigMaps(server, { domains: [], mailboxes: [] });
  assert.equal(cms.length, 1);
  assert.equal(cms[0]!.data!['mailboxes-0.json'], '{}');
  // Long addresses reach the limit with few mailboxes (64 MiB in 16,000 of 4 KiB).
  const local = 'x'.repeat(4096);
  const huge = { domains: [], mailboxes: Array.from({ length: 16_000 }, (_, i) => ({ address: `${local}${i}@example.com`, mapiEnabled: true })) };
  assert.throws(() => desiredAccessConfigMaps(server, huge), /ConfigMap bluemind-mapi-access-\d+ would hold \d+ bytes, over the 1048576 a ConfigMap holds .*split the MailDomains across more MapiServers/);
});

test('changing the shard count in the apply order never shows a pod a list that decides differently', () => {
  // Each step grows or shrinks the list across a change of count; every ConfigMap write is a
  // moment a kubelet may sync the volume. At every moment the reader must decide every
  // address of the old list as both lists do (they agree on it), or keep its last good list.
  const sizes = [3, 12_000, 30_000, 12_000, 3];
  const inputs = sizes.map(accessInput);
  const counts = inputs.map((input) => accessListFiles(server, input).count);
  assert.deepEqual(counts.map((c, i) => (i === 0 ? 0 : Math.sign(c - counts[i - 1]!))), [0, 1, 1, -1, -1], `counts ${counts}`);
  let live = byName(desiredAccessConfigMaps(server, inputs[0]!));
  let list: List | undefined = readList(projectedFiles(live, sources));
  for (let step = 1; step < inputs.length; step++) {
    const older = inputs[step - 1]!;
    const desired = desiredAccessConfigMaps(server, inputs[step]!);
    const writes = accessApplyOrder(desired, liveAccessShardCount(live.get('bluemind-mapi-access')));
    const deletes = unneededAccessShardNames(server, desired).filter((name) => live.has(name));
    live = new Map(live);
    const check = () => {
      list = readList(projectedFiles(live, sources), list);
      for (const m of older.mailboxes.slice(0, Math.min(older.mailboxes.length, inputs[step]!.mailboxes.length))) {
        assert.equal(decide(list!, m.address), expected(older, m.address, m.mapiEnabled), `step ${step}: ${m.address}`);
      }
    };
    for (const cm of writes) { live.set(cm.metadata!.name!, cm); check(); }
    for (const name of deletes) { live.delete(name); check(); }
    assert.equal(liveAccessShardCount(live.get('bluemind-mapi-access')), counts[step]);
  }
});

test('the same input object again gets the very ConfigMaps built for it; a new object (or another server) is built afresh', () => {
  const input = accessInput(2_000);
  const first = desiredAccessConfigMaps(server, input);
  assert.equal(desiredAccessConfigMaps(server, input), first, 'kept with the input');
  const copy = desiredAccessConfigMaps(server, { ...input });
  assert.notEqual(copy, first);
  assert.equal(stableJson(copy), stableJson(first), 'the same list, built again');
  const other = mapiServer({}, 'other');
  const forOther = desiredAccessConfigMaps(other, input);
  assert.notEqual(forOther, first);
  assert.ok(forOther.every((cm) => cm.metadata!.ownerReferences![0]!.uid === 'uid-other'), 'owned by the server asked for');
  assert.equal(JSON.parse(accessListFiles(other, input).index).server, 'other');
});

test('the live shard count is read once per ConfigMap version and follows a new version', () => {
  const v1 = desiredAccessConfigMaps(server, accessInput(10)).at(-1)!;
  assert.equal(liveAccessShardCount(v1), 1);
  assert.equal(liveAccessShardCount(v1), 1);
  const v2 = desiredAccessConfigMaps(server, accessInput(20_000)).at(-1)!;
  assert.ok(liveAccessShardCount(v2)! > 1);
  assert.equal(liveAccessShardCount({ data: { [ACCESS_INDEX_KEY]: 'not json' } }), undefined);
});
