// Whether a rotation switched a cluster's intermediate, so that its workloads hold certificates of the
// new one: rollback's restart restarts only such a cluster (docs/handlers.md, "Rollback: a reverse
// rotation"). The intermediate a rotation stores carries its execution's client request token as its
// version id, so the version stored now tells.
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { primaryServing } from './remote-cluster.js';
import type { RotationRuntime } from './runtime.js';

/**
 * Whether `executionId` stored (and so may have written) a new intermediate for the cluster, or for a
 * remote cluster's primary, whose istiod signs the remote's workloads.
 */
export async function intermediateSwitchedBy(
  runtime: RotationRuntime,
  executionId: string,
  cluster: string,
): Promise<boolean> {
  const signer = primaryServing(runtime, cluster) ?? cluster;
  const token = clientRequestTokenFor(executionId, `intermediate/${signer}`);
  return (await runtime.store.tryReadIntermediate(signer))?.ref.versionId === token;
}
