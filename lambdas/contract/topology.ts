/**
 * The mesh's topology, which the stack (lib/, the construct's `remoteClusters` prop) sets and the
 * handlers and `meshtrust plan` read, declared once (lambdas/core/topology/mesh-topology.ts parses and
 * checks it). Nothing here imports anything.
 *
 * Every cluster not named as a remote is a primary: it runs its own istiod from `istio-system/cacerts`
 * (multi-primary, the default). A remote cluster runs no istiod and holds no cacerts: its proxies get
 * their certificates from its primary's istiod, which publishes `istio-ca-root-cert` into the remote's
 * namespaces. meshtrust never writes a remote; it restarts and verifies its workloads.
 */

/** Environment key: `remote=primary` pairs, comma-separated (`eu-remote=eu-primary,us-remote=us-primary`); empty: every cluster is a primary. */
export const REMOTE_CLUSTERS_ENV = 'REMOTE_CLUSTERS';

/** Between a remote's name and its primary's in REMOTE_CLUSTERS. */
export const REMOTE_PRIMARY_SEPARATOR = '=';

/** One remote cluster and the primary cluster whose istiod serves it. */
export interface RemoteClusterDeclaration {
  readonly name: string;
  readonly primary: string;
}

/** How a remote is written in REMOTE_CLUSTERS (the stack formats its prop with it, the handlers parse it back). */
export function formatRemoteClusters(remotes: readonly RemoteClusterDeclaration[]): string {
  return remotes.map(({ name, primary }) => `${name}${REMOTE_PRIMARY_SEPARATOR}${primary}`).join(',');
}

/**
 * What makes a list of remotes meaningless whatever the fleet, or undefined when there is nothing: a
 * missing or malformed name, a remote that is its own primary, a remote declared twice, a remote named
 * as another's primary (a remote has no istiod to serve anyone). The stack checks its prop with it and
 * the handlers check what they parse, so both refuse the same things in the same words.
 */
export function remoteClustersProblem(remotes: readonly RemoteClusterDeclaration[]): string | undefined {
  for (const [index, { name, primary }] of remotes.entries()) {
    for (const value of [name, primary]) {
      if (typeof value !== 'string' || value.trim() === '' || /[,=\s]/.test(value)) {
        return `remote ${JSON.stringify({ name, primary })} is not a remote and a primary named by their EKS names`;
      }
    }
    if (name === primary) {
      return `cluster ${name} is declared its own primary; a remote is served by another cluster's istiod`;
    }
    const twice = remotes.slice(0, index).find((remote) => remote.name === name);
    if (twice !== undefined) {
      return `remote cluster ${name} is declared twice (primaries ${twice.primary} and ${primary}); a remote has one primary`;
    }
  }
  for (const remote of remotes) {
    const served = remotes.find((other) => other.primary === remote.name);
    if (served !== undefined) {
      return (
        `cluster ${remote.name} is a remote (of ${remote.primary}) and the primary of ${served.name}; a remote runs ` +
        `no istiod, so name ${remote.primary} (or another primary) as ${served.name}'s primary`
      );
    }
  }
  return undefined;
}
