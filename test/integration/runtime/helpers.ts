// Shared by the runtime integration tests: a client on the shared control plane, a fresh
// namespace per test file, and polling with a deadline (never a bare sleep).
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import { loadKubeConfig } from '../../../src/kube/manager.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { ResourceRef } from '../../../src/kube/client.ts';

export const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true, kind: 'ConfigMap' };

export function sharedClient(): KubeClient {
  return new KubeClient(loadKubeConfig(sharedKubeconfigPath()));
}

/** Logs of the code under test go to stderr at warn, so a failing test shows why. */
export const testLogger = createLogger({ level: (process.env.LOG_LEVEL as 'warn' | undefined) ?? 'warn', destination: process.stderr as never });

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await client.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${name}` }).catch(() => undefined);
}

export async function createConfigMap(client: KubeClient, namespace: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): Promise<void> {
  await client.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data },
  });
}

/** Polls `check` until it returns a truthy value or the deadline passes (then throws `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await delay(everyMs);
  }
}

/** A small CRD with a status subresource and a validated field, for apply/status/controller tests. */
export const widgets: ResourceRef = { group: 'runtime-test.mapi-operator.io', version: 'v1', plural: 'widgets', namespaced: true, kind: 'Widget' };

export async function ensureWidgetCrd(client: KubeClient): Promise<void> {
  const { applyObject } = await import('../../../src/kube/apply.ts');
  await applyObject(client, {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${widgets.plural}.${widgets.group}` },
    spec: {
      group: widgets.group,
      scope: 'Namespaced',
      names: { plural: widgets.plural, singular: 'widget', kind: widgets.kind, listKind: 'WidgetList' },
      versions: [{
        name: widgets.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1 }, note: { type: 'string' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      }],
    },
  }, { fieldManager: 'mapi-operator-tests' });
  await waitFor('the Widget CRD to be served', async () => {
    const crd = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>({ path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${widgets.plural}.${widgets.group}` });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 30_000);
}
