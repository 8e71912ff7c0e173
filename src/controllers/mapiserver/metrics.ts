// The server's gate and rollbacks as metrics, for the alerts (gate closed for long, a
// rollback happened): status says the same, but an alert needs a number over time.
import { Counter, Gauge, type Registry } from 'prom-client';

export class ServerMetrics {
  readonly gateOpen: Gauge<'mapiserver'>;
  readonly rollbacks: Counter<'mapiserver'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.gateOpen = new Gauge({ name: 'mapi_operator_gate_open', help: "1 while the MapiServer's rollout gate is open, 0 while it holds new releases", labelNames: ['mapiserver'], registers });
    this.rollbacks = new Counter({ name: 'mapi_operator_rollbacks_total', help: 'Rollbacks of a MapiServer to its last good release', labelNames: ['mapiserver'], registers });
  }

  observe(server: string, gateOpen: boolean, events: { reason: string }[]): void {
    this.gateOpen.set({ mapiserver: server }, gateOpen ? 1 : 0);
    // The decision emits RolledBack exactly once per rollback (the Deployment then carries the
    // memory of it), so counting the Event counts rollbacks.
    const rolledBack = events.filter((e) => e.reason === 'RolledBack').length;
    if (rolledBack > 0) this.rollbacks.inc({ mapiserver: server }, rolledBack);
  }

  forget(server: string): void {
    this.gateOpen.remove({ mapiserver: server });
  }
}
