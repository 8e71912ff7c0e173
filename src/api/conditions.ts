// metav1.Condition, the shape kstatus, Flux, Argo CD and `kubectl wait` read.
import { z } from 'zod';

export const ConditionSchema = z.object({
  type: z.string().min(1).max(316).describe('Ready, Reconciling, Stalled or a specific condition.'),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  observedGeneration: z.number().int().min(0).optional().describe('The generation the condition was set for.'),
  lastTransitionTime: z.string().describe('When the status last changed.'),
  reason: z.string().min(1).max(1024).describe('CamelCase reason.'),
  message: z.string().max(32768).describe('What happened and what to do.'),
});
export type Condition = z.infer<typeof ConditionSchema>;

export const conditionsField = () =>
  z.array(ConditionSchema).max(32).optional().describe('The latest observations of the object’s state.').meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
