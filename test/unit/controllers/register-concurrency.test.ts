// The Mailbox controller runs more reconciles at once than the others: each is one small status
// write that waits on the apiserver, and a hoster has a hundred thousand Mailboxes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerControllers } from '../../../src/controllers/register.ts';
import { MAILBOX_CONTROLLER } from '../../../src/controllers/mailbox/controller.ts';
import { MAILDOMAIN_CONTROLLER } from '../../../src/controllers/maildomain/controller.ts';
import { MAPISERVER_CONTROLLER } from '../../../src/controllers/mapiserver/controller.ts';
import { fakeKube } from '../../support/fake-kube.ts';

const noChecks = () => Promise.resolve([]);

test('--mailbox-concurrency reaches the Mailbox controller only; --concurrency the others', async (t) => {
  const kube = fakeKube();
  const { checks } = registerControllers({ manager: kube.manager, runChecks: noChecks, concurrency: 4, mailboxConcurrency: 16 });
  t.after(() => checks.stop());
  assert.deepEqual(
    [MAPISERVER_CONTROLLER, MAILDOMAIN_CONTROLLER, MAILBOX_CONTROLLER].map((name) => [name, kube.concurrency.get(name)]),
    [[MAPISERVER_CONTROLLER, 4], [MAILDOMAIN_CONTROLLER, 4], [MAILBOX_CONTROLLER, 16]],
  );
});

test('without --mailbox-concurrency the Mailbox controller takes --concurrency', async (t) => {
  const kube = fakeKube();
  const { checks } = registerControllers({ manager: kube.manager, runChecks: noChecks, concurrency: 8 });
  t.after(() => checks.stop());
  assert.equal(kube.concurrency.get(MAILBOX_CONTROLLER), 8);
});
