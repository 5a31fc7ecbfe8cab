/**
 * What preflight makes of a primary-remote fleet, given each cluster's own review: a remote has no
 * cacerts to review, so it stands on its primary's (its proxies are what that istiod serves), with its
 * own namespaces; the declared topology is checked against what was found (mesh-topology.ts); and a
 * primary and its remotes move one way: `resign` when every one of them may (each judged on its own
 * proxies, remote-proxy-settings.ts), else `restart`. The push is counted on per cluster
 * (`pushReaches`): for a remote only where its own proxies take it.
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
 * The strategies with the topology applied. A primary and its remotes move the same way: a remote's
 * proxies re-sign only on the push of its primary's A+B+B write, which the primary makes only when it
 * is planned `resign`; and the primary is kept with them, so that one istiod's clusters follow one plan.
 * So the group is `resign` only when each of its clusters was chosen `resign` on its own conditions (a
 * remote's read from its own proxies and mesh config, and its primary's istiod); otherwise every one of
 * them restarts, each naming the cluster that could not and why. A remote whose settings were not read
 * restarts, and its group with it. Findings are kept: a forced `resign` a remote cannot do is refused
 * on its own conditions, as for any cluster. `pushReaches` is left as chosen.
 */
export function strategiesWithTopology(
  review: FleetStrategyReview,
  remotes: readonly RemoteClusterDeclaration[],
): FleetStrategyReview {
  if (remotes.length === 0) return review;
  const strategies: ClusterRotationStrategy[] = [...review.strategies];
  for (const remote of remotes) {
    if (strategies.some((chosen) => chosen.cluster === remote.name)) continue;
    strategies.push({
      cluster: remote.name,
      strategy: 'restart',
      chosenBy: 'mesh',
      reasons: [`remote of ${remote.primary}: what reaches its proxies could not be read`],
    });
  }
  const chosenOf = (cluster: string) => strategies.find((chosen) => chosen.cluster === cluster);
  return {
    ...review,
    strategies: strategies.map((chosen) => {
      const primary = primaryOf(remotes, chosen.cluster) ?? chosen.cluster;
      const group = [primary, ...remotesOf(remotes, primary)];
      if (group.length === 1) return chosen;
      const holdingBack = group.filter((cluster) => chosenOf(cluster)?.strategy !== 'resign');
      if (holdingBack.length === 0)
        return { ...chosen, reasons: [...chosen.reasons, resignTogether(chosen.cluster, primary, group)] };
      if (chosen.strategy === 'restart') return chosen;
      return {
        cluster: chosen.cluster,
        strategy: 'restart',
        chosenBy: 'mesh',
        reasons: holdingBack.map((cluster) => restartTogether(cluster, primary, chosenOf(cluster))),
      };
    }),
  };
}

/** Why a cluster of a group that may resign does, in the group's words. */
function resignTogether(cluster: string, primary: string, group: readonly string[]): string {
  const remotes = group.filter((name) => name !== primary);
  return cluster === primary
    ? `primary of remote cluster(s) ${remotes.join(', ')}, which may resign too: its istiod's push reaches their proxies`
    : `remote of ${primary}: its proxies re-sign by ${primary}'s istiod's push; restart-workloads waits for them ` +
        `once that istiod signs with ${primary}'s new intermediate, and restarts only those that did not`;
}

/** Why a cluster that may resign restarts: `other`, of its group, cannot. */
function restartTogether(
  other: string,
  primary: string,
  chosen: ClusterRotationStrategy | undefined,
): string {
  const role = other === primary ? `its primary ${other}` : `remote ${other} of ${primary}`;
  const why = chosen === undefined ? 'it was not read' : chosen.reasons.join('; ');
  return `moves with ${role}, which restarts (${why}): a primary and its remotes move the same way`;
}
