// spec.exposure in the operator's own validation (the same zod schema the CRD is generated
// from): exactly one of ingress or gateway, a parentRef that names a Gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMapiServerSpec } from '../../../src/api/parse.ts';

const spec = (exposure?: unknown) => ({
  externalHost: 'mail.hoster.example', image: 'registry.example/bm-mapi:5.3.0', tls: { issuerRef: { name: 'letsencrypt' } },
  ...(exposure !== undefined ? { exposure } : {}),
});

test('exposure: default Ingress; gateway alone; both or neither refused naming the fix', () => {
  const byDefault = parseMapiServerSpec(spec());
  assert.ok(byDefault.ok);
  assert.deepEqual(byDefault.value.exposure, { ingress: { annotations: {} } });
  const gateway = parseMapiServerSpec(spec({ gateway: { parentRef: { name: 'edge', namespace: 'gateway-system', sectionName: 'https-mail' } } }));
  assert.ok(gateway.ok);
  assert.equal(gateway.value.exposure.ingress, undefined);
  for (const bad of [{}, { ingress: {}, gateway: { parentRef: { name: 'edge' } } }]) {
    const r = parseMapiServerSpec(spec(bad));
    assert.equal(r.ok, false, JSON.stringify(bad));
    assert.match(r.ok ? '' : r.message, /set exactly one of spec\.exposure\.ingress or spec\.exposure\.gateway/);
  }
});

test('exposure.gateway.parentRef: a name is required; namespace and sectionName must be valid names', () => {
  const cases: [unknown, RegExp][] = [
    [{ gateway: {} }, /parentRef/],
    [{ gateway: { parentRef: {} } }, /name/],
    [{ gateway: { parentRef: { name: 'edge', namespace: 'Gateway_System' } } }, /namespace name/],
    [{ gateway: { parentRef: { name: 'edge', sectionName: 'HTTPS mail' } } }, /listener name/],
    [{ gateway: { parentRef: { name: 'edge', port: 443 } } }, /port|unrecognized|Unrecognized/],
  ];
  for (const [exposure, message] of cases) {
    const r = parseMapiServerSpec(spec(exposure));
    assert.equal(r.ok, false, JSON.stringify(exposure));
    assert.match(r.ok ? '' : r.message, message, JSON.stringify(exposure));
  }
});
