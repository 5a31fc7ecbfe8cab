/**
 * What preflight reads from one cluster's `cacerts`, reduced to fingerprints. The plan and its checker
 * reason about fingerprints only; parsing certificates is the PKI core's job.
 */
export interface ClusterTrustState {
  name: string;
  /** Fingerprints of the roots in `root-cert.pem`. */
  trustedRoots: string[];
  /** Fingerprint of `ca-cert.pem`, the cluster's intermediate. */
  intermediate: string;
  /** Fingerprint of the root that the intermediate's chain ends at. */
  intermediateIssuerRoot: string;
  /** Namespaces that receive the `istio-ca-root-cert` ConfigMap. */
  namespaces: string[];
  /**
   * A remote cluster (lambdas/contract/topology.ts): the primary whose istiod serves it. A remote has no
   * cacerts; its trustedRoots, intermediate and intermediateIssuerRoot are its primary's, which is what
   * its proxies are given. Absent: the cluster is a primary.
   */
  primary?: string;
}

export interface FleetState {
  /** Fingerprint of the root the CA store holds as AWSCURRENT. */
  currentRoot: string;
  clusters: ClusterTrustState[];
}
