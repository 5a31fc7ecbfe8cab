// What the node agent runs for a pod. The istio engine's runtime starts the pod's real processes
// (pilot-discovery, pilot-agent) and its TLS endpoint; the empty runtime runs nothing, and a pod is
// Running as soon as it has an address, as under kwok.
import type { V1Pod } from '@kubernetes/client-node';

export interface PodRuntime {
  /** Starts what runs in the pod, reachable at `address`; rejects if it cannot. */
  start(pod: V1Pod, address: string): Promise<void>;
  /** Stops it (by the key of podKey); resolves once nothing of it runs. */
  stop(key: string): Promise<void>;
  /**
   * Which containers are ready now, by name (kubelet's readiness probes). Absent: every container
   * is ready as soon as it started.
   */
  readiness?(key: string): Promise<Readonly<Record<string, boolean>>>;
  /** Releases what the runtime holds for the whole node (watches, timers); after every pod stopped. */
  close?(): Promise<void>;
}

/** namespace/name: a pod's identity on a node (a StatefulSet's new pod reuses it with a new uid). */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export const EMPTY_POD_RUNTIME: PodRuntime = {
  start: async () => undefined,
  stop: async () => undefined,
};
