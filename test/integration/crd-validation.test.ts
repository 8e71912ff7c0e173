// The generated v1alpha2 CRDs on the real apiserver (installed by the global setup from
// crds/*.yaml): `kubectl create` rejects each bad spec of the shared case table with a message
// naming the field, accepts the good ones and defaults them exactly as the operator's zod
// schemas do; unknown fields are rejected (strict field validation, kubectl's default) or
// pruned; `kubectl get` prints the columns and `kubectl explain` the descriptions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { sharedKubeconfigPath } from '../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../src/dev/kube.ts';
import { API_VERSION } from '../../src/api/common.ts';
import { parseMapiServerSpec, parseMailDomainSpec, parseMailboxSpec, type ParseResult } from '../../src/api/parse.ts';
import { rejections, acceptances, escapeRegExp, nameCandidates, addressCandidates, intervalCandidates, nameserverCandidates, type Kind } from '../support/api-cases.ts';
import { mapiServerManifest, mailDomainManifest, mailboxManifest, mapiServerSpec, mailDomainSpec, mailboxSpec } from '../support/fixtures.ts';

const ns = 'crd-validation';
const k = kubectlFor(sharedKubeconfigPath());

const object = (kind: Kind, name: string, spec: object) => ({ apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec });

const parsers: Record<Kind, (spec: unknown) => ParseResult<unknown>> = {
  MapiServer: parseMapiServerSpec,
  MailDomain: parseMailDomainSpec,
  Mailbox: parseMailboxSpec,
};

/** `kubectl create --dry-run=server`: the apiserver validates, defaults and stores nothing. */
async function dryRun(obj: object, extra: string[] = []) {
  return k(['create', '--dry-run=server', '-o', 'json', ...extra, '-f', '-'], JSON.stringify(obj));
}

before(async () => {
  await freshNamespace(k, ns);
});

after(async () => {
  await k(['delete', 'namespace', ns, '--wait=false']);
});

describe('the apiserver rejects bad specs, naming the field and the fix', () => {
  for (const c of rejections) {
    test(`${c.kind}: ${c.name} → ${c.field}`, async () => {
      const r = await dryRun(object(c.kind, 'bad', c.spec));
      assert.notEqual(r.code, 0, `accepted: ${r.stdout.slice(0, 400)}`);
      // "The MapiServer "bad" is invalid: spec.externalHost: Invalid value: "string": must be lower-case (…)"
      const says = c.apiserverSays ?? c.says;
      assert.match(r.stderr, new RegExp(`${escapeRegExp(c.field)}: [^\\n]*${says.source}`), r.stderr);
    });
  }
});

describe('the apiserver accepts the good specs and defaults them exactly as the zod schemas do', () => {
  for (const c of acceptances) {
    test(`${c.kind}: ${c.name}`, async () => {
      const r = await dryRun(object(c.kind, 'good', c.spec));
      assert.equal(r.code, 0, r.stderr);
      const stored = JSON.parse(r.stdout) as { spec: unknown };
      const parsed = parsers[c.kind](c.spec);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
      assert.deepEqual(stored.spec, parsed.value);
    });
  }
});

describe('zod and the apiserver agree value by value', () => {
  /** The entries of list `field` an error text names, such as spec.aliases[3]. */
  const named = (text: string, field: string) => [...new Set([...text.matchAll(new RegExp(`${escapeRegExp(field)}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const zodText = (r: ParseResult<unknown>) => (r.ok ? '' : r.message);

  test('host and domain names (sent as the aliases of one MailDomain)', async () => {
    // The apiserver skips the CEL rules of an object that already fails an OpenAPI check
    // (here a length): names of a wrong length go in their own request.
    const batches = [nameCandidates.filter((n) => n.length >= 1 && n.length <= 253), ...nameCandidates.filter((n) => n.length < 1 || n.length > 253).map((n) => [n])];
    const byApiserver: string[] = [];
    const byZod: string[] = [];
    for (const aliases of batches) {
      const spec = mailDomainSpec({ aliases });
      const r = await dryRun(object('MailDomain', 'names', spec));
      byApiserver.push(...named(r.stderr, 'spec.aliases').map((i) => aliases[i]!));
      byZod.push(...named(zodText(parseMailDomainSpec(spec)), 'spec.aliases').map((i) => aliases[i]!));
    }
    assert.ok(byZod.length > 10, 'the candidates hold more than ten bad names');
    assert.deepEqual(byApiserver, byZod);
  });

  test('nameservers (sent as lists of eight)', async () => {
    for (const nameservers of nameserverCandidates) {
      const spec = mapiServerSpec({ checks: { nameservers } });
      const r = await dryRun(object('MapiServer', 'nameservers', spec));
      assert.deepEqual(named(r.stderr, 'spec.checks.nameservers'), named(zodText(parseMapiServerSpec(spec)), 'spec.checks.nameservers'), nameservers.join(' '));
    }
  });

  test('mailbox addresses', async () => {
    for (const address of addressCandidates) {
      const spec = mailboxSpec('ken', { address });
      const r = await dryRun(object('Mailbox', 'address', spec));
      assert.equal(r.code === 0, parseMailboxSpec(spec).ok, `${address}: ${r.stderr}`);
    }
  });

  test('checks.interval (CEL’s duration() and the operator’s reading of it)', async () => {
    for (const interval of intervalCandidates) {
      const spec = mapiServerSpec({ checks: { interval } });
      const r = await dryRun(object('MapiServer', 'interval', spec));
      assert.equal(r.code === 0, parseMapiServerSpec(spec).ok, `"${interval}": ${r.stderr}`);
    }
  });
});

describe('unknown fields', () => {
  test('are rejected by name under strict field validation (kubectl’s default)', async () => {
    const top = await dryRun({ ...mapiServerManifest('typo', ns), spec: { ...mapiServerManifest().spec, replica: 3 } });
    assert.notEqual(top.code, 0);
    assert.match(top.stderr, /unknown field "spec\.replica"/);
    const nested = await dryRun({ ...mailDomainManifest('typo', ns), spec: { ...mailDomainManifest().spec, autodiscover: { host: ['autodiscover.example.com'] } } });
    assert.notEqual(nested.code, 0);
    assert.match(nested.stderr, /unknown field "spec\.autodiscover\.host"/);
  });

  test('are pruned without it (--validate=false), while pass-through content (env, resources) is kept', async () => {
    const spec = {
      ...mapiServerManifest().spec,
      replica: 3,
      gate: { mode: 'Warn', strict: true },
      env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'mapi', key: 'token' } } }],
      resources: { limits: { memory: '1Gi' } },
    };
    const r = await dryRun({ ...mapiServerManifest('typo', ns), spec }, ['--validate=false']);
    assert.equal(r.code, 0, r.stderr);
    const stored = (JSON.parse(r.stdout) as { spec: Record<string, unknown> }).spec;
    assert.equal('replica' in stored, false);
    assert.deepEqual(stored.gate, { mode: 'Warn', domains: 'All' });
    assert.deepEqual(stored.env, spec.env);
    assert.deepEqual(stored.resources, spec.resources);
  });
});

describe('kubectl get and explain', () => {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ready = (status: string, reason: string) => ({ type: 'Ready', status, reason, message: reason, lastTransitionTime: now });

  before(async () => {
    await k.apply(mapiServerManifest('mapi', ns));
    await k.apply(mailDomainManifest('example-com', ns));
    await k.apply(mailboxManifest('ken', ns));
    // Status as the operator writes it, so the columns show values and not just headers.
    const patch = (resource: string, status: object) => k.ok(['patch', resource, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    await patch('mapiserver/mapi', {
      domains: { accepted: 2, passing: 1, summary: '1/2', blocking: ['example.org'] },
      conditions: [ready('False', 'RolloutHeld')],
      rollout: { state: 'Held', reason: 'DomainsNotReady', message: 'example.org is not published' },
    });
    await patch('maildomain/example-com', { conditions: [ready('False', 'AutodiscoverNotPublished')] });
    await patch('mailbox/ken', { mapiEnabled: true, conditions: [ready('True', 'Applied')] });
  });

  test('kubectl get mapisrv: NAME EXTERNAL DOMAINS READY ROLLOUT REASON AGE', async () => {
    assert.match(
      await k.ok(['get', 'mapisrv', '-n', ns]),
      /^NAME\s+EXTERNAL\s+DOMAINS\s+READY\s+ROLLOUT\s+REASON\s+AGE\nmapi\s+mail\.example\.com\s+1\/2\s+False\s+Held\s+DomainsNotReady\s+\d+s\n$/,
    );
  });

  test('kubectl get md: NAME DOMAIN SERVER READY REASON AGE', async () => {
    assert.match(await k.ok(['get', 'md', '-n', ns]), /^NAME\s+DOMAIN\s+SERVER\s+READY\s+REASON\s+AGE\nexample-com\s+example\.com\s+mapi\s+False\s+AutodiscoverNotPublished\s+\d+s\n$/);
  });

  test('kubectl get mbx: NAME ADDRESS DOMAIN MAPI READY AGE', async () => {
    assert.match(await k.ok(['get', 'mbx', '-n', ns]), /^NAME\s+ADDRESS\s+DOMAIN\s+MAPI\s+READY\s+AGE\nken\s+ken@example\.com\s+example-com\s+true\s+True\s+\d+s\n$/);
  });

  test('kubectl get mapi: the category lists all three kinds, each with its columns', async () => {
    const names = (await k.ok(['get', 'mapi', '-n', ns, '-o', 'name'])).trim().split('\n').sort();
    assert.deepEqual(names, ['mailbox.mapi-operator.io/ken', 'maildomain.mapi-operator.io/example-com', 'mapiserver.mapi-operator.io/mapi']);
    const table = await k.ok(['get', 'mapi', '-n', ns]);
    assert.match(table, /^NAME\s+EXTERNAL\s+DOMAINS\s+READY\s+ROLLOUT\s+REASON\s+AGE\nmapiserver\.mapi-operator\.io\/mapi\s+mail\.example\.com\s+1\/2\s/m);
    assert.match(table, /^NAME\s+DOMAIN\s+SERVER\s+READY\s+REASON\s+AGE\nmaildomain\.mapi-operator\.io\/example-com\s+example\.com\s+mapi\s/m);
    assert.match(table, /^NAME\s+ADDRESS\s+DOMAIN\s+MAPI\s+READY\s+AGE\nmailbox\.mapi-operator\.io\/ken\s+ken@example\.com\s/m);
  });

  test('kubectl explain mapiserver.spec.gate describes the field and each of its fields', async () => {
    // kubectl wraps descriptions at 80 columns: compare with runs of white space as one space.
    const out = (await explain('mapiserver.spec.gate')).replace(/\s+/g, ' ');
    assert.match(out, /KIND: MapiServer VERSION: v1alpha2 FIELD: gate <Object> DESCRIPTION: When the server may roll out\. FIELDS:/);
    assert.match(out, / domains <string> enum: All, Any All: every accepted MailDomain must pass \(what bm-mapi checks at start-up\); Any: at least one\. /);
    assert.match(out, / mode <string> enum: Enforce, Warn Enforce holds the rollout while the gate is closed; Warn rolls out and reports \(bm-mapi's non\.blocking\.checks\)\./);
  });

  test('kubectl explain has text for the spec and status of each kind', async () => {
    for (const resource of ['mapiserver', 'maildomain', 'mailbox']) {
      for (const field of ['spec', 'status']) {
        const out = await explain(`${resource}.${field}`);
        const description = /\nDESCRIPTION:\n([\s\S]*?)\nFIELDS:\n/.exec(out)?.[1]?.replace(/\s+/g, ' ').trim() ?? '';
        assert.match(description, field === 'spec' ? /^What you declare for this \w+; / : /^What the operator observed for this \w+; written by the operator only\.$/, out.slice(0, 400));
      }
    }
  });
});

/** `kubectl explain`, once the apiserver has published the CRDs' OpenAPI (it does so shortly after install). */
async function explain(path: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await k(['explain', path]);
    if (r.code === 0) return r.stdout;
    if (attempt === 30) throw new Error(`kubectl explain ${path}: ${r.stderr}`);
    await delay(1000);
  }
}
