/**
 * What preflight makes of a primary-remote fleet, given each cluster's own review: a remote has no
 * cacerts to review, so it stands on its primary's (its proxies are what that istiod serves), with its
 * own namespaces; the declared topology is checked against what was found (mesh-topology.ts); and a
 * remote's workloads move by restart (resign would need restart-workloads to wait on the remote's
 * proxies re-signing, which it does not yet), as do the primary's. The push is counted on per cluster
 * (`pushReaches`): for a remote only where its own proxies take it (remote-proxy-settings.ts).
 */
import type { ClusterRotationStrategy, FleetStrategyReview } from '../istio/rotation-strategy.js';
import type { ClusterReview } from '../rotation/review-cluster-cacerts.js';
import { primaryOf, type RemoteClusterDeclaration, remotesOf, reviewTopology } from './mesh-topology.js';

export interface TopologyReviewCluster {
  readonly review: ClusterReview;
  /** Whether istio-system/cacerts exists; undefined when the cluster could not be read. */
  readonly hasCacerts?: boolean;
  /** Namespaces holding istio-ca-root-cert (for a remote: published by its primary's istiod). */
  readonly namespaces: readonly string[];
}

/**
 * The reviews with the topology applied, in the same order: a remote's review carries its primary's
 * trust state (with `primary` set and its own namespaces) or the topology's problems; a primary's gains
 * the topology's problems; a problem naming a cluster outside the fleet goes to the first review.
 */
export function reviewWithTopology(
  remotes: readonly RemoteClusterDeclaration[],
  clusters: readonly TopologyReviewCluster[],
): ClusterReview[] {
  const problems = reviewTopology(
    remotes,
    clusters.map(({ review, hasCacerts }) => ({
      name: review.cluster,
      ...(hasCacerts !== undefined && { hasCacerts }),
    })),
  );
  const names = new Set(clusters.map(({ review }) => review.cluster));
  const outside = problems.filter(({ cluster }) => !names.has(cluster)).map(({ problem }) => problem);
  return clusters.map(({ review, hasCacerts, namespaces }, index) => {
    const own = [
      ...problems.filter(({ cluster }) => cluster === review.cluster).map(({ problem }) => problem),
      ...(index === 0 ? outside : []),
    ];
    const primary = primaryOf(remotes, review.cluster);
    // Unreachable, or a remote holding cacerts (the topology is wrong): its own review stands, plus ours.
    if (primary === undefined || hasCacerts !== false) {
      return own.length === 0 ? review : { ...review, problems: [...review.problems, ...own] };
    }
    const primaryTrust = clusters.find((c) => c.review.cluster === primary)?.review.trustState;
    if (own.length > 0 || primaryTrust === undefined) {
      // Without a fit primary there is nothing to stand on; the primary's own problems say why.
      return { cluster: review.cluster, problems: own };
    }
    return {
      cluster: review.cluster,
      problems: [],
      trustState: { ...primaryTrust, name: review.cluster, namespaces: [...namespaces], primary },
    };
  });
}

/**
 * The strategies with the topology applied: every remote, and every primary serving one, moves by
 * restart. `pushReaches` is left as chosen: a primary's push is judged on its own proxies, and a remote
 * is in it only when its settings (its own proxies' env and mesh config, and its primary's) say the
 * push reaches every proxy of the remote; verify-trust confirms it from the data plane.
 */
export function strategiesWithTopology(
  review: FleetStrategyReview,
  remotes: readonly RemoteClusterDeclaration[],
): FleetStrategyReview {
  if (remotes.length === 0) return review;
  const serving = (cluster: string) => remotesOf(remotes, cluster);
  const strategies: ClusterRotationStrategy[] = review.strategies.map((chosen) =>
    serving(chosen.cluster).length === 0
      ? chosen
      : {
          cluster: chosen.cluster,
          strategy: 'restart',
          chosenBy: 'mesh',
          reasons: [
            `primary of remote cluster(s) ${serving(chosen.cluster).join(', ')}: its istiod also serves their proxies, ` +
              'whose re-signing restart-workloads does not wait on yet, so its workloads and theirs are restarted',
          ],
        },
  );
  for (const remote of remotes) {
    const at = strategies.findIndex((chosen) => chosen.cluster === remote.name);
    strategies.splice(at === -1 ? strategies.length : at, at === -1 ? 0 : 1, {
      cluster: remote.name,
      strategy: 'restart',
      chosenBy: 'mesh',
      reasons: [
        `remote of ${remote.primary}: its proxies get certificates from ${remote.primary}'s istiod; its workloads are ` +
          `restarted once that istiod signs with ${remote.primary}'s new intermediate`,
      ],
    });
  }
  // A remote's own conditions decide nothing (it restarts): a forced resign is not refused on them.
  const findings = review.findings.filter(
    (found) => !remotes.some((remote) => remote.name === found.cluster),
  );
  return { ...review, strategies, findings };
}
