// The rollout gate's public surface.
export { gateDecision, type GateDecision, type GateTarget } from './gate-decision.ts';
