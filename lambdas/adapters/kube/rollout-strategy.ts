// A workload object's update strategy as the rollout-width rule (lambdas/core/rotation/rollout-width.ts)
// takes it: what its rollout may take down at once.

import { type RolloutWidth, rolloutWidth } from '../../core/rotation/rollout-width.js';
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from './kube-objects.js';
import type { WorkloadKind } from './workload-ref.js';

/**
 * The pods a rollout of `object` may take down at once; undefined for OnDelete, or a strategy the rule
 * cannot read (an unparsable maxUnavailable, which the API server would have refused), so that nothing is
 * refused on a guess.
 */
export function rolloutWidthOf(
  kind: WorkloadKind,
  object: V1Deployment | V1StatefulSet | V1DaemonSet,
): RolloutWidth | undefined {
  try {
    switch (kind) {
      case 'Deployment': {
        const spec = (object as V1Deployment).spec;
        return rolloutWidth({
          kind,
          replicas: spec?.replicas ?? 1,
          ...optional('type', spec?.strategy?.type),
          ...optional('maxUnavailable', spec?.strategy?.rollingUpdate?.maxUnavailable),
          ...optional('maxSurge', spec?.strategy?.rollingUpdate?.maxSurge),
        });
      }
      case 'StatefulSet': {
        const spec = (object as V1StatefulSet).spec;
        return rolloutWidth({
          kind,
          replicas: spec?.replicas ?? 1,
          ...optional('type', spec?.updateStrategy?.type),
          ...optional('maxUnavailable', spec?.updateStrategy?.rollingUpdate?.maxUnavailable),
        });
      }
      case 'DaemonSet': {
        const daemonSet = object as V1DaemonSet;
        return rolloutWidth({
          kind,
          replicas: daemonSet.status?.desiredNumberScheduled ?? 0,
          ...optional('type', daemonSet.spec?.updateStrategy?.type),
          ...optional('maxUnavailable', daemonSet.spec?.updateStrategy?.rollingUpdate?.maxUnavailable),
          ...optional('maxSurge', daemonSet.spec?.updateStrategy?.rollingUpdate?.maxSurge),
        });
      }
    }
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined | null): Partial<Record<K, V>> {
  return value === undefined || value === null ? {} : ({ [key]: value } as Record<K, V>);
}
