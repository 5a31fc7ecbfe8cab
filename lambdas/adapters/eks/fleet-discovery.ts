// Finds the EKS clusters of one mesh and what it takes to talk to each: API endpoint, the CA that
// signs the endpoint's certificate, Kubernetes version. Clusters are chosen by the tag
// `meshtrust.io/mesh=<mesh id>`, or named explicitly (then the tag is not required).
import {
  type Cluster,
  DescribeClusterCommand,
  type EKSClient,
  EKSServiceException,
  paginateListClusters,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { MESH_TAG_KEY } from '../../contract/resource-tags.js';
import { PreconditionFailed, TransientError } from '../../core/rotation-errors.js';
import { isTransientAwsError } from '../retry.js';
import { mapWithConcurrency } from './map-with-concurrency.js';

export const DEFAULT_MESH_TAG_KEY = MESH_TAG_KEY;
const DEFAULT_CONCURRENCY = 4;
// UPDATING clusters (e.g. a version upgrade) keep serving their API; every other state does not.
const REACHABLE_STATUSES = new Set(['ACTIVE', 'UPDATING']);

export interface DiscoverClustersOptions {
  readonly eks: EKSClient;
  readonly meshId: string;
  /** @default 'meshtrust.io/mesh' */
  readonly tagKey?: string;
  /** The tag value that marks a member of the mesh. @default the mesh id */
  readonly tagValue?: string;
  /**
   * Clusters to use instead of tag discovery: names (described with `eks`), or a name with the client of
   * its account and region. Every one must exist. An empty list means "not given" (an unset environment
   * variable parses to one).
   */
  readonly explicitClusters?: readonly (string | NamedCluster)[];
  /** Most DescribeCluster calls in flight at once. @default 4 */
  readonly concurrency?: number;
}

/** A cluster named in the cluster list, possibly in another account or region. */
export interface NamedCluster {
  readonly name: string;
  /** The EKS client of the cluster's account and region. @default the options' `eks` */
  readonly eks?: EKSClient;
  /** Where it is, for the message when it does not exist. @default 'this account and region' */
  readonly location?: string;
}

export interface DiscoveredCluster {
  readonly name: string;
  readonly arn: string;
  /** https URL of the cluster's Kubernetes API. */
  readonly endpoint: string;
  /** PEM of the CA to trust for that endpoint (decoded from certificateAuthority.data). */
  readonly caPem: string;
  /** Kubernetes version, e.g. '1.32'. */
  readonly version: string;
}

/** The mesh's clusters, sorted by name. */
export async function discoverClusters(options: DiscoverClustersOptions): Promise<DiscoveredCluster[]> {
  const tagKey = options.tagKey ?? DEFAULT_MESH_TAG_KEY;
  const tagValue = options.tagValue ?? options.meshId;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const named = (options.explicitClusters ?? []).map((entry) =>
    typeof entry === 'string' ? { name: entry } : entry,
  );
  const explicit = named.filter((entry, index) => named.findIndex((e) => e.name === entry.name) === index);

  let members: Cluster[];
  if (explicit.length > 0) {
    members = await mapWithConcurrency(explicit, concurrency, async ({ name, eks, location }) => {
      const cluster = await describeCluster(eks ?? options.eks, name);
      if (!cluster) {
        throw new PreconditionFailed(
          `EKS cluster "${name}" is listed for mesh "${options.meshId}" but does not exist in ${location ?? 'this account and region'}; fix the cluster list or the region.`,
          { cluster: name },
        );
      }
      return cluster;
    });
  } else {
    const names = await listClusterNames(options.eks);
    const described = await mapWithConcurrency(names, concurrency, (name) =>
      describeCluster(options.eks, name),
    );
    // A cluster deleted between ListClusters and DescribeCluster is simply no longer in the fleet.
    members = described.filter(
      (cluster): cluster is Cluster => cluster !== undefined && cluster.tags?.[tagKey] === tagValue,
    );
  }
  return members.map((cluster) => toDiscoveredCluster(cluster, options.meshId)).sort(byName);
}

async function listClusterNames(eks: EKSClient): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const page of paginateListClusters({ client: eks }, {})) {
      names.push(...(page.clusters ?? []));
    }
  } catch (error) {
    throw classify(error, 'list the EKS clusters');
  }
  return names;
}

async function describeCluster(eks: EKSClient, name: string): Promise<Cluster | undefined> {
  try {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name }));
    return cluster;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return undefined;
    }
    throw classify(error, `describe EKS cluster "${name}"`, name);
  }
}

function toDiscoveredCluster(cluster: Cluster, meshId: string): DiscoveredCluster {
  const name = cluster.name ?? '';
  const status = cluster.status ?? 'UNKNOWN';
  if (!REACHABLE_STATUSES.has(status)) {
    throw new PreconditionFailed(
      `EKS cluster "${name}" of mesh "${meshId}" is ${status}, not ACTIVE; wait until it is ACTIVE or take it out of the mesh.`,
      { cluster: name },
    );
  }
  const caPem = Buffer.from(cluster.certificateAuthority?.data ?? '', 'base64').toString('utf8');
  if (
    !cluster.endpoint ||
    !cluster.arn ||
    !cluster.version ||
    !caPem.includes('-----BEGIN CERTIFICATE-----')
  ) {
    throw new PreconditionFailed(
      `EKS cluster "${name}" of mesh "${meshId}" has no endpoint, ARN, version or certificate authority in DescribeCluster; check the cluster in the EKS console.`,
      { cluster: name },
    );
  }
  return { name, arn: cluster.arn, endpoint: cluster.endpoint, caPem, version: cluster.version };
}

function classify(error: unknown, action: string, cluster?: string): Error {
  const options = { cause: error, ...(cluster === undefined ? {} : { cluster }) };
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (isTransient(error)) {
    return new TransientError(`Could not ${action} (${detail}); retry later.`, options);
  }
  // An AWS answer that is not EKS's: the client's credentials were refused before the request left, for
  // a cluster of another account the AssumeRole of that account's role.
  if (
    !(error instanceof EKSServiceException) &&
    (error as { $metadata?: unknown })?.$metadata !== undefined
  ) {
    return new PreconditionFailed(
      `Could not ${action}: AWS refused the credentials to ask EKS with (${detail}), before any EKS request. For a cluster of another account, check that account's role meshtrust-<meshId>-<rotator|verifier|expiry-check> exists and trusts the stack's role of its kind (docs/deploy.md, "Clusters in other regions and accounts").`,
      options,
    );
  }
  return new PreconditionFailed(
    `Could not ${action} (${detail}); check the credentials, the region and the IAM permissions eks:ListClusters and eks:DescribeCluster.`,
    options,
  );
}

function isTransient(error: unknown): boolean {
  if (error instanceof EKSServiceException) {
    return error.$fault === 'server' || error.$retryable !== undefined || /Throttl/i.test(error.name);
  }
  // Not EKS's answer: the client's credentials failed before the request left. For a cluster of another
  // account they are that account's role, assumed through STS inside this call, so STS's throttling or
  // 5xx past its SDK's attempts arrives here under STS's name; as passing as EKS's own. A refusal
  // (AccessDenied) is not, and stays a PreconditionFailed.
  if (isTransientAwsError(error)) return true;
  // No answer from the service at all (refused, reset, timed out): the network failed, not the request.
  // The SDK marks such errors with $metadata but no HTTP status; it may also hide the Node error code
  // (it wraps errors that are not instances of this realm's Error, as under jest).
  const { code, $metadata } = (error ?? {}) as { code?: unknown; $metadata?: { httpStatusCode?: number } };
  return (
    (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) ||
    ($metadata !== undefined && $metadata.httpStatusCode === undefined) ||
    (error instanceof Error && error.name === 'TimeoutError')
  );
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function byName(a: DiscoveredCluster, b: DiscoveredCluster): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
