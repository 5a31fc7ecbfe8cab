// What a rotation means for the injected pods no Deployment, StatefulSet or DaemonSet owns (bare pods,
// Jobs' pods): restart-workloads cannot restart them, so they keep their workload certificate from the
// old intermediate until they are replaced or the certificate renews. Pure: the plan and preflight say it.
import type { UnmanagedPod } from '../rotation/proxied-pod-owners.js';
import type { RotationMode } from './phases.js';

/** How many pods a note names before it says "and N more". */
const NAMED = 5;

/** `tools/debug`, `batch/nightly-x7k2p (Job nightly)` */
export function describeUnmanagedPod(pod: UnmanagedPod): string {
  return `${pod.namespace}/${pod.name}${pod.owner === undefined ? '' : ` (${pod.owner})`}`;
}

/**
 * The note a plan carries when some cluster has unmanaged pods, or undefined when none has. An
 * emergency rotation retires the old root right after the restarts, so those pods fail mTLS with every
 * peer until they are replaced; a scheduled one soaks for at least a certificate lifetime, in which
 * they renew; an intermediate rekey keeps the root, so their certificates stay trusted.
 */
export function unmanagedPodsNote(
  mode: RotationMode,
  clusters: readonly { readonly cluster: string; readonly unmanaged: readonly UnmanagedPod[] }[],
): string | undefined {
  const affected = clusters.filter((cluster) => cluster.unmanaged.length > 0);
  if (affected.length === 0) return undefined;
  const total = affected.reduce((sum, cluster) => sum + cluster.unmanaged.length, 0);
  const named = affected
    .flatMap((cluster) => cluster.unmanaged.map((pod) => `${cluster.cluster}: ${describeUnmanagedPod(pod)}`))
    .slice(0, NAMED);
  const more = total > named.length ? ` and ${total - named.length} more` : '';
  const which = `${total} injected pod(s) that no Deployment, StatefulSet or DaemonSet owns (${named.join(', ')}${more})`;
  switch (mode) {
    case 'emergency':
      return (
        `${which} cannot be restarted and keep certificates from the old intermediate: the old root is retired ` +
        'right after the restarts, so they fail mTLS until replaced. Delete them after restart-workloads (a Job or ' +
        'its owner makes new ones), or expect those failures'
      );
    case 'scheduled':
      return `${which} cannot be restarted: they move to the new intermediate when their certificate renews, within the soak`;
    default:
      return `${which} cannot be restarted: they keep certificates from the old intermediate, which stay trusted (the root does not change)`;
  }
}
