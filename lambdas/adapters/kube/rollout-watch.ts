// What wakes a rollout wait (workload-restart.ts, awaitRollouts) when the API server says its rollouts
// are over, rather than at its next poll: one watch per namespace and kind of the workloads it waits on.
// A watch only wakes the wait, which decides on a read of its own; a watch that does not open or ends
// (refused, reset, timed out) leaves the wait to its poll. Nothing here throws.
import { workloadKey } from '../../core/rotation/proxied-pod-owners.js';
import type { ClusterClient } from './cluster-client.js';
import { collectionPath } from './kube-objects.js';
import { watchCollection } from './kube-watch.js';
import { rolloutStatusOf } from './rollout-status.js';
import { byKindAndNamespace, WORKLOAD_RESOURCES, type Workload, type WorkloadRef } from './workload-ref.js';

export interface RolloutWatch {
  /** Where the events stand now: `next` wakes only on an event after the mark. */
  mark(): number;
  /**
   * Resolves after ms, or sooner once events after `since` say that the rollouts of all of `pending` are
   * complete, or that one of them can never be (failed, or the workload deleted).
   */
  next(ms: number, pending: readonly WorkloadRef[], since: number): Promise<void>;
  /** Every watch opened and none has ended: the wait may poll seldom. */
  readonly live: boolean;
  /** Ends every watch; call it when the wait is over. */
  close(): void;
}

/**
 * Starts the watches of `refs`, for at most timeoutMs (the server ends them then). Returns at once:
 * a watch's first events are the workloads as they are when it opens (no resourceVersion), each after
 * mark 0, so one that opens after the wait's read still wakes it for a rollout finished meanwhile.
 */
export function watchRollouts(
  client: ClusterClient,
  refs: readonly WorkloadRef[],
  timeoutMs: number,
): RolloutWatch {
  const deadline = Date.now() + timeoutMs;
  const groups = byKindAndNamespace(refs);
  const wanted = new Set(refs.map((ref) => workloadKey(ref.kind, ref.namespace, ref.name)));
  let events = 0;
  // Each workload's last event, numbered, while it says the rollout is over: `done` (complete) or `ended`
  // (failed, or the workload deleted). An event that says it is rolling out again removes it.
  const settled = new Map<string, { readonly at: number; readonly how: 'done' | 'ended' }>();
  // Set by a waiting `next`; `ending`: a watch just ended (from then on the wait polls).
  let wake = (_ending?: boolean): void => {};
  const open = new Set<AbortController>();
  let ended = false;
  let closed = false;

  const start = (group: readonly WorkloadRef[]): void => {
    const [{ kind, namespace }] = group as [WorkloadRef];
    const query = {
      timeoutSeconds: Math.max(1, Math.ceil((deadline - Date.now()) / 1000)),
      // One workload alone: only its own events.
      ...(group.length === 1 && { fieldSelector: `metadata.name=${(group[0] as WorkloadRef).name}` }),
    };
    const onEvent = (type: string, object: Workload): void => {
      const key = workloadKey(kind, namespace, object?.metadata?.name ?? '');
      if (!wanted.has(key)) return;
      events += 1;
      const state = type === 'DELETED' ? 'failed' : rolloutStatusOf(kind, object).state;
      if (state === 'progressing') settled.delete(key);
      else {
        settled.set(key, { at: events, how: state === 'done' ? 'done' : 'ended' });
        wake();
      }
    };
    let controller: AbortController | undefined;
    const done = (error: unknown): void => {
      if (controller) open.delete(controller);
      if (closed) return;
      // A watch quiet for 30 s is ended (kube-watch.ts): open it again (it starts with the workloads as they
      // are). By name: the error need not be an Error of this realm (a test's VM context).
      const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError';
      if (timedOut && deadline - Date.now() > 1000) {
        start(group);
        return;
      }
      ended = true;
      wake(true);
    };
    watchCollection(
      client.connection,
      collectionPath(WORKLOAD_RESOURCES[kind], namespace),
      query,
      onEvent,
      done,
    ).then((opened) => {
      controller = opened;
      if (closed) opened.abort();
      else if (!opened.signal.aborted) open.add(opened);
    }, done);
  };
  for (const group of groups.values()) start(group);

  // The wait has something to read: every rollout it waits on complete, or one that can never be (it
  // fails at once), after its last read. Not each rollout as it completes: a wave of a hundred would be
  // a hundred reads, where the poll made one a second.
  const wakes = (pending: readonly WorkloadRef[], since: number) => {
    const after = pending.map((ref) => settled.get(workloadKey(ref.kind, ref.namespace, ref.name)));
    const fresh = (event: (typeof after)[number]) => event !== undefined && event.at > since;
    return after.some((event) => fresh(event) && event?.how === 'ended') || after.every(fresh);
  };

  return {
    mark: () => events,
    get live() {
      return !ended && open.size === groups.size;
    },
    next(ms, pending, since) {
      if (wakes(pending, since)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(finish, ms);
        function finish(): void {
          clearTimeout(timer);
          wake = () => {};
          resolve();
        }
        // A watch that ends wakes the wait too, so that it polls from then on.
        wake = (ending) => {
          if (ending === true || wakes(pending, since)) finish();
        };
      });
    },
    close() {
      closed = true;
      for (const controller of open) controller.abort();
      open.clear();
    },
  };
}
