// What the lab's pods look like: built from a workload's pod template the way the workload
// controllers build them, and marked Running/Ready after the start delay as a kubelet would report.
import type { KubeObject } from '../kube/kube-object.js';

/** Annotation every lab pod carries with its template hash, whatever kind owns it. */
export const templateHashAnnotation = 'lab.meshtrust.dev/pod-template-hash';

export interface NewPodSpec {
  readonly owner: KubeObject;
  readonly name: string;
  readonly templateHash: string;
  /** Labels the owner kind adds (pod-template-hash, controller-revision-hash, ...). */
  readonly extraLabels: Record<string, string>;
  readonly nodeName: string;
}

export function buildPod(spec: NewPodSpec): KubeObject {
  const template = spec.owner.spec?.template ?? {};
  const podSpec = structuredClone(template.spec ?? {});
  podSpec.serviceAccountName ??= 'default';
  podSpec.nodeName = spec.nodeName;
  podSpec.restartPolicy ??= 'Always';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...spec.extraLabels },
      annotations: { ...(template.metadata?.annotations ?? {}), [templateHashAnnotation]: spec.templateHash },
      ownerReferences: [
        {
          apiVersion: spec.owner.apiVersion,
          kind: spec.owner.kind,
          name: spec.owner.metadata.name,
          uid: spec.owner.metadata.uid as string,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: podSpec,
    status: pendingStatus(),
  };
}

export function isPodReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some(
    (c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True',
  );
}

function pendingStatus(): object {
  return {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: now() }],
  };
}

export function runningStatus(pod: KubeObject, podIp: string): object {
  const time = now();
  const containers: { name: string; image?: string }[] = pod.spec?.containers ?? [];
  return {
    phase: 'Running',
    hostIP: '10.0.0.1',
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    startTime: time,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(
      (type) => ({ type, status: 'True', lastTransitionTime: time }),
    ),
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: time } },
    })),
  };
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
