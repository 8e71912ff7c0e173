// The hash of a pod template. The rollout gate compares it to choose between the desired
// template and the last one it let through; callers import it from this module.
import { createHash } from 'node:crypto';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { TEMPLATE_HASH_ANNOTATION } from './names.ts';
import { stableJson } from '../api/stable-json.ts';

/** 16 hex digits of SHA-256 over the template without its own hash annotation. */
export function templateHash(template: V1PodTemplateSpec): string {
  const { metadata, ...rest } = template;
  const { [TEMPLATE_HASH_ANNOTATION]: _ignored, ...annotations } = metadata?.annotations ?? {};
  return createHash('sha256').update(stableJson({ ...rest, metadata: { ...metadata, annotations } })).digest('hex').slice(0, 16);
}
