// A reconcile's logger is made when the reconcile logs, not for every reconcile: at hoster
// scale thousands of reconciles log nothing, and a pino child per reconcile was a measurable
// share of the operator's CPU while converging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Controller } from '../../../src/kube/controller.ts';
import type { Informer, ReconcileContext } from '../../../src/kube/index.ts';

const informer = {
  resource: { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'mailboxes', namespaced: true, kind: 'Mailbox' },
  addHandlers: () => () => {},
  keys: () => [],
} as unknown as Informer;

test('a reconcile that does not log makes no child logger; one that logs gets one naming the object', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const base = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  let children = 0;
  const child = base.child.bind(base);
  base.child = ((...args: Parameters<typeof base.child>) => { children++; return child(...args); }) as typeof base.child;

  const done: string[] = [];
  const controller = new Controller({
    name: 'mailbox', primary: informer, logger: base, concurrency: 2,
    reconcile: async (key: string, ctx: ReconcileContext) => {
      if (key === 'mail/loud') ctx.log.info('something a person should read');
      done.push(key);
    },
  });
  const running = controller.start();
  for (let i = 0; i < 50; i++) controller.enqueue(`mail/quiet-${i}`);
  controller.enqueue('mail/loud');
  while (done.length < 51) await new Promise((resolve) => setTimeout(resolve, 5));
  await controller.stop();
  await running;

  assert.equal(children, 1, 'one child logger, for the reconcile that logged');
  const line = lines.find((l) => l.msg === 'something a person should read');
  assert.deepEqual([line?.controller, line?.namespace, line?.name], ['mailbox', 'mail', 'loud']);
});
