// A remote cluster (REMOTE_CLUSTERS, lambdas/contract/topology.ts) has no istiod and no cacerts: its
// primary's istiod serves its proxies and publishes its istio-ca-root-cert. The phases that write
// cacerts answer `skipped` for it, with why, and back nothing up; the gate before its restart looks at
// the primary's istiod, and so does the resign wait for which intermediate its proxies must serve.

import type { RotationPhase } from '../adapters/audit/audit-event.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import { primaryOf } from '../core/topology/mesh-topology.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

/** What a cacerts-writing phase answers for a remote cluster: nothing written, and why. */
export interface SkippedRemote {
  readonly cluster: string;
  readonly skipped: true;
  /** The primary whose istiod serves the remote. */
  readonly primary: string;
  readonly reason: string;
}

/** The primary serving `cluster`, or undefined when `cluster` is a primary. */
export function primaryServing(runtime: RotationRuntime, cluster: string): string | undefined {
  return primaryOf(runtime.config.remoteClusters, cluster);
}

/**
 * The client of the cluster whose istiod signs `client`'s proxies and whose cacerts holds the
 * intermediate they are signed with: the cluster itself, or for a remote its primary.
 */
export async function signingClusterClient(
  runtime: RotationRuntime,
  client: ClusterClient,
): Promise<ClusterClient> {
  const primary = primaryServing(runtime, client.name);
  return primary === undefined ? client : runtime.clusterClient(primary);
}

/**
 * `skipped` for a remote cluster (audited as unchanged), or undefined for a primary, which the phase
 * then writes as usual.
 */
export function skipRemote(
  runtime: RotationRuntime,
  context: {
    readonly phase: RotationPhase;
    readonly cluster: string;
    readonly executionId: string;
  },
): SkippedRemote | undefined {
  const primary = primaryServing(runtime, context.cluster);
  if (primary === undefined) return undefined;
  const reason =
    `remote cluster of ${primary} (REMOTE_CLUSTERS): it holds no cacerts; ${primary}'s istiod serves its proxies ` +
    `and publishes its istio-ca-root-cert, so ${context.phase} writes ${primary} only`;
  auditStateChange({
    phase: context.phase,
    action: 'skip-remote',
    executionId: context.executionId,
    cluster: context.cluster,
    outcome: 'unchanged',
    detail: { primary },
  });
  return { cluster: context.cluster, skipped: true, primary, reason };
}
