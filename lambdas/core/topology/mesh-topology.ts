/**
 * The mesh's topology (lambdas/contract/topology.ts): which clusters are remotes, served by which
 * primary's istiod. Parsing REMOTE_CLUSTERS and checking it against the fleet preflight read are pure,
 * here; every cluster not declared a remote is a primary.
 */
import {
  REMOTE_CLUSTERS_ENV,
  REMOTE_PRIMARY_SEPARATOR,
  type RemoteClusterDeclaration,
  remoteClustersProblem,
} from '../../contract/topology.js';
import { MeshTrustError } from '../meshtrust-error.js';

export type { RemoteClusterDeclaration } from '../../contract/topology.js';

/** A cluster's role: a primary runs istiod from its own cacerts; a remote is served by its primary's. */
export type ClusterRole = 'primary' | 'remote';

/** REMOTE_CLUSTERS (or `meshtrust plan --remote-clusters`) does not parse. */
export class TopologyError extends MeshTrustError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TopologyError';
  }
}

/**
 * Parses `remote=primary,...` (blank entries ignored). Refuses what cannot be meant: a pair without both
 * names, a remote declared twice, a remote that is its own primary, a remote named as another's primary
 * (a remote has no istiod to serve anyone).
 */
export function parseRemoteClusters(text: string, source = REMOTE_CLUSTERS_ENV): RemoteClusterDeclaration[] {
  const remotes: RemoteClusterDeclaration[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const parts = entry.split(REMOTE_PRIMARY_SEPARATOR).map((part) => part.trim());
    const [name, primary] = parts;
    if (parts.length !== 2 || !name || !primary) {
      throw new TopologyError(
        `${source}: ${JSON.stringify(entry)} is not remote${REMOTE_PRIMARY_SEPARATOR}primary; write each remote cluster ` +
          `as its EKS name, ${REMOTE_PRIMARY_SEPARATOR}, and the name of the primary cluster whose istiod serves it`,
      );
    }
    remotes.push({ name, primary });
  }
  const problem = remoteClustersProblem(remotes);
  if (problem !== undefined) throw new TopologyError(`${source}: ${problem}`);
  return remotes;
}

/** The primary whose istiod serves `cluster`, or undefined when `cluster` is a primary. */
export function primaryOf(remotes: readonly RemoteClusterDeclaration[], cluster: string): string | undefined {
  return remotes.find((remote) => remote.name === cluster)?.primary;
}

/** The remotes `primary`'s istiod serves, in declaration order. */
export function remotesOf(remotes: readonly RemoteClusterDeclaration[], primary: string): string[] {
  return remotes.filter((remote) => remote.primary === primary).map((remote) => remote.name);
}

export function roleOf(remotes: readonly RemoteClusterDeclaration[], cluster: string): ClusterRole {
  return primaryOf(remotes, cluster) === undefined ? 'primary' : 'remote';
}

/** What preflight found in one cluster that the topology is checked against. */
export interface TopologyClusterReading {
  readonly name: string;
  /** Whether istio-system/cacerts exists; undefined when the cluster could not be read. */
  readonly hasCacerts?: boolean;
}

/** One thing wrong with the declared topology, naming the cluster and what to change. */
export interface TopologyProblem {
  readonly cluster: string;
  readonly problem: string;
}

/**
 * Checks the declared topology against the fleet: every remote and every remote's primary is in the
 * fleet, a primary holds cacerts, a remote holds none (a remote with cacerts means the topology is wrong,
 * and meshtrust would leave the CA its own istiod signs with unrotated).
 */
export function reviewTopology(
  remotes: readonly RemoteClusterDeclaration[],
  clusters: readonly TopologyClusterReading[],
): TopologyProblem[] {
  const names = clusters.map((cluster) => cluster.name);
  const fleet = `the fleet is ${names.join(', ')}`;
  const problems: TopologyProblem[] = [];
  for (const remote of remotes) {
    if (!names.includes(remote.name)) {
      problems.push({
        cluster: remote.name,
        problem:
          `${REMOTE_CLUSTERS_ENV} declares remote cluster ${remote.name}, which is not in the mesh's fleet (${fleet}); ` +
          'fix the name or drop it',
      });
    }
    if (!names.includes(remote.primary)) {
      problems.push({
        cluster: remote.name,
        problem:
          `${REMOTE_CLUSTERS_ENV} declares ${remote.name} a remote of ${remote.primary}, which is not in the mesh's fleet ` +
          `(${fleet}); name the primary cluster whose istiod serves ${remote.name}`,
      });
    }
  }
  for (const cluster of clusters) {
    if (cluster.hasCacerts === undefined) continue;
    const primary = primaryOf(remotes, cluster.name);
    if (primary === undefined && !cluster.hasCacerts) {
      problems.push({
        cluster: cluster.name,
        problem:
          `cluster ${cluster.name} is a primary (${REMOTE_CLUSTERS_ENV} does not declare it a remote) but has no ` +
          `istio-system/cacerts; if its proxies get certificates from another cluster's istiod, declare it in ` +
          `${REMOTE_CLUSTERS_ENV} as ${cluster.name}${REMOTE_PRIMARY_SEPARATOR}<primary>`,
      });
    }
    if (primary !== undefined && cluster.hasCacerts) {
      problems.push({
        cluster: cluster.name,
        problem:
          `cluster ${cluster.name} is declared a remote of ${primary} in ${REMOTE_CLUSTERS_ENV} but has ` +
          'istio-system/cacerts, as a primary does; if it runs its own istiod, drop it from ' +
          `${REMOTE_CLUSTERS_ENV}, otherwise find out who created the secret there`,
      });
    }
  }
  return problems;
}
