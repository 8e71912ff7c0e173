import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverViewOfMailboxes } from '../../../src/controllers/mailbox/controller.ts';
import type { KubeObject } from '../../../src/kube/index.ts';

const server = (available: string | undefined, rollout?: { state: string; reason?: string }): KubeObject => ({
  metadata: { name: 'mail', namespace: 'ns', uid: 'u1' },
  status: {
    ...(available ? { conditions: [{ type: 'MapiAvailable', status: available }] } : {}),
    ...(rollout ? { rollout } : {}),
  },
} as KubeObject);

describe('what a server shows its Mailboxes', () => {
  it('a new release rolling out on an available server is no change for them', () => {
    assert.equal(
      serverViewOfMailboxes(server('True', { state: 'RolledOut' })),
      serverViewOfMailboxes(server('True', { state: 'Progressing', reason: 'NewRelease' })),
    );
  });

  it('while MAPI is not available, its rollout state and reason are no change either (they are not in a Mailbox\'s message)', () => {
    assert.equal(
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'ChecksPending' })),
      serverViewOfMailboxes(server('False', { state: 'Progressing', reason: 'PodsStarting' })),
    );
    assert.equal(
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'NoMailDomains' })),
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'ExternalHostTlsFailed' })),
    );
  });

  it('held for its domains (DomainsNotReady) is a change: a Mailbox of a passing domain waits a grace for the server\'s next reconcile', () => {
    assert.notEqual(
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'DomainsNotReady' })),
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'ExternalHostTlsFailed' })),
    );
  });

  it('a rollout on its way held for a reason (or the other way) is a change: held first statuses are written then', () => {
    assert.notEqual(
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'ChecksPending' })),
      serverViewOfMailboxes(server('False', { state: 'Held', reason: 'DomainsNotReady' })),
    );
  });

  it('a first rollout appearing is a change (the message goes from "not reconciled yet" to "does not serve MAPI yet")', () => {
    assert.notEqual(serverViewOfMailboxes(server(undefined)), serverViewOfMailboxes(server('False', { state: 'Held', reason: 'DomainsNotReady' })));
  });

  it('MAPI becoming available or going away is a change', () => {
    assert.notEqual(serverViewOfMailboxes(server('False', { state: 'Progressing' })), serverViewOfMailboxes(server('True', { state: 'Progressing' })));
    assert.notEqual(serverViewOfMailboxes(server(undefined)), serverViewOfMailboxes(server('True')));
  });

  it('a server recreated under the same name (new uid) is a change', () => {
    const again = { ...server('True'), metadata: { name: 'mail', namespace: 'ns', uid: 'u2' } } as KubeObject;
    assert.notEqual(serverViewOfMailboxes(server('True')), serverViewOfMailboxes(again));
  });
});
