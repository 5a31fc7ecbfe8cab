// Restarting a workload's pods the way `kubectl rollout restart` does, once per restart id, and waiting
// until the rollout is complete as `kubectl rollout status` judges it.
import { labelSelectorMatches } from '../../core/rotation/label-selector.js';
import { workloadKey } from '../../core/rotation/proxied-pod-owners.js';
import { PreconditionFailed, VerificationFailed } from '../../core/rotation-errors.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import type { V1Deployment, V1Pod } from './kube-objects.js';
import { rolloutStatusOf } from './rollout-status.js';
import { type RolloutWatch, watchRollouts } from './rollout-watch.js';
import { readWorkloads } from './workload-reads.js';
import {
  describeWorkload,
  RESTART_ID_ANNOTATION,
  RESTARTED_AT_ANNOTATION,
  readWorkload,
  WORKLOAD_RESOURCES,
  type Workload,
  type WorkloadRef,
} from './workload-ref.js';

export { RESTART_ID_ANNOTATION, RESTARTED_AT_ANNOTATION } from './workload-ref.js';

export interface RestartWorkloadOptions {
  /** Stable per rotation (e.g. derived from the execution id): a workload already carrying it is not restarted again. */
  readonly restartId: string;
  /** The time written to kubectl.kubernetes.io/restartedAt. */
  readonly at: Date;
  /**
   * The workload as a list of this invocation returned it. Its resourceVersion is the patch's
   * precondition, so a restart it says is due needs no read of its own (if the workload changed since,
   * the patch meets 409 and the restart reads it again); that none is due (already restarted, paused)
   * is decided only on a fresh read.
   */
  readonly listed?: Workload;
}

export interface WaitForRolloutOptions {
  readonly timeoutMs: number;
  /** @default 1000 */
  readonly pollMs?: number;
}

export interface PodSummary {
  readonly name: string;
  readonly uid: string;
  readonly createdAt: Date;
  /** The Ready condition is True. */
  readonly ready: boolean;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * Sets restartedAt (RFC 3339, as kubectl does) and meshtrust.io/restart-id on the pod template with a
 * strategic merge patch, so the workload's controller replaces every pod. Idempotent: when the template
 * already carries restartId, nothing is sent. The patch carries the resourceVersion just read, so two
 * concurrent calls cannot both restart; the loser re-reads, finds the id and stops.
 */
export async function restartWorkload(
  client: ClusterClient,
  ref: WorkloadRef,
  options: RestartWorkloadOptions,
): Promise<{ restarted: boolean }> {
  const what = describeWorkload(ref);
  let listed = options.listed;
  const carriesId = (workload: Workload) =>
    workload.spec?.template.metadata?.annotations?.[RESTART_ID_ANNOTATION] === options.restartId;
  const paused = (workload: Workload) => ref.kind === 'Deployment' && (workload as V1Deployment).spec?.paused;
  return callKube(
    client,
    `restart ${what}`,
    async () => {
      // The listed object serves the first attempt only, and only for a patch.
      const fromList = listed;
      listed = undefined;
      const workload =
        fromList !== undefined && !carriesId(fromList) && !paused(fromList)
          ? fromList
          : await readWorkload(client, ref);
      if (carriesId(workload)) return { restarted: false };
      if (paused(workload)) {
        // kubectl refuses too: a paused Deployment would take the new template but start no pod.
        throw new PreconditionFailed(
          `${what} in cluster ${client.name} is paused, so a restart would replace no pod; resume it (kubectl rollout resume) and run the step again.`,
          { cluster: client.name },
        );
      }
      const patch = {
        metadata: { resourceVersion: workload.metadata?.resourceVersion },
        spec: {
          template: {
            metadata: {
              annotations: {
                [RESTARTED_AT_ANNOTATION]: formatRfc3339(options.at),
                [RESTART_ID_ANNOTATION]: options.restartId,
              },
            },
          },
        },
      };
      await patchWorkload(client, ref, patch);
      return { restarted: true };
    },
    { retryConflicts: true },
  );
}

/**
 * When the workload was restarted with `restartId`, as its pod template's annotations say; undefined
 * when it carries another id (or none) or no readable time. `listed`: the workload as a list of this
 * invocation returned it, read instead (the restart id it carries changes only by this restart's own
 * patches, which the caller has not sent yet).
 */
export async function restartedWith(
  client: ClusterClient,
  ref: WorkloadRef,
  restartId: string,
  listed?: Workload,
): Promise<Date | undefined> {
  const workload =
    listed ?? (await callKube(client, `read ${describeWorkload(ref)}`, () => readWorkload(client, ref)));
  const annotations = workload.spec?.template.metadata?.annotations;
  if (annotations?.[RESTART_ID_ANNOTATION] !== restartId) return undefined;
  const at = Date.parse(annotations[RESTARTED_AT_ANNOTATION] ?? '');
  return Number.isNaN(at) ? undefined : new Date(at);
}

/** A workload whose rollout was not complete when a wait's time ran out, and what it waited for. */
export interface RolloutBehind {
  readonly workload: WorkloadRef;
  readonly waiting: string;
}

/**
 * While a watch on the workloads is open (rollout-watch.ts), the wait reads them again when it says
 * every rollout is over (or one can never be), and at least this often in case it missed something.
 */
export const POLL_WHILE_WATCHED_MS = 5_000;

/**
 * Reads until every rollout is complete (rollout-status.ts) or timeoutMs passes; returns those still
 * behind then (none: all done). Throws VerificationFailed at once when waiting cannot help (a rollout
 * failed). It reads again as soon as a watch on the workloads says they are done or one failed (a
 * rollout in the lab takes seconds, so a poll's interval was much of a wave's time), else every pollMs
 * (at least POLL_WHILE_WATCHED_MS while the watch is open). Each read takes a
 * namespace's workloads of a kind with one list where two or more are still rolling out there, each
 * other workload with one get: a wave of a hundred workloads is a few requests a read, not a hundred.
 * For a caller that goes on waiting later, as restart-workloads does when its invocation runs out of time.
 */
export async function awaitRollouts(
  client: ClusterClient,
  refs: readonly WorkloadRef[],
  options: WaitForRolloutOptions,
): Promise<RolloutBehind[]> {
  const pollMs = options.pollMs ?? 1000;
  const deadline = Date.now() + options.timeoutMs;
  let pending = [...refs];
  // Opened when a read first finds a rollout behind with time left: a wait that is over at its first
  // read asks for no watch.
  let watch: RolloutWatch | undefined;
  try {
    for (;;) {
      const since = watch?.mark() ?? 0;
      const read = await readWorkloads(client, pending);
      const behind: RolloutBehind[] = [];
      for (const ref of pending) {
        const status = rolloutStatusOf(
          ref.kind,
          read.get(workloadKey(ref.kind, ref.namespace, ref.name)) as Workload,
        );
        if (status.state === 'failed') {
          throw new VerificationFailed(
            `${describeWorkload(ref)} in cluster ${client.name} cannot finish rolling out: ${status.reason}.`,
            { cluster: client.name },
          );
        }
        if (status.state === 'progressing') behind.push({ workload: ref, waiting: status.waiting });
      }
      const remaining = deadline - Date.now();
      if (behind.length === 0 || remaining <= 0) return behind;
      pending = behind.map(({ workload }) => workload);
      watch ??= watchRollouts(client, pending, remaining);
      const every = watch.live ? Math.max(pollMs, POLL_WHILE_WATCHED_MS) : pollMs;
      await watch.next(Math.min(every, remaining), pending, since);
    }
  } finally {
    watch?.close();
  }
}

/**
 * What one read of the workload says keeps its rollout from being complete (undefined: complete), in
 * one sentence naming the workload; for a check that does not wait (verify-workloads).
 */
export function unfinishedRollout(
  clusterName: string,
  ref: WorkloadRef,
  workload: Workload,
): string | undefined {
  const status = rolloutStatusOf(ref.kind, workload);
  if (status.state === 'done') return undefined;
  const what = `${describeWorkload(ref)} in cluster ${clusterName}`;
  if (status.state === 'failed') return `${what} cannot finish rolling out: ${status.reason}.`;
  return `${what} has not finished rolling out: ${status.waiting}. ${checkPodsHint(ref)}`;
}

/**
 * What an operator does about a rollout that does not finish. A StatefulSet (OrderedReady, RollingUpdate)
 * replaces no pod while one is not ready, so no restart, the rollback's included, reaches a stuck pod:
 * Kubernetes' "forced rollback" is to delete it by hand (docs/runbook.md, RollbackFailed).
 */
export function checkPodsHint(ref: Pick<WorkloadRef, 'namespace' | 'kind'>): string {
  const check = `Check why its pods do not become ready (kubectl -n ${ref.namespace} get pods)`;
  if (ref.kind !== 'StatefulSet') return `${check}, then run the step again.`;
  return (
    `${check}. A StatefulSet replaces no pod while one is not ready, so no restart reaches a stuck pod: ` +
    `once its cause is fixed, delete it (kubectl -n ${ref.namespace} delete pod <pod>), then run the step again.`
  );
}

/**
 * The pods of `pods` (a cluster's, as listed) that the workload selects: its namespace's whose labels
 * its spec.selector matches, as a `labelSelector` list would return them, sorted by name. One list of
 * the cluster's pods serves every workload (verify-workloads checks hundreds).
 */
export function podsSelectedBy(
  clusterName: string,
  ref: WorkloadRef,
  workload: Workload,
  pods: readonly V1Pod[],
): PodSummary[] {
  const selector = workload.spec?.selector;
  const what = `${describeWorkload(ref)} in cluster ${clusterName}`;
  if (!selector || (!selector.matchLabels && !selector.matchExpressions)) {
    throw new PreconditionFailed(`${what} has no pod selector.`, { cluster: clusterName });
  }
  // Refused whether or not the namespace has a pod to match it against.
  if (labelSelectorMatches(selector, {}) === undefined) {
    throw new PreconditionFailed(
      `${what} has a pod selector with an operator Kubernetes does not have: ${JSON.stringify(selector.matchExpressions)}.`,
      { cluster: clusterName },
    );
  }
  const selected: PodSummary[] = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== ref.namespace) continue;
    if (labelSelectorMatches(selector, pod.metadata?.labels ?? {}) === true) selected.push(toPodSummary(pod));
  }
  return selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** kubectl's format: time.RFC3339, seconds precision. UTC, so every caller writes the same text. */
export function formatRfc3339(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function patchWorkload(client: ClusterClient, ref: WorkloadRef, body: object): Promise<unknown> {
  return client.api.strategicPatch(WORKLOAD_RESOURCES[ref.kind], ref.namespace, ref.name, body);
}

function toPodSummary(pod: V1Pod): PodSummary {
  const created = pod.metadata?.creationTimestamp;
  return {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    createdAt: new Date(created ?? 0),
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    annotations: { ...pod.metadata?.annotations },
  };
}
