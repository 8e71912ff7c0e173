// The Ingress tuning table: what each known controller gets for unbuffered, long /mapi
// requests; the user's annotations win; an unknown class is a warning naming what to set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerTuning, exposureReport, ingressAnnotations, ingressTuningWarning } from '../../../src/exposure/index.ts';

const seconds = (v: string) => Number.parseInt(v, 10);

test('each known class: no buffering and a read time-out of at least 330 s, in its own annotations', () => {
  const cases: [string, Record<string, (v: string) => boolean>][] = [
    ['nginx', {
      'nginx.ingress.kubernetes.io/proxy-buffering': (v) => v === 'off',
      'nginx.ingress.kubernetes.io/proxy-request-buffering': (v) => v === 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': (v) => seconds(v) >= 330,
      'nginx.org/proxy-buffering': (v) => v === 'False',
      'nginx.org/proxy-read-timeout': (v) => v.endsWith('s') && seconds(v) >= 330,
    }],
    ['nginx-plus', { 'nginx.org/proxy-buffering': (v) => v === 'False', 'nginx.org/proxy-read-timeout': (v) => seconds(v) >= 330 }],
    ['haproxy', { 'haproxy-ingress.github.io/timeout-server': (v) => seconds(v) >= 330, 'haproxy.org/timeout-server': (v) => seconds(v) >= 330 }],
    ['contour', { 'projectcontour.io/response-timeout': (v) => seconds(v) >= 330 }],
  ];
  for (const [className, expected] of cases) {
    const annotations = ingressAnnotations({ className, annotations: {} });
    for (const [key, ok] of Object.entries(expected)) {
      assert.ok(annotations[key] !== undefined && ok(annotations[key]), `${className}: ${key}=${annotations[key]}`);
    }
    assert.equal(ingressTuningWarning({ className, annotations: {} }), undefined, `${className} needs no warning`);
  }
});

test('Traefik: known, nothing to annotate, and the entry point time-out the platform team must keep is said', () => {
  assert.deepEqual(ingressAnnotations({ className: 'traefik', annotations: {} }), {});
  assert.match(ingressTuningWarning({ className: 'traefik', annotations: {} }) ?? '', /writeTimeout/);
});

test("the user's annotations win over the table and pass through", () => {
  const annotations = ingressAnnotations({ className: 'contour', annotations: { 'projectcontour.io/response-timeout': 'infinity', 'example.com/x': 'y' } });
  assert.equal(annotations['projectcontour.io/response-timeout'], 'infinity');
  assert.equal(annotations['example.com/x'], 'y');
});

test('an unknown class (or none) gets only the user annotations and a warning naming what to set', () => {
  assert.deepEqual(ingressAnnotations({ className: 'kong', annotations: { a: 'b' } }), { a: 'b' });
  const warning = ingressTuningWarning({ className: 'kong', annotations: {} }) ?? '';
  assert.match(warning, /IngressClass kong/);
  assert.match(warning, /buffering/);
  assert.match(warning, /330s/);
  assert.match(warning, /spec\.exposure\.ingress\.annotations/);
  assert.match(ingressTuningWarning({ annotations: {} }) ?? '', /no spec\.exposure\.ingress\.className/);
  for (const known of Object.keys(controllerTuning)) assert.match(warning, new RegExp(known));
});

test('the Exposed condition of an Ingress: tuned, or IngressNotTuned with the warning in status', () => {
  const tuned = exposureReport({ exposure: { ingress: { className: 'nginx', annotations: {} } }, namespace: 'mail', name: 'x', hosts: ['mail.example.com'], observed: { gatewayApi: false } });
  assert.deepEqual([tuned.condition.status, tuned.condition.reason], ['True', 'IngressApplied']);
  assert.deepEqual(tuned.warnings, []);
  const untuned = exposureReport({ exposure: { ingress: { className: 'kong', annotations: {} } }, namespace: 'mail', name: 'x', hosts: ['mail.example.com'], observed: { gatewayApi: false } });
  assert.deepEqual([untuned.condition.status, untuned.condition.reason], ['True', 'IngressNotTuned']);
  assert.equal(untuned.summary.warnings?.length, 1);
});
