// Whether the cluster serves the Gateway API kinds the operator uses. Asked once at start: a
// watch on a kind the apiserver does not serve never syncs, and the operator must run on
// clusters without Gateway API (Ingress only). Installing it later needs an operator restart.
import type { KubeClient } from '../kube/index.ts';

export const GATEWAY_API_KINDS = ['Gateway', 'HTTPRoute', 'ListenerSet'] as const;

export interface GatewayApiDiscovery {
  served: boolean;
  /** Kinds missing from gateway.networking.k8s.io/v1 (all of them when the group is absent). */
  missing: string[];
}

export async function discoverGatewayApi(client: KubeClient, signal?: AbortSignal): Promise<GatewayApiDiscovery> {
  try {
    const list = await client.request<{ resources?: { kind?: string; name?: string }[] }>({
      path: '/apis/gateway.networking.k8s.io/v1', timeoutMs: 10_000, ...(signal ? { signal } : {}),
    });
    const kinds = new Set((list.resources ?? []).filter((r) => !r.name?.includes('/')).map((r) => r.kind));
    const missing = GATEWAY_API_KINDS.filter((k) => !kinds.has(k));
    return { served: missing.length === 0, missing };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { served: false, missing: [...GATEWAY_API_KINDS] };
    throw err;
  }
}
