import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { crdOutputs, renderCrds, CHART_CRD_DIR, PLAIN_CRD_DIR } from '../../../src/api/generate-crds.ts';
import { kinds } from '../../../src/api/crd.ts';

const root = join(import.meta.dirname, '..', '..', '..');

test('committed CRDs (crds/ and the chart templates) are exactly what the zod schemas generate (run `npm run gen:crds` if this fails)', () => {
  const files = crdOutputs();
  assert.equal(files.size, 2 * kinds.length);
  for (const [rel, text] of files) {
    const committed = readFileSync(join(root, rel), 'utf8');
    assert.equal(committed, text, `${rel} is stale: run npm run gen:crds and commit the result`);
  }
  for (const dir of [PLAIN_CRD_DIR, CHART_CRD_DIR]) {
    const stale = readdirSync(join(root, dir)).filter((f) => !files.has(`${dir}/${f}`));
    assert.deepEqual(stale, [], `${dir} holds files the generator no longer writes: delete them`);
  }
  // Helm installs a chart's crds/ folder once and never upgrades it: the CRDs live in templates/.
  assert.equal(existsSync(join(root, 'charts/mapi-operator/crds')), false, 'charts/mapi-operator/crds/ is gone (the CRDs are templates)');
});

test('each chart template is the plain CRD between the crds.enabled guard, with the keep annotation behind crds.keep', () => {
  for (const [name, plain] of renderCrds()) {
    const template = crdOutputs().get(`${CHART_CRD_DIR}/${name}`)!;
    const lines = template.split('\n');
    assert.equal(lines[1], '{{- if .Values.crds.enabled }}');
    assert.equal(lines.at(-2), '{{- end }}');
    assert.match(template, /\{\{- if \.Values\.crds\.keep \}\}\n {2}annotations:\n {4}helm\.sh\/resource-policy: keep\n {2}\{\{- end \}\}/);
    // Without the template lines, it is the same object as the plain file.
    const stripped = lines.filter((l) => !l.includes('{{')).join('\n');
    const a = load(stripped) as { spec: unknown; metadata: { name: string } };
    const b = load(plain) as { spec: unknown; metadata: { name: string } };
    assert.deepEqual(a.spec, b.spec);
    assert.equal(a.metadata.name, b.metadata.name);
  }
});
