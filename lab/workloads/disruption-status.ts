// The status Kubernetes' disruption controller writes on a PodDisruptionBudget
// (pkg/controller/disruption/disruption.go), computed from the lab's pods: currentHealthy (ready pods the
// selector selects), desiredHealthy and expectedPods (from minAvailable or maxUnavailable; a percentage
// or maxUnavailable is scaled by the replicas of the pods' controllers, rounded up), and
// disruptionsAllowed = currentHealthy - desiredHealthy, never below 0, and 0 with no expected pod.
// Stated from Kubernetes' rules, not from meshtrust's: the rotation's budget rule is tested against it.
//
// Simplification (docs/lab-kube.md): a DaemonSet's scale is its desiredNumberScheduled, where the real
// controller finds no scale for a DaemonSet and ignores its pods for a percentage or maxUnavailable.
import type { KubeObject } from '../kube/kube-object.js';
import { isPodReady } from './lab-pods.js';

interface Selector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether a policy/v1 selector selects these labels: none when absent, every pod when empty. */
export function pdbSelects(
  selector: Selector | null | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (selector === null || selector === undefined) return false;
  const labelMatch = Object.entries(selector.matchLabels ?? {}).every(
    ([key, value]) => labels[key] === value,
  );
  return (
    labelMatch &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      switch (operator) {
        case 'In':
          return value !== undefined && values.includes(value);
        case 'NotIn':
          return value === undefined || !values.includes(value);
        case 'Exists':
          return value !== undefined;
        case 'DoesNotExist':
          return value === undefined;
        default:
          return false;
      }
    })
  );
}

/**
 * The budget's status now, given the pods of its namespace and a way to find a pod's controller.
 * `previous` keeps the condition's transition time when nothing changed.
 */
export function disruptionStatus(
  pdb: KubeObject,
  pods: readonly KubeObject[],
  controllerOf: (pod: KubeObject) => KubeObject | undefined,
): Record<string, unknown> {
  const selected = pods.filter(
    (pod) => !pod.metadata.deletionTimestamp && pdbSelects(pdb.spec?.selector, pod.metadata.labels),
  );
  const currentHealthy = selected.filter(isPodReady).length;
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  let expectedPods = selected.length;
  let desiredHealthy = 0;
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    expectedPods = expectedScale(selected, controllerOf);
    desiredHealthy = Math.max(0, expectedPods - scaled(maxUnavailable, expectedPods));
  } else if (minAvailable !== undefined && minAvailable !== null) {
    if (typeof minAvailable === 'number') {
      desiredHealthy = minAvailable;
    } else {
      expectedPods = expectedScale(selected, controllerOf);
      desiredHealthy = scaled(minAvailable, expectedPods);
    }
  }
  const allowed = currentHealthy - desiredHealthy;
  const disruptionsAllowed = expectedPods <= 0 || allowed <= 0 ? 0 : allowed;
  const previous = (pdb.status?.conditions ?? []).find(
    (c: { type: string }) => c.type === 'DisruptionAllowed',
  );
  const status = disruptionsAllowed > 0 ? 'True' : 'False';
  const reason = disruptionsAllowed > 0 ? 'SufficientPods' : 'InsufficientPods';
  return {
    observedGeneration: pdb.metadata.generation,
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy,
    expectedPods,
    conditions: [
      {
        type: 'DisruptionAllowed',
        status,
        reason,
        message: '',
        observedGeneration: pdb.metadata.generation,
        lastTransitionTime:
          previous?.status === status && previous?.reason === reason
            ? previous.lastTransitionTime
            : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    ],
  };
}

/** The replicas of the controllers of the selected pods, each controller counted once. */
function expectedScale(
  pods: readonly KubeObject[],
  controllerOf: (pod: KubeObject) => KubeObject | undefined,
) {
  const controllers = new Map<string, KubeObject>();
  for (const pod of pods) {
    const controller = controllerOf(pod);
    if (controller !== undefined) controllers.set(controller.metadata.uid as string, controller);
  }
  let scale = 0;
  for (const controller of controllers.values()) {
    scale +=
      controller.kind === 'DaemonSet'
        ? (controller.status?.desiredNumberScheduled ?? 0)
        : (controller.spec?.replicas ?? 1);
  }
  return scale;
}

/** An int-or-percent of `total`, percentages rounded up (intstr.GetScaledValueFromIntOrPercent, true). */
function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return Number(value) || 0;
  return Math.ceil((Number(match[1]) * total) / 100);
}
