// Runs a Manager with the widget controller as its own process, like `mapi-operator run`,
// for the SIGTERM test. Env: KUBECONFIG_PATH, NAMESPACE, IDENTITY, SLOW_MS.
import { Manager } from '../../../src/kube/manager.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { addWidgetController } from './widget-controller.ts';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const mgr = new Manager({
  kubeconfigPath: env('KUBECONFIG_PATH'),
  namespaces: [env('NAMESPACE')],
  leaderElection: { enabled: true, namespace: env('NAMESPACE'), identity: env('IDENTITY') },
  metricsAddr: '127.0.0.1:0',
  healthAddr: '127.0.0.1:0',
  logger: createLogger({ level: 'info' }),
});
addWidgetController(mgr, { slowMs: Number(process.env.SLOW_MS ?? 0) });
const reason = await mgr.start();
// A shutdown we were asked for is a success; losing the lease or failing to sync is not.
process.exitCode = reason === 'signal' || reason === 'stopped' ? 0 : 1;
