// Whether the operator can use Gateway API here. Asked once at start: a watch on a kind the
// apiserver does not serve, or that RBAC forbids, never syncs and would stop the operator, and
// it must run on clusters without Gateway API (Ingress only). Installing Gateway API or
// granting the rules later needs an operator restart.
import type { KubeClient } from '../kube/index.ts';

export const GATEWAY_API_KINDS = ['Gateway', 'HTTPRoute', 'ListenerSet'] as const;
const GROUP = 'gateway.networking.k8s.io';

export interface GatewayApiDiscovery {
  served: boolean;
  /** Kinds missing from gateway.networking.k8s.io/v1 (all of them when the group is absent). */
  missing: string[];
  /** RBAC rules the operator lacks, as "verb resource [in namespace]". */
  forbidden: string[];
}

/** The rules the operator needs: read Gateways everywhere, own HTTPRoutes and ListenerSets where it works. */
export function gatewayApiRules(namespaces: string[]): { verb: string; resource: string; namespace: string }[] {
  const where = namespaces.length > 0 ? namespaces : [''];
  return [
    ...['get', 'list', 'watch'].map((verb) => ({ verb, resource: 'gateways', namespace: '' })),
    ...where.flatMap((namespace) => ['httproutes', 'listenersets'].flatMap((resource) =>
      ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].map((verb) => ({ verb, resource, namespace })))),
  ];
}

export async function discoverGatewayApi(client: KubeClient, opts: { namespaces?: string[]; signal?: AbortSignal } = {}): Promise<GatewayApiDiscovery> {
  const signal = opts.signal ? { signal: opts.signal } : {};
  let kinds: Set<string | undefined>;
  try {
    const list = await client.request<{ resources?: { kind?: string; name?: string }[] }>({ path: `/apis/${GROUP}/v1`, timeoutMs: 10_000, ...signal });
    kinds = new Set((list.resources ?? []).filter((r) => !r.name?.includes('/')).map((r) => r.kind));
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { served: false, missing: [...GATEWAY_API_KINDS], forbidden: [] };
    throw err;
  }
  const missing = GATEWAY_API_KINDS.filter((k) => !kinds.has(k));
  if (missing.length > 0) return { served: false, missing, forbidden: [] };
  const forbidden: string[] = [];
  for (const rule of gatewayApiRules(opts.namespaces ?? [])) {
    const review = await client.request<{ status?: { allowed?: boolean } }>({
      method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', timeoutMs: 10_000, ...signal,
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: GROUP, resource: rule.resource, verb: rule.verb, ...(rule.namespace ? { namespace: rule.namespace } : {}) } } },
    });
    if (!review.status?.allowed) forbidden.push(`${rule.verb} ${rule.resource}.${GROUP}${rule.namespace ? ` in ${rule.namespace}` : ' (all namespaces)'}`);
  }
  return { served: forbidden.length === 0, missing: [], forbidden };
}
