// Reading many workloads of one cluster as they are now, in few requests: a list per namespace and kind
// where two or more of them are, a get for each other one. A rollout wait reads a wave this way every
// time it looks (workload-restart.ts), and so does the budget rule's view of a wave (disruption-budgets.ts).
import { workloadKey } from '../../core/rotation/proxied-pod-owners.js';
import { mapWithConcurrency } from '../eks/map-with-concurrency.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import {
  byKindAndNamespace,
  describeWorkload,
  listWorkloads,
  readWorkload,
  WORKLOADS_AT_ONCE,
  type Workload,
  type WorkloadRef,
} from './workload-ref.js';

/**
 * Each of `refs` as the API server has it now, by workloadKey (kind/namespace/name). One a list did not
 * have (deleted meanwhile) is read on its own, so its 404 reaches the caller as for any read.
 */
export async function readWorkloads(
  client: ClusterClient,
  refs: readonly WorkloadRef[],
): Promise<Map<string, Workload>> {
  const groups = byKindAndNamespace(refs);
  const keyOf = (ref: WorkloadRef) => workloadKey(ref.kind, ref.namespace, ref.name);
  const read = new Map<string, Workload>();
  await mapWithConcurrency([...groups.values()], WORKLOADS_AT_ONCE, async (group) => {
    const [{ kind, namespace }] = group as [WorkloadRef];
    if (group.length > 1) {
      const listed = await callKube(client, `list ${kind}s in namespace ${namespace}`, () =>
        listWorkloads(client, kind, namespace),
      );
      const wanted = new Set(group.map(keyOf));
      for (const object of listed) {
        const key = workloadKey(kind, namespace, object.metadata?.name ?? '');
        if (wanted.has(key)) read.set(key, object);
      }
    }
    const unread = group.filter((ref) => !read.has(keyOf(ref)));
    await mapWithConcurrency(unread, WORKLOADS_AT_ONCE, async (ref) => {
      read.set(
        keyOf(ref),
        await callKube(client, `read ${describeWorkload(ref)}`, () => readWorkload(client, ref)),
      );
    });
  });
  return read;
}
