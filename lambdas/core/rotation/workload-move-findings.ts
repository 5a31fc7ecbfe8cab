// What verify-workloads finds wrong with a workload that should hold certificates of the new
// intermediate by now (docs/workflow.md, verify-workloads): restarted by this rotation, its pods are
// ready and younger than the restart; not restarted (a root rotation, the `resign` strategy), each of
// its pods is ready and its proxy serves a leaf the new root signed. Pure: verify-workloads reads the
// workloads, their pods and what their proxies serve; these functions judge and word the refusal.

/** A pod of a workload, as verify-workloads judges it. */
export interface WorkloadPod {
  readonly name: string;
  /** The Ready condition is True. */
  readonly ready: boolean;
  readonly createdAt: Date;
}

/** What a ready pod's proxy serves, judged against the new root. */
export type ServedUnderRoot =
  | { readonly signed: true }
  | { readonly signed: false; readonly issuerSubject: string; readonly issuerFingerprint: string }
  | { readonly unreadable: string };

/** The workload, as the findings name it (`Deployment shop/web`). */
interface Workload {
  readonly what: string;
  readonly namespace: string;
}

/** Problems named before the refusal says "and N more". */
const NAMED = 10;

/** A workload without this rotation's restart id, in a rotation without a new root to check against. */
export function notRestartedFinding(what: string): string {
  return `${what} was not restarted by this rotation (run restart-workloads)`;
}

/** A workload without this rotation's restart id whose proxies cannot be checked: the new root is not found. */
export function uncheckedFinding(what: string): string {
  return `${what} was not restarted by this rotation`;
}

/** No istio-ca-root-cert of the cluster holds the new root, so no served certificate can be checked. */
export function newRootMissingFinding(cluster: string, fingerprint: string): string {
  return `no istio-ca-root-cert of cluster ${cluster} holds the new root (${fingerprint.slice(0, 12)}…), so no served certificate can be checked against it`;
}

/**
 * A workload this rotation restarted: each pod ready and created at or after the restart (its
 * restartedAt annotation; restartedAt has seconds precision, so a pod created in that second counts as
 * after it, and a restart without a readable time counts every pod as before it).
 */
export function restartedPodFindings(
  workload: Workload,
  pods: readonly WorkloadPod[],
  restartedAt: string | undefined,
): string[] {
  const restartedAtMs = Date.parse(restartedAt ?? '');
  return pods.flatMap((pod) => {
    if (!pod.ready) return [notReady(workload, pod)];
    if (!(pod.createdAt.getTime() >= restartedAtMs)) {
      return [`pod ${workload.namespace}/${pod.name} of ${workload.what} started before the restart`];
    }
    return [];
  });
}

/**
 * A workload this rotation did not restart, in a root rotation: each pod ready and its proxy serving a
 * leaf whose issuer the new root signed (`served`, read for each ready pod; a ready pod without it
 * counts as unreadable).
 */
export function resignedPodFindings(
  workload: Workload,
  pods: readonly (WorkloadPod & { readonly served?: ServedUnderRoot })[],
): string[] {
  return pods.flatMap((pod) => {
    if (!pod.ready) return [notReady(workload, pod)];
    const served = pod.served ?? { unreadable: 'it was not read' };
    if ('signed' in served && served.signed) return [];
    const which = `pod ${workload.namespace}/${pod.name}`;
    const problem =
      'unreadable' in served
        ? `what ${which} serves could not be read: ${served.unreadable}`
        : `${which} serves a leaf of ${served.issuerSubject} (${served.issuerFingerprint.slice(0, 12)}…), which the new root did not sign`;
    return [`${uncheckedFinding(workload.what)} and ${problem}`];
  });
}

/** The refusal of verify-workloads, naming the first problems; undefined when there is none. */
export function workloadsRefusal(cluster: string, problems: readonly string[]): string | undefined {
  if (problems.length === 0) return undefined;
  const more = problems.length > NAMED ? `; and ${problems.length - NAMED} more` : '';
  return (
    `Workloads of cluster ${cluster} may still hold certificates from the old intermediate: ` +
    `${problems.slice(0, NAMED).join('; ')}${more}.`
  );
}

function notReady(workload: Workload, pod: WorkloadPod): string {
  return `pod ${workload.namespace}/${pod.name} of ${workload.what} is not ready`;
}
