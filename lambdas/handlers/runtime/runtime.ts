import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type DiscoveredCluster, discoverClusters } from '../../adapters/eks/fleet-discovery.js';
import { type ClusterClient, createClusterClient } from '../../adapters/kube/cluster-client.js';
import { createEksTokenProvider } from '../../adapters/kube/eks-token-provider.js';
import { CaSecretStore } from '../../adapters/secrets/ca-secret-store.js';
import {
  type ExecutionSummary,
  RotationExecutions,
} from '../../adapters/stepfunctions/rotation-executions.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { type HandlerConfig, readHandlerConfig } from './config.js';

/**
 * What every handler works with, wired once per invocation: the configuration, the CA store, the
 * mesh's clusters and a Kubernetes client per cluster authenticated with EKS tokens. AWS clients use
 * the default credential chain and honour AWS_ENDPOINT_URL_<SERVICE> (which is how tests and the lab
 * point them at moto and the lab's EKS).
 */
export interface HandlerRuntime {
  readonly config: HandlerConfig;
  readonly store: CaSecretStore;
  /** The mesh's clusters, sorted by name (discovered once per invocation). */
  fleet(): Promise<readonly DiscoveredCluster[]>;
  /** A client for a cluster of the fleet; PreconditionFailed for a cluster outside it. */
  clusterClient(name: string): Promise<ClusterClient>;
  /** The RUNNING executions of the rotation state machine (STATE_MACHINE_ARN); none when it is not set. */
  runningRotations(): Promise<ExecutionSummary[]>;
  /** Releases the AWS clients. */
  close(): void;
}

export function createHandlerRuntime(config: HandlerConfig = readHandlerConfig()): HandlerRuntime {
  const secrets = new SecretsManagerClient({ region: config.region });
  const eks = new EKSClient({ region: config.region });
  const sfn = new SFNClient({ region: config.region });
  const store = new CaSecretStore({
    client: secrets,
    meshId: config.meshId,
    ...(config.kmsKeyId !== undefined && { kmsKeyId: config.kmsKeyId }),
  });
  let fleet: Promise<DiscoveredCluster[]> | undefined;
  const clients = new Map<string, ClusterClient>();

  const loadFleet = (): Promise<DiscoveredCluster[]> => {
    fleet ??= discoverClusters({
      eks,
      meshId: config.meshId,
      tagKey: config.clusterTagKey,
      tagValue: config.clusterTagValue,
      explicitClusters: config.clusters,
    });
    return fleet;
  };

  return {
    config,
    store,
    fleet: loadFleet,
    async clusterClient(name) {
      const known = clients.get(name);
      if (known !== undefined) return known;
      const clusters = await loadFleet();
      const cluster = clusters.find((candidate) => candidate.name === name);
      if (cluster === undefined) {
        throw new PreconditionFailed(
          `Cluster ${name} is not one of mesh ${config.meshId}'s clusters (${clusters.map((c) => c.name).join(', ') || 'none found'}); ` +
            'check the state machine input, CLUSTERS or the cluster tags.',
          { cluster: name },
        );
      }
      const client = createClusterClient({
        cluster,
        tokenProvider: createEksTokenProvider({ clusterName: cluster.name, region: config.region }),
      });
      clients.set(name, client);
      return client;
    },
    async runningRotations() {
      if (config.stateMachineArn === undefined) return [];
      return new RotationExecutions({ client: sfn }).list(config.stateMachineArn, {
        status: 'RUNNING',
        max: 10,
      });
    },
    close() {
      secrets.destroy();
      eks.destroy();
      sfn.destroy();
    },
  };
}
