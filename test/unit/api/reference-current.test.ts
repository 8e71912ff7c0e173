import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderReference, REFERENCE_PATH } from '../../../src/api/generate-reference.ts';
import { kinds } from '../../../src/api/crd.ts';

const root = join(import.meta.dirname, '..', '..', '..');

test('docs/reference.md is what the schemas generate (run `npm run gen:reference` if this fails)', () => {
  assert.equal(readFileSync(join(root, REFERENCE_PATH), 'utf8'), renderReference(), `${REFERENCE_PATH} is stale: run npm run gen:reference and commit it`);
});

test('the reference documents every kind, with spec and status tables', () => {
  const text = renderReference();
  for (const k of kinds) {
    assert.match(text, new RegExp(`^## ${k.kind}$`, 'm'));
    assert.ok(text.includes(k.description), `${k.kind}'s description`);
  }
  assert.match(text, /\| `spec\.externalHost` \| string \| \*\*required\*\* \|/);
  assert.match(text, /\| `spec\.serverRef` \| string \| \*\*required\*\* \|/);
  assert.match(text, /\| `spec\.gate\.mode` \| string \| `Enforce` \| .*one of `Enforce`, `Warn`\./);
  assert.match(text, /\| `status\.conditions\[\]\.reason` \|/);
});
