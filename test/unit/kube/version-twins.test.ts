// Two informers caching the same objects (a namespaced operator's MailDomains, with status and,
// cluster-wide, without) share each version's metadata and spec (VersionTwins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { VersionTwins } from '../../../src/kube/version-twins.ts';
import { Informer, cacheTransform, dropStatus } from '../../../src/kube/informer.ts';
import type { KubeObject } from '../../../src/kube/index.ts';
import { compactMailDomain } from '../../../src/controllers/cluster-view.ts';
import { fakeApi, mailDomain, MAILDOMAINS } from '../../../bench/memory/fixtures.ts';

const parsed = (o: KubeObject): KubeObject => JSON.parse(JSON.stringify(o)) as KubeObject;
const withRv = (o: KubeObject, rv: string): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });

test('the second copy of a version takes the first one\'s metadata and spec; another version, uid or a missing id does not', () => {
  let now = 0;
  const twins = new VersionTwins({ generationMs: 60_000, now: () => now });
  const first = twins.adopt(parsed(mailDomain(1)));
  const second = twins.adopt(dropStatus(parsed(mailDomain(1))));
  assert.equal(second.metadata, first.metadata);
  assert.equal(second.spec, first.spec);
  assert.equal(second.status, undefined, 'what each cache drops stays dropped');
  assert.equal(twins.size, 0, 'adopted: nothing left to wait for');

  const newer = twins.adopt(parsed(withRv(mailDomain(1), '400001')));
  assert.notEqual(newer.spec, first.spec, 'another version is not a twin');
  const other = twins.adopt(parsed(mailDomain(2)));
  assert.notEqual(other.metadata, newer.metadata);
  const anonymous = parsed(mailDomain(3));
  delete anonymous.metadata.uid;
  twins.adopt(anonymous);
  assert.equal(twins.size, 2, 'the two unmatched versions wait; an object without uid is not remembered');
  assert.equal(twins.adopt(parsed(withRv(mailDomain(1), '400001'))).spec, newer.spec, 'within its generation');

  // Two generations of a minute: a version seen 1-2 minutes ago still pairs, older does not.
  now = 61_000;
  const early = twins.adopt(parsed(mailDomain(4)));
  assert.equal(twins.adopt(parsed(mailDomain(2))).spec, other.spec, 'from the previous generation');
  now = 122_000;
  twins.adopt(parsed(mailDomain(5)));
  now = 183_000;
  twins.adopt(parsed(mailDomain(6)));
  const late = twins.adopt(parsed(mailDomain(4)));
  assert.notEqual(late.spec, early.spec, 'seen two generations ago: forgotten');
  assert.equal(twins.size, 3, 'the last two generations only (d5; d6 and d4 again): memory stays bounded');
});

test('through two real Informers, as the manager builds them (one without status): every MailDomain\'s metadata and spec held once', async () => {
  const api = fakeApi(Array.from({ length: 30 }, (_, i) => mailDomain(i)), 500, MAILDOMAINS.plural);
  const withStatus = new Informer({ client: api.client, resource: MAILDOMAINS, transform: (o) => compactMailDomain(cacheTransform(o)), watchTimeoutSeconds: 3600 });
  const withoutStatus = new Informer({ client: api.client, resource: MAILDOMAINS, namespaces: [], transform: (o) => compactMailDomain(cacheTransform(dropStatus(o))), watchTimeoutSeconds: 3600 });
  withStatus.start();
  withoutStatus.start();
  try {
    await Promise.all([withStatus.waitForSync(), withoutStatus.waitForSync()]);
    const check = () => {
      for (const key of withStatus.keys()) {
        const a = withStatus.getByKey(key)!;
        const b = withoutStatus.getByKey(key)!;
        assert.equal(a.metadata, b.metadata, `${key}: one metadata`);
        assert.equal(a.spec, b.spec, `${key}: one spec`);
        assert.notEqual(a.status, undefined);
        assert.equal(b.status, undefined, `${key}: the cluster-wide cache keeps no status`);
      }
    };
    check();
    const changed = mailDomain(7);
    changed.metadata.resourceVersion = '500007';
    (changed.spec as { aliases: string[] }).aliases = ['alias-d7.test'];
    api.send([{ type: 'MODIFIED', object: changed }]);
    while (withStatus.get('tenant-a', 'd7')?.metadata.resourceVersion !== '500007' || withoutStatus.get('tenant-a', 'd7')?.metadata.resourceVersion !== '500007') await delay(5);
    check();
    assert.deepEqual((withoutStatus.get('tenant-a', 'd7')!.spec as { aliases: string[] }).aliases, ['alias-d7.test']);
  } finally {
    await Promise.all([withStatus.stop(), withoutStatus.stop()]);
  }
});
