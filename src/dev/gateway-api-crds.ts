// The Gateway API standard-channel CRDs for the test control plane, fetched from the Go
// module sigs.k8s.io/gateway-api by tools/controlplane/gateway-api.sh into the cache.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './controlplane-assets.ts';

export function ensureGatewayApiCrds(): string {
  const script = path.join(repoRoot, 'tools/controlplane/gateway-api.sh');
  const r = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`fetching the Gateway API CRDs: bash ${script} exited with ${r.status}; see its output above`);
  const dir = path.join(r.stdout.trim().split('\n').pop() ?? '', 'crds');
  if (!existsSync(dir) || !readdirSync(dir).some((f) => f.endsWith('.yaml'))) throw new Error(`fetching the Gateway API CRDs: no CRDs in ${dir}`);
  return dir;
}
