// A Kubernetes client for one EKS cluster, made per invocation: it trusts only the cluster's CA (from
// DescribeCluster; never skipTLSVerify) and sends a bearer token from the token provider on every
// request, so a long step picks up a refreshed token without a new client.
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api, type User } from '@kubernetes/client-node';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.js';

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
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  /** PodDisruptionBudgets (policy/v1), which restart-workloads holds its restarts to. */
  readonly policy: PolicyV1Api;
  readonly retry: KubeRetryOptions;
  /** The same connection (CA, token per request) for what is not an API class: port-forward. */
  readonly kubeConfig: KubeConfig;
}

// The kubeconfig user whose requests our authenticator signs; never given a static token.
const ROTATOR_USER = 'meshtrust-rotator';

export function createClusterClient(options: CreateClusterClientOptions): ClusterClient {
  const { cluster, tokenProvider } = options;
  const endpoint = parseHttpsEndpoint(cluster);
  if (!cluster.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new PreconditionFailed(
      `Cluster ${cluster.name} has no CA certificate to trust for its API server; pass certificateAuthority.data of DescribeCluster (decoded PEM).`,
      { cluster: cluster.name },
    );
  }
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: cluster.name,
        server: endpoint,
        caData: Buffer.from(cluster.caPem, 'utf8').toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: ROTATOR_USER }],
    contexts: [{ name: cluster.name, cluster: cluster.name, user: ROTATOR_USER }],
    currentContext: cluster.name,
  });
  config.addAuthenticator({
    isAuthProvider: (user: User) => user.name === ROTATOR_USER,
    applyAuthentication: async (_user, requestOptions) => {
      const token = await tokenProvider();
      requestOptions.headers = { ...requestOptions.headers, Authorization: `Bearer ${token}` };
    },
  });
  return {
    name: cluster.name,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    policy: config.makeApiClient(PolicyV1Api),
    retry: options.retry ?? DEFAULT_KUBE_RETRY,
    kubeConfig: config,
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
  // client-node appends API paths to the server as given: no trailing slash.
  return cluster.endpoint.replace(/\/+$/, '');
}
