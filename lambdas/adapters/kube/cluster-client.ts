// A Kubernetes client for one EKS cluster, made per invocation: it trusts only the cluster's CA (from
// DescribeCluster; never skipTLSVerify) and sends a bearer token from the token provider on every
// request, so a long step picks up a refreshed token without a new client.
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.js';
import { createKubeApi, type KubeApi } from './kube-api.js';
import { createKubeConnection, type KubeConnection } from './kube-rest.js';

/** The parts of a DiscoveredCluster (fleet-discovery.ts) a client needs. */
export interface ClusterEndpoint {
  readonly name: string;
  /** https URL of the cluster's Kubernetes API. */
  readonly endpoint: string;
  /** PEM of the CA that signs the API server's certificate; the only CA the client trusts. */
  readonly caPem: string;
}

/** Retries of one API call on throttling, 5xx and network failures (see retry.ts). */
export type KubeRetryOptions = RetryPolicy;

export const DEFAULT_KUBE_RETRY: KubeRetryOptions = DEFAULT_RETRY_POLICY;

export interface CreateClusterClientOptions {
  readonly cluster: ClusterEndpoint;
  /** Returns a valid bearer token; called before every request (cache in the provider, see eks-token-provider.ts). */
  readonly tokenProvider: () => Promise<string>;
  /** @default DEFAULT_KUBE_RETRY */
  readonly retry?: KubeRetryOptions;
}

export interface ClusterClient {
  /** The cluster's name, for messages and audit events. */
  readonly name: string;
  /** The objects' operations (kube-api.ts). */
  readonly api: KubeApi;
  readonly retry: KubeRetryOptions;
  /** The same connection (CA, token per request) for a watch and a port-forward. */
  readonly connection: KubeConnection;
}

export function createClusterClient(options: CreateClusterClientOptions): ClusterClient {
  const { cluster, tokenProvider } = options;
  const server = parseHttpsEndpoint(cluster);
  if (!cluster.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PreconditionFailed(
      `Cluster ${cluster.name} has no CA certificate to trust for its API server; pass certificateAuthority.data of DescribeCluster (decoded PEM).`,
      { cluster: cluster.name },
    );
  }
  const connection = createKubeConnection({ server, caPem: cluster.caPem, tokenProvider });
  return {
    name: cluster.name,
    api: createKubeApi(connection),
    retry: options.retry ?? DEFAULT_KUBE_RETRY,
    connection,
  };
}

function parseHttpsEndpoint(cluster: ClusterEndpoint): string {
  let url: URL | undefined;
  try {
    url = new URL(cluster.endpoint);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:') {
    throw new PreconditionFailed(
      `Cluster ${cluster.name} has API endpoint "${cluster.endpoint}", not an https URL; use the endpoint of DescribeCluster.`,
      { cluster: cluster.name },
    );
  }
  // API paths are appended to the server as given: no trailing slash.
  return cluster.endpoint.replace(/\/+$/, '');
}
