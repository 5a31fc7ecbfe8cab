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
