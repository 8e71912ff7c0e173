// The controller runtime's public surface: what a product controller and `mapi-operator run`
// import. Everything else in src/kube is an implementation detail.
export { KubeClient, resourcePath, groupVersionPath, apiVersionOf, objectKey, OBJECT_KEY, rememberKey, reserveKeySlot, splitKey, DEFAULT_TIMEOUT_MS } from './client.ts';
export type { ResourceRef, KubeObject, ObjectMeta, OwnerReference, RequestOptions } from './client.ts';
export { KubeApiError, KubeTimeoutError, isNotFound, isConflict, isAlreadyExists, isGone } from './errors.ts';
export type { ApiStatus, StatusCause } from './errors.ts';
export { Informer, derivedFromSpec, poolStrings, shareConditions, StringPool } from './informer.ts';
export { Indexer } from './indexer.ts';
export { FieldPacker } from './packed-fields.ts';
export type { IndexFunc } from './indexer.ts';
export type { InformerOptions, EventHandlers, InformerStats, ObjectStore, RestartReason } from './informer.ts';
export { WorkQueue } from './workqueue.ts';
export type { WorkQueueOptions, WorkQueueMetrics } from './workqueue.ts';
export { Controller, ownerKeys, meaningfulUpdate } from './controller.ts';
export type { ControllerOptions, Reconciler, ReconcileResult, ReconcileContext, KeyMapper, WatchSpec } from './controller.ts';
export { applyObject, applyStatus, applyStatusIfChanged, patchStatus, deleteObject, FIELD_MANAGER } from './apply.ts';
export type { ApplyOptions, PatchStatusOptions } from './apply.ts';
export { statusChanged, carryTransitionTimes, jsonEqual } from './status-diff.ts';
export type { Condition } from './status-diff.ts';
export { LeaderElector, defaultIdentity, microTime } from './leader-election.ts';
export type { LeaderElectionOptions, Lease } from './leader-election.ts';
export { EventRecorder } from './events.ts';
export type { EventType, EventRecorderOptions } from './events.ts';
export { Manager, loadKubeConfig } from './manager.ts';
export type { ManagerOptions, LeaderElectionConfig, StopReason, InformerRequest } from './manager.ts';
export { realClock, ManualClock, sleep } from './clock.ts';
export type { Clock } from './clock.ts';
export { ItemExponentialBackoff, JitteredBackoff, exponentialDelay } from './backoff.ts';
