// How a handler that reaches clusters connects to one: a Kubernetes client (cluster-client.ts) whose
// bearer tokens are EKS tokens (eks-token-provider.ts) presigned in the cluster's region as the role
// that reaches it. The runtime takes it as an option (lambdas/application/runtime.ts) rather than
// importing it, so a function that never reaches a cluster never bundles the Kubernetes client
// (docs/performance.md, "Lambda handlers").
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { DiscoveredCluster } from '../eks/fleet-discovery.js';
import { type ClusterClient, createClusterClient } from './cluster-client.js';
import { createEksTokenProvider } from './eks-token-provider.js';

/** A cluster of the fleet, where its token is presigned and as whom. */
export interface ClusterConnection {
  readonly cluster: DiscoveredCluster;
  /** The STS region the cluster's tokens are presigned for: the cluster's. */
  readonly region: string;
  /** The role the cluster knows; undefined: the function's own credentials. */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/** Makes the Kubernetes client of one cluster. */
export type ClusterConnector = (connection: ClusterConnection) => ClusterClient;

/** The connector of every deployed function and CLI command: EKS tokens, the cluster's own CA. */
export const connectEksCluster: ClusterConnector = ({ cluster, region, credentials }) =>
  createClusterClient({
    cluster,
    tokenProvider: createEksTokenProvider({
      clusterName: cluster.name,
      region,
      ...(credentials !== undefined && { credentials }),
    }),
  });
