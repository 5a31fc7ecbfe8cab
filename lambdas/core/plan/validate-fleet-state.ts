import type { FleetState } from './fleet-state.js';
import { InvalidFleetStateError } from './plan-errors.js';

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * Fails closed on a fleet that cannot be rotated safely from where it stands: a plan computed from such
 * a state would start from a mesh that is already broken, or from data preflight misread.
 */
export function validateFleetState(fleet: FleetState): void {
  if (!isNonEmptyString(fleet?.currentRoot)) {
    throw new InvalidFleetStateError(
      'fleet state has no current root fingerprint; read the root secret (AWSCURRENT) in preflight and pass its fingerprint',
    );
  }
  if (!Array.isArray(fleet.clusters) || fleet.clusters.length === 0) {
    throw new InvalidFleetStateError(
      'fleet state has no clusters; check the cluster discovery (EKS tags or explicit list) before planning',
    );
  }
  const seen = new Set<string>();
  for (const cluster of fleet.clusters) {
    if (!isNonEmptyString(cluster.name)) {
      throw new InvalidFleetStateError(
        'a cluster in the fleet state has no name; every cluster needs its EKS name',
      );
    }
    const name = cluster.name;
    if (seen.has(name)) {
      throw new InvalidFleetStateError(
        `cluster '${name}' appears twice in the fleet state; list every cluster once`,
        { cluster: name },
      );
    }
    seen.add(name);
    if (!Array.isArray(cluster.trustedRoots) || !cluster.trustedRoots.every(isNonEmptyString)) {
      throw new InvalidFleetStateError(
        `cluster '${name}': trustedRoots must be a list of root fingerprints read from root-cert.pem`,
        { cluster: name },
      );
    }
    if (!cluster.trustedRoots.includes(fleet.currentRoot)) {
      throw new InvalidFleetStateError(
        `cluster '${name}': root-cert.pem does not hold the current root ${fleet.currentRoot}; ` +
          'repair that cluster (or finish the rotation it is in) before planning a new one',
        { cluster: name },
      );
    }
    if (!isNonEmptyString(cluster.intermediate) || !isNonEmptyString(cluster.intermediateIssuerRoot)) {
      throw new InvalidFleetStateError(
        `cluster '${name}': intermediate and intermediateIssuerRoot must be fingerprints read from ca-cert.pem and its chain`,
        { cluster: name },
      );
    }
    if (!Array.isArray(cluster.namespaces) || !cluster.namespaces.every(isNonEmptyString)) {
      throw new InvalidFleetStateError(`cluster '${name}': namespaces must be a list of namespace names`, {
        cluster: name,
      });
    }
  }
  for (const cluster of fleet.clusters) {
    if (cluster.primary === undefined) continue;
    const primary = fleet.clusters.find((c) => c.name === cluster.primary);
    if (primary === undefined || primary.primary !== undefined) {
      throw new InvalidFleetStateError(
        `cluster '${cluster.name}' is a remote of '${cluster.primary}', which is ${primary === undefined ? 'not in the fleet' : 'a remote itself'}; ` +
          "a remote's primary is a cluster of the fleet with its own istiod and cacerts",
        { cluster: cluster.name },
      );
    }
  }
  // Every live workload cert chains to its cluster's issuer root; a peer that does not trust that root
  // already fails handshakes, and no plan can promise continuity from a broken start.
  for (const presenting of fleet.clusters) {
    for (const verifying of fleet.clusters) {
      if (!verifying.trustedRoots.includes(presenting.intermediateIssuerRoot)) {
        throw new InvalidFleetStateError(
          `cluster '${verifying.name}' does not trust root ${presenting.intermediateIssuerRoot} that the ` +
            `intermediate of cluster '${presenting.name}' chains to, so mTLS between them already fails; ` +
            'repair the trust bundles before planning a rotation',
          { cluster: verifying.name },
        );
      }
    }
  }
}
