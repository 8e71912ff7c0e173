// A tiny controller on the runtime, used by the controller and manager tests (and run as a
// separate process by the SIGTERM test): a Widget owns a ConfigMap `<name>-child`.
import { applyObject, applyStatusIfChanged } from '../../../src/kube/apply.ts';
import { splitKey, type KubeObject } from '../../../src/kube/client.ts';
import type { Manager } from '../../../src/kube/manager.ts';
import type { ReconcileContext, ReconcileResult } from '../../../src/kube/controller.ts';
import { configMaps, widgets } from './helpers.ts';

export interface WidgetSpec { size?: number; note?: string }
export type Widget = KubeObject & { spec?: WidgetSpec; status?: Record<string, unknown> };

export interface WidgetControllerState {
  reconciles: Map<string, number>;
  inFlight: Map<string, number>;
  maxInFlightPerKey: number;
  failuresLeft: Map<string, number>;
}

export function addWidgetController(mgr: Manager, opts: { slowMs?: number; concurrency?: number; resyncMs?: number } = {}): WidgetControllerState {
  const state: WidgetControllerState = { reconciles: new Map(), inFlight: new Map(), maxInFlightPerKey: 0, failuresLeft: new Map() };
  const primary = mgr.informer<Widget>(widgets, { useLabelSelector: true });
  const children = mgr.informer(configMaps);
  const reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    state.reconciles.set(key, (state.reconciles.get(key) ?? 0) + 1);
    const running = (state.inFlight.get(key) ?? 0) + 1;
    state.inFlight.set(key, running);
    state.maxInFlightPerKey = Math.max(state.maxInFlightPerKey, running);
    try {
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      const { namespace, name } = splitKey(key);
      const widget = primary.get(namespace, name);
      if (!widget) return;
      if (widget.spec?.note === 'fail-twice') {
        const left = state.failuresLeft.get(key) ?? 2;
        state.failuresLeft.set(key, left - 1);
        if (left > 0) throw new Error(`planned failure, ${left} left`);
      }
      await applyObject(mgr.client, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `${name}-child`,
          namespace,
          ownerReferences: [{ apiVersion: `${widgets.group}/${widgets.version}`, kind: 'Widget', name, uid: widget.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
        },
        data: { size: String(widget.spec?.size ?? 1) },
      }, { signal: ctx.signal });
      await applyStatusIfChanged(mgr.client, widget, { observedGeneration: widget.metadata.generation, child: `${name}-child` }, { signal: ctx.signal });
      ctx.log.info('reconciled');
      if (widget.spec?.note === 'requeue') return { requeueAfterMs: 300 };
      return undefined;
    } finally {
      state.inFlight.set(key, (state.inFlight.get(key) ?? 1) - 1);
    }
  };
  mgr.addController({ name: 'widget', primary, watches: [{ informer: children, map: 'owner' }], reconcile, concurrency: opts.concurrency ?? 2, resyncMs: opts.resyncMs });
  return state;
}
