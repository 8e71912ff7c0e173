// Shared by the security suite: the real control plane (global setup), kubectl, the operator as a
// process, and small readers of what the tests assert on (conditions, Events, raw objects).
import assert from 'node:assert/strict';
import { sharedKubeconfigPath } from '../../src/dev/controlplane.ts';
import { testIssuerRef } from '../../src/dev/cert-manager/issuer.ts';
import { kubectlFor } from '../../src/dev/kube.ts';
import { waitFor } from '../../src/dev/wait.ts';
import type { OperatorProcess } from '../../src/dev/operator.ts';

export const kubeconfig = sharedKubeconfigPath();
export const k = kubectlFor(kubeconfig);

export interface Condition { type: string; status: string; reason: string; message: string }
export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    uid: string; name: string; namespace?: string; resourceVersion: string; generation?: number;
    labels?: Record<string, string>; annotations?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean; kind: string; name: string }[];
  };
  spec?: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[]; checks?: { name: string; status: string; reason: string; message: string }[] } & Record<string, unknown>;
  data?: Record<string, string>;
}

export const ISSUER = { name: testIssuerRef.name, kind: testIssuerRef.kind };
/** A name server that refuses at once: checks fail fast, the gate stays closed. */
export const REFUSING_DNS = '127.0.0.1:9';

export function server(name: string, namespace: string, externalHost: string, spec: Record<string, unknown> = {}) {
  const { checks, ...rest } = spec as { checks?: Record<string, unknown> };
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name, namespace },
    spec: {
      externalHost, image: 'registry.example/bm-mapi:5.3.0', replicas: 1,
      tls: { issuerRef: ISSUER }, exposure: { ingress: { className: 'nginx' } },
      checks: { nameservers: [REFUSING_DNS], interval: '1m', ...checks },
      ...rest,
    },
  };
}

export function domain(name: string, namespace: string, serverRef: string, domainName: string, spec: Record<string, unknown> = {}) {
  return { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name, namespace }, spec: { serverRef, domain: domainName, ...spec } };
}

export const get = (kind: string, namespace: string, name: string) => k.tryGet<Obj>(kind, namespace, name);

export async function condition(kind: string, namespace: string, name: string, type: string): Promise<Condition | undefined> {
  return (await get(kind, namespace, name))?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the resource's condition `type` has `reason` (and status True unless given). */
export async function waitForCondition(op: OperatorProcess, kind: string, namespace: string, name: string, type: string, reason: string, status = 'True', timeoutMs = 60_000): Promise<Condition> {
  return waitFor(async () => {
    const c = await condition(kind, namespace, name, type);
    return c && c.reason === reason && c.status === status ? c : undefined;
  }, { timeoutMs, describe: `${kind} ${namespace}/${name} ${type}=${status} reason ${reason} (log ${op.logFile})` });
}

/** Events about one object, by reason. */
export async function eventsFor(namespace: string, kind: string, name: string, reason: string): Promise<{ note?: string; reason?: string; type?: string; series?: { count?: number }; deprecatedCount?: number }[]> {
  const list = await k.json<{ items: { regarding?: { kind?: string; name?: string }; reason?: string; note?: string; type?: string; series?: { count?: number }; deprecatedCount?: number }[] }>(['get', 'events.events.k8s.io', '-n', namespace]);
  return list.items.filter((e) => e.regarding?.kind === kind && e.regarding.name === name && e.reason === reason);
}

/** The parts of an object a foreign owner cares about: identity, version, data, labels, owners. */
export function fingerprint(o: Obj | undefined) {
  assert.ok(o, 'object exists');
  return {
    uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {},
    ownerReferences: o.metadata.ownerReferences ?? [], spec: o.spec ?? null, data: o.data ?? null,
  };
}
