// Fuzzing through the apiserver (fast-check, bounded): generated MapiServers, MailDomains and
// Mailboxes that the zod schemas accept, the resources themselves and every child the
// controllers' decisions build for them, sent as a server-side dry run in batches (kubectl apply
// --server-side --dry-run=server, the operator's own field manager): the apiserver (and the CRDs'
// validation) must accept every one. A failure prints the seed to replay it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { freshNamespace } from '../../src/dev/kube.ts';
import { mailDomainSpec, mailboxSpec, mapiServerSpec, objectName } from '../unit/fuzz/arbitraries.ts';
import { buildAll, FUZZ_NAMESPACE } from '../unit/fuzz/build.ts';
import { k } from './support.ts';

const WORLDS = 60;
const BATCH = 60;

before(async () => {
  await freshNamespace(k, FUZZ_NAMESPACE);
});

test(`${WORLDS} generated worlds: every resource and every child passes a server-side dry run`, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const world = fc.tuple(objectName, mapiServerSpec, objectName).chain(([serverName, serverSpec, domainName]) =>
    mailDomainSpec(serverName).chain((mdSpec) => fc.tuple(fc.constant(serverName), fc.constant(serverSpec), fc.constant(domainName), fc.constant(mdSpec), mailboxSpec(domainName, mdSpec.domain))));
  const objects: object[] = [];
  let worlds = 0;
  for (const [serverName, serverSpec, domainName, mdSpec, mbxSpec] of fc.sample(world, { numRuns: WORLDS, seed })) {
    const built = buildAll({ serverName, serverSpec, domainName, mdSpec, mbxSpec });
    if (!built) continue;
    worlds++;
    objects.push(...built.resources, ...built.children);
  }
  assert.ok(worlds >= WORLDS / 2, `most generated worlds are valid (${worlds}/${WORLDS}, seed ${seed})`);
  const refused: string[] = [];
  for (let i = 0; i < objects.length; i += BATCH) {
    const list = { apiVersion: 'v1', kind: 'List', items: objects.slice(i, i + BATCH) };
    const r = await k(['apply', '--server-side', '--dry-run=server', '--field-manager=mapi-operator', '--force-conflicts', '-f', '-'], JSON.stringify(list));
    if (r.code !== 0) refused.push(r.stderr.trim());
  }
  assert.deepEqual(refused, [], `the apiserver refused objects built from accepted specs (seed ${seed}, replay with FUZZ_SEED=${seed})`);
  process.stderr.write(`fuzz: ${worlds} worlds, ${objects.length} objects dry-run applied (seed ${seed})\n`);
});
