import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds, CRD_DIRS } from '../../../src/api/generate-crds.ts';

const root = join(import.meta.dirname, '..', '..', '..');

test('committed CRDs are exactly what the zod schemas generate (run `npm run gen:crds` if this fails)', () => {
  const files = renderCrds();
  assert.equal(files.size, 2);
  for (const dir of CRD_DIRS) {
    for (const [name, text] of files) {
      const committed = readFileSync(join(root, dir, name), 'utf8');
      assert.equal(committed, text, `${dir}/${name} is stale: run npm run gen:crds and commit the result`);
    }
  }
});
