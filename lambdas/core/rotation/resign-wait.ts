// How far a `resign` cluster has moved to its new intermediate (issue 17). With PCDS, writing cacerts
// with int_B and root-cert.pem A+B+B makes istiod push a changed trust bundle, and every pilot-agent
// drops its workload certificate and asks istiod for a new one, now signed by int_B: no pod restarts.
// restart-workloads reads what each running proxy serves (core/istio/served-certificate.ts) until
// every one serves a leaf issued by the intermediate in cacerts, or its deadline passes; then it
// restarts the workloads with a pod still behind, and only those. Pure: the judgement of one round of
// readings; the handler reads and waits.
import { workloadKey } from './proxied-pod-owners.js';

/** A running pod with Istio's proxy, and the workload a restart of it reaches. */
export interface ProxiedPodOfWorkload {
  readonly namespace: string;
  readonly name: string;
  /** workloadKey(kind, namespace, name) of its Deployment, StatefulSet or DaemonSet; absent: unmanaged. */
  readonly workload?: string;
}

/**
 * What one pod serves: the SHA-256 fingerprint of its leaf's issuer, or why it could not be told.
 * `final`: it will not change by waiting (the pod is gone, the role may not read it).
 */
export type PodServing =
  | { readonly issuer: string; readonly issuerSubject?: string }
  | { readonly problem: string; readonly final?: boolean };

export interface ResignRound {
  readonly pods: number;
  /** Pods whose proxy serves a leaf of the intermediate. */
  readonly moved: number;
  /** workloadKeys with a pod that does not, sorted: the fallback restarts these. */
  readonly behindWorkloads: readonly string[];
  /** Pods nothing can restart (bare pods, Jobs) that do not either: `namespace/name`. */
  readonly behindUnmanaged: readonly string[];
  /** Up to BEHIND_NAMED pods behind, with what they serve: for messages and the audit. */
  readonly behind: readonly string[];
  /** Whether another round can change anything: some pod behind was read, or not yet, and may move. */
  readonly waitable: boolean;
}

export const BEHIND_NAMED = 5;

/** The key of a pod in the readings. */
export function podKey(pod: { readonly namespace: string; readonly name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

/** One round: which pods serve a leaf of `intermediate` (a fingerprint), and whose workloads lag. */
export function judgeResignRound(
  pods: readonly ProxiedPodOfWorkload[],
  serving: ReadonlyMap<string, PodServing>,
  intermediate: string,
): ResignRound {
  let moved = 0;
  let waitable = false;
  const behindWorkloads = new Set<string>();
  const behindUnmanaged: string[] = [];
  const behind: string[] = [];
  for (const pod of pods) {
    const key = podKey(pod);
    const reading = serving.get(key);
    if (reading !== undefined && 'issuer' in reading && reading.issuer === intermediate) {
      moved++;
      continue;
    }
    if (reading === undefined || !('final' in reading && reading.final === true)) waitable = true;
    if (pod.workload !== undefined) behindWorkloads.add(pod.workload);
    else behindUnmanaged.push(key);
    if (behind.length < BEHIND_NAMED) behind.push(`${key}: ${describeServing(reading)}`);
  }
  return {
    pods: pods.length,
    moved,
    behindWorkloads: [...behindWorkloads].sort(),
    behindUnmanaged,
    behind,
    waitable,
  };
}

/** Whether a workload (kind, namespace, name) is among those a round found behind. */
export function isBehind(
  round: Pick<ResignRound, 'behindWorkloads'>,
  workload: { readonly kind: string; readonly namespace: string; readonly name: string },
): boolean {
  return round.behindWorkloads.includes(workloadKey(workload.kind, workload.namespace, workload.name));
}

function describeServing(reading: PodServing | undefined): string {
  if (reading === undefined) return 'not read';
  if ('problem' in reading) return reading.problem;
  return `serves a leaf of ${reading.issuerSubject ?? 'another intermediate'} (${reading.issuer.slice(0, 12)}…)`;
}
