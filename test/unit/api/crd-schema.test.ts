// The generated CRDs as `kubectl explain` and `kubectl get` present them: every field has a
// description, every CEL rule a message, and the names and columns issue 8 asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kinds, customResourceDefinition } from '../../../src/api/crd.ts';

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string }[];
}

interface Crd {
  spec: {
    names: { kind: string; shortNames: string[]; categories: string[] };
    versions: { name: string; schema: { openAPIV3Schema: Schema }; additionalPrinterColumns: { name: string; jsonPath: string }[] }[];
  };
}

const crds = kinds.map((k) => customResourceDefinition(k) as unknown as Crd);
const rootOf = (crd: Crd) => crd.spec.versions[0]!.schema.openAPIV3Schema;

/** Every named property below `node` (through list items and map values), as `.a.b[].c`. */
function properties(node: Schema, path: string, out: { path: string; schema: Schema }[] = []) {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    out.push({ path: `${path}.${name}`, schema: child });
    properties(child, `${path}.${name}`, out);
  }
  if (node.items) properties(node.items, `${path}[]`, out);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') properties(node.additionalProperties, `${path}{}`, out);
  return out;
}

test('kubectl explain has a description for every field of every kind', () => {
  const missing: string[] = [];
  let count = 0;
  for (const crd of crds) {
    const root = rootOf(crd);
    if (!root.description) missing.push(`${crd.spec.names.kind} (the kind itself)`);
    for (const { path, schema } of properties(root, crd.spec.names.kind)) {
      // metadata is Kubernetes' ObjectMeta: the apiserver documents it, the CRD only says "object".
      if (path.endsWith('.metadata') && path.split('.').length === 2 && !schema.properties) continue;
      count++;
      if (!schema.description?.trim()) missing.push(path);
    }
  }
  assert.ok(count > 80, `walked only ${count} fields: the walk is broken`);
  assert.deepEqual(missing, [], 'fields without a description (add .describe() to the zod schema, then npm run gen:crds)');
});

test('every CEL rule carries a message a person can act on', () => {
  const rules: { kind: string; path: string; rule: string; message?: string; messageExpression?: string }[] = [];
  for (const crd of crds) {
    const root = rootOf(crd);
    for (const { path, schema } of [{ path: crd.spec.names.kind, schema: root }, ...properties(root, crd.spec.names.kind)]) {
      for (const r of schema['x-kubernetes-validations'] ?? []) rules.push({ kind: crd.spec.names.kind, path, ...r });
      for (const r of schema.items?.['x-kubernetes-validations'] ?? []) rules.push({ kind: crd.spec.names.kind, path: `${path}[]`, ...r });
    }
  }
  assert.ok(rules.length >= 10, `only ${rules.length} rules found`);
  for (const r of rules) assert.ok((r.message ?? r.messageExpression ?? '').length > 20, `${r.path}: rule ${r.rule} has no message`);
});

test('names: shortNames mapisrv, md, mbx, all in the mapi category, served as v1alpha2 only', () => {
  const main = ['MapiServer', 'MailDomain', 'Mailbox'];
  assert.deepEqual(
    crds.filter((c) => main.includes(c.spec.names.kind)).map((c) => [c.spec.names.kind, c.spec.names.shortNames, c.spec.names.categories, c.spec.versions.map((v) => v.name)]),
    [
      ['MapiServer', ['mapisrv'], ['mapi'], ['v1alpha2']],
      ['MailDomain', ['md'], ['mapi'], ['v1alpha2']],
      ['Mailbox', ['mbx'], ['mapi'], ['v1alpha2']],
    ],
  );
  // Every kind of the API (more may join these three) is in the category `kubectl get mapi` lists.
  for (const c of crds) assert.deepEqual(c.spec.names.categories, ['mapi'], c.spec.names.kind);
});

test('printer columns: MapiServer EXTERNAL DOMAINS READY ROLLOUT REASON AGE; MailDomain DOMAIN SERVER READY REASON AGE; Mailbox ADDRESS DOMAIN MAPI READY AGE', () => {
  const columns = (kind: string) => crds.find((c) => c.spec.names.kind === kind)!.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name.toUpperCase());
  assert.deepEqual(columns('MapiServer'), ['EXTERNAL', 'DOMAINS', 'READY', 'ROLLOUT', 'REASON', 'AGE']);
  assert.deepEqual(columns('MailDomain'), ['DOMAIN', 'SERVER', 'READY', 'REASON', 'AGE']);
  assert.deepEqual(columns('Mailbox'), ['ADDRESS', 'DOMAIN', 'MAPI', 'READY', 'AGE']);
  // Every column reads a field the schema has (a typo in a jsonPath prints an empty column forever).
  for (const crd of crds) {
    const fields = new Set(properties(rootOf(crd), '').map((p) => p.path.replace(/\[\]/g, '')));
    for (const col of crd.spec.versions[0]!.additionalPrinterColumns) {
      const path = col.jsonPath.replace(/\[\?\(@\.type=="\w+"\)\]/g, '');
      assert.ok(path.startsWith('.metadata.') || fields.has(path), `${crd.spec.names.kind} column ${col.name} reads ${col.jsonPath}, which the schema does not have`);
    }
  }
});
