// Writes docs/reference.md, the field reference of every kind, from the same zod schemas the
// operator validates with and the CRDs are generated from (through `kinds` and the CRD's
// structural schema, so the reference shows exactly what the apiserver enforces: types,
// defaults, enums, bounds, patterns and CEL rules). `npm run gen:reference`; a unit test fails
// when the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customResourceDefinition, kinds, type KindInfo } from './crd.ts';

type Schema = {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
};

export const REFERENCE_PATH = 'docs/reference.md';

// Markdown table cells: a pipe ends the cell and <name> would be read as HTML.
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\n+/g, ' ').trim();
const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function typeOf(s: Schema): string {
  if (s['x-kubernetes-int-or-string']) return 'int or string';
  if (s.type === 'array') return `[]${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') return `map[string]${typeOf(s.additionalProperties)}`;
  return s.type ?? 'any';
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (s.enum) out.push(`one of ${s.enum.map(code).join(', ')}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength === 1) out.push('not empty');
  else if (s.minLength !== undefined && s.minLength > 1) out.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined && s.minItems > 0) out.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (s.pattern) out.push(`pattern ${code(s.pattern)}`);
  if (s.format) out.push(`format ${s.format}`);
  for (const v of s['x-kubernetes-validations'] ?? []) out.push(`rule: ${v.message ?? code(v.rule)}`);
  return out;
}

interface Row { path: string; schema: Schema; required: boolean }

function walk(s: Schema, path: string, required: boolean, rows: Row[]): void {
  rows.push({ path, schema: s, required });
  if (s.properties) {
    for (const [name, child] of Object.entries(s.properties)) walk(child, `${path}.${name}`, (s.required ?? []).includes(name), rows);
  }
  if (s.type === 'array' && s.items?.properties) {
    for (const [name, child] of Object.entries(s.items.properties)) walk(child, `${path}[].${name}`, (s.items.required ?? []).includes(name), rows);
  }
}

function table(root: Schema, prefix: string): string {
  const rows: Row[] = [];
  for (const [name, child] of Object.entries(root.properties ?? {})) walk(child, `${prefix}.${name}`, (root.required ?? []).includes(name), rows);
  const lines = ['| field | type | default | description |', '|---|---|---|---|'];
  for (const r of rows) {
    const desc = [r.schema.description ?? '', ...constraints(r.schema).map((c) => `${c}.`)].filter(Boolean).join(' ');
    const def = r.schema.default === undefined ? (r.required ? '**required**' : '') : code(r.schema.default);
    lines.push(`| \`${r.path}\` | ${cell(typeOf(r.schema))} | ${cell(def)} | ${cell(desc)} |`);
  }
  return lines.join('\n');
}

function kindSection(info: KindInfo): string {
  const crd = customResourceDefinition(info) as { spec: { group: string; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] } };
  const version = crd.spec.versions[0]!;
  const schema = version.schema.openAPIV3Schema;
  const spec = schema.properties!.spec!;
  const status = schema.properties!.status!;
  const rules = (spec['x-kubernetes-validations'] ?? []).map((v) => `- ${v.message ?? code(v.rule)}`);
  return [
    `## ${info.kind}`,
    '',
    `\`${crd.spec.group}/${version.name}\`, namespaced; \`kubectl get ${info.plural}\`${info.shortNames.length ? ` (short: ${info.shortNames.map((n) => `\`${n}\``).join(', ')})` : ''}; category \`mapi\`.`,
    '',
    info.description,
    '',
    '### spec',
    '',
    ...(rules.length ? ['Rules across fields:', '', ...rules, ''] : []),
    table(spec, 'spec'),
    '',
    '### status',
    '',
    'Written by the operator only.',
    '',
    table(status, 'status'),
    '',
  ].join('\n');
}

export function renderReference(): string {
  return [
    '<!-- Generated by `npm run gen:reference` from src/api/*.ts. Do not edit. -->',
    '# API reference',
    '',
    'Every field of every kind, as the apiserver validates it (the CRDs are generated from the',
    "same schemas). Defaults are filled in by the apiserver on create; a field marked",
    '**required** has no default. See [troubleshooting](troubleshooting.md) for the condition',
    'reasons in `status.conditions`.',
    '',
    ...kinds.map((k) => `- [${k.kind}](#${k.kind.toLowerCase()})`),
    '',
    ...kinds.map(kindSection),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  writeFileSync(join(root, REFERENCE_PATH), renderReference());
  console.log(`wrote ${REFERENCE_PATH}`);
}
