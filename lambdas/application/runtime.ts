import { EKSClient } from '@aws-sdk/client-eks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type DiscoveredCluster, discoverClusters } from '../adapters/eks/fleet-discovery.js';
import type { RootKeysConnector } from '../adapters/kms/connect-root-keys.js';
import type { RootKeys } from '../adapters/kms/root-keys.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { ClusterConnector } from '../adapters/kube/eks-cluster-connector.js';
import type { RotationLockConnector } from '../adapters/lock/connect-rotation-lock.js';
import type { RotationLock } from '../adapters/lock/rotation-lock.js';
import { CaSecretStore } from '../adapters/secrets/ca-secret-store.js';
import type { ExecutionsConnector } from '../adapters/stepfunctions/connect-executions.js';
import type { RotationExecutions } from '../adapters/stepfunctions/rotation-executions.js';
import { LOCK_TABLE_NAME_ENV } from '../contract/rotation-lock.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { type ClusterTarget, clusterTargetsOf } from '../core/topology/cluster-targets.js';
import { type RotationConfig, readRotationConfig } from './config.js';

/**
 * What every handler and the CLI's fleet readings work with, wired once per invocation or command: the
 * configuration, the CA store, the mesh's clusters and, as the caller's connectors allow, a Kubernetes
 * client per cluster authenticated with EKS tokens, the root keys, the rotation lock and the state
 * machine's executions. AWS clients use the default credential chain and honour
 * AWS_ENDPOINT_URL_<SERVICE> (which is how tests and the lab point them at moto and the lab's EKS).
 */
export interface RotationRuntime {
  readonly config: RotationConfig;
  readonly store: CaSecretStore;
  /**
   * The mesh's root keys in KMS (adapters/kms/root-keys.ts). Only with the `connectRootKeys` option:
   * without it, a TypeError (a bug of the caller).
   */
  readonly rootKeys: RootKeys;
  /** The mesh's clusters, sorted by name (discovered once per invocation). */
  fleet(): Promise<readonly DiscoveredCluster[]>;
  /**
   * A client for a cluster of the fleet; PreconditionFailed for a cluster outside it. Only with the
   * `connectCluster` option: without it, a TypeError (a bug of the caller).
   */
  clusterClient(name: string): Promise<ClusterClient>;
  /**
   * The mesh's rotation lock; PreconditionFailed naming LOCK_TABLE_NAME when the function has no lock
   * table (outside a deployed stack). Only with the `connectLock` option: without it, a TypeError.
   */
  lock(): RotationLock;
  /**
   * The rotation state machine's executions (DescribeExecution, GetExecutionHistory), as IAM allows.
   * Only with the `connectExecutions` option: without it, a TypeError.
   */
  executions(): RotationExecutions;
  /** Releases the AWS clients. */
  close(): void;
}

/**
 * How the runtime reaches what lies beyond the CA store and EKS, each handed in by the callers that use
 * it: a runtime never imports these adapters itself, so a handler's bundle holds only the clients its
 * step calls (docs/architecture.md, "Lambda bundles"). Asked for without its connector, a part of the
 * runtime throws a TypeError: the caller's bug, not the fleet's.
 */
export interface RuntimeConnectors {
  /**
   * How to connect to a cluster (adapters/kube/eks-cluster-connector.ts `connectEksCluster`): given by
   * the handlers that reach clusters and by the CLI, for `clusterClient`.
   */
  readonly connectCluster?: ClusterConnector;
  /** How to reach the root keys (adapters/kms/connect-root-keys.ts `connectRootKeys`), for `rootKeys`. */
  readonly connectRootKeys?: RootKeysConnector;
  /** How to reach the rotation lock (adapters/lock/connect-rotation-lock.ts `connectRotationLock`), for `lock`. */
  readonly connectLock?: RotationLockConnector;
  /**
   * How to read the executions (adapters/stepfunctions/connect-executions.ts `connectExecutions`), for
   * `executions`.
   */
  readonly connectExecutions?: ExecutionsConnector;
}

export interface RotationRuntimeOptions extends RuntimeConnectors {
  /** The session name when assuming the cluster role (2-64 of [\w+=,.@-]). @default 'meshtrust' */
  readonly sessionName?: string;
}

export function createRotationRuntime(
  config: RotationConfig = readRotationConfig(),
  options: RotationRuntimeOptions = {},
): RotationRuntime {
  const secrets = new SecretsManagerClient({ region: config.region });
  const eks = new EKSClient({ region: config.region });
  const store = new CaSecretStore({
    client: secrets,
    meshId: config.meshId,
    ...(config.kmsKeyId !== undefined && { kmsKeyId: config.kmsKeyId }),
    ...(config.caSecretPolicy !== undefined && { secretPolicy: config.caSecretPolicy }),
  });
  // What close() releases besides the CA store's and EKS's clients.
  const closers: (() => void)[] = [];
  let rootKeys: RootKeys | undefined;
  let lock: RotationLock | undefined;
  let executions: RotationExecutions | undefined;
  let fleet: Promise<DiscoveredCluster[]> | undefined;
  const clients = new Map<string, ClusterClient>();
  // The clusters know the cluster role (group meshtrust-rotator), not this function's own role: its
  // EKS tokens are signed as a session of that role, named after the phase for the API server's audit log.
  const sessionName = sessionNameOf(options.sessionName);
  const clusterCredentials =
    config.clusterRoleArn === undefined
      ? undefined
      : fromTemporaryCredentials({
          params: { RoleArn: config.clusterRoleArn, RoleSessionName: sessionName },
          clientConfig: { region: config.region },
        });
  // Where each entry of the cluster list is and who reaches it (lambdas/core/topology/cluster-targets.ts),
  // a `*` entry standing for every tagged cluster of its account and region.
  let listed: readonly ClusterTarget[] | undefined;
  const listedTargets = (): readonly ClusterTarget[] => {
    listed ??= clusterTargetsOf(
      config.clusters,
      {
        region: config.region,
        ...(config.meshAccountId !== undefined && { accountId: config.meshAccountId }),
      },
      config.clusterAccountRoles,
    );
    return listed;
  };
  // A cluster found by tag in a `*` entry's account and region: reached as that entry says.
  const discoveredTargets = new Map<string, ClusterTarget>();
  const targetOf = (name: string): ClusterTarget =>
    listedTargets().find((target) => target.name === name && target.discover === undefined) ??
    discoveredTargets.get(name) ?? { name, region: config.region, entry: name };
  // A cluster of another account is reached as that account's role, assumed from the cluster role (so
  // that account's trust policy names the stack's RotatorRole or VerifierRole), in the same session name.
  const accountCredentials = new Map<string, AwsCredentialIdentityProvider>();
  const credentialsOf = (target: ClusterTarget): AwsCredentialIdentityProvider | undefined => {
    if (target.roleArn === undefined) return clusterCredentials;
    let credentials = accountCredentials.get(target.roleArn);
    if (credentials === undefined) {
      credentials = fromTemporaryCredentials({
        params: { RoleArn: target.roleArn, RoleSessionName: sessionName },
        ...(clusterCredentials !== undefined && { masterCredentials: clusterCredentials }),
        clientConfig: { region: config.region },
      });
      accountCredentials.set(target.roleArn, credentials);
    }
    return credentials;
  };
  // EKS of the cluster's region, as its account's role in another account (the function's own role may
  // describe only the clusters of its account).
  const eksClients = new Map<string, EKSClient>();
  const eksOf = (target: ClusterTarget): EKSClient => {
    if (target.roleArn === undefined && target.region === config.region) return eks;
    const key = `${target.roleArn ?? ''}@${target.region}`;
    let client = eksClients.get(key);
    if (client === undefined) {
      const credentials = target.roleArn === undefined ? undefined : credentialsOf(target);
      client = new EKSClient({ region: target.region, ...(credentials !== undefined && { credentials }) });
      eksClients.set(key, client);
    }
    return client;
  };

  // The named clusters, and every tagged cluster of each `*` entry's account and region (no list at
  // all: the mesh's own account and region), one name per cluster across them all.
  const loadFleet = (): Promise<DiscoveredCluster[]> => {
    fleet ??= Promise.resolve().then(async () => {
      const entries = listedTargets();
      const named = entries.filter((target) => target.discover === undefined);
      const scopes =
        entries.length === 0
          ? [{ name: '*', region: config.region, entry: '*', discover: true } as const]
          : entries.filter((target) => target.discover !== undefined);
      const found =
        named.length === 0
          ? []
          : await discoverClusters({
              eks,
              meshId: config.meshId,
              explicitClusters: named.map((target) => ({
                name: target.name,
                eks: eksOf(target),
                location: `${placeOf(target)} (${JSON.stringify(target.entry)})`,
              })),
            });
      for (const scope of scopes) {
        const tagged = await discoverClusters({
          eks: eksOf(scope),
          meshId: config.meshId,
          tagKey: config.clusterTagKey,
          tagValue: config.clusterTagValue,
        });
        for (const cluster of tagged) {
          const same = found.find((other) => other.name === cluster.name);
          if (same?.arn === cluster.arn) continue;
          if (same !== undefined) {
            throw new PreconditionFailed(
              `Two clusters of mesh ${config.meshId} are named ${cluster.name} (${same.arn} and ${cluster.arn}); a cluster's name ` +
                'is its identity in the mesh (its secrets, its audit events): rename one, or take the mesh tag off one.',
              { cluster: cluster.name },
            );
          }
          discoveredTargets.set(cluster.name, {
            name: cluster.name,
            region: scope.region,
            entry: cluster.arn,
            ...(scope.accountId !== undefined && { accountId: scope.accountId }),
            ...(scope.roleArn !== undefined && { roleArn: scope.roleArn }),
          });
          found.push(cluster);
        }
      }
      return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
    return fleet;
  };

  return {
    config,
    store,
    get rootKeys() {
      if (rootKeys !== undefined) return rootKeys;
      const connected = connectorOf(
        options.connectRootKeys,
        'connectRootKeys',
        'the root keys',
      )({
        region: config.region,
        meshId: config.meshId,
        ...(config.rootKeyPrincipals !== undefined && { keyPrincipals: config.rootKeyPrincipals }),
      });
      closers.push(connected.close);
      rootKeys = connected.rootKeys;
      return rootKeys;
    },
    fleet: loadFleet,
    async clusterClient(name) {
      const known = clients.get(name);
      if (known !== undefined) return known;
      const connectCluster = connectorOf(
        options.connectCluster,
        'connectCluster',
        `a client of cluster ${name}`,
      );
      const clusters = await loadFleet();
      const cluster = clusters.find((candidate) => candidate.name === name);
      if (cluster === undefined) {
        throw new PreconditionFailed(
          `Cluster ${name} is not one of mesh ${config.meshId}'s clusters (${clusters.map((c) => c.name).join(', ') || 'none found'}); ` +
            'check the state machine input, CLUSTERS or the cluster tags.',
          { cluster: name },
        );
      }
      // The token is presigned for the cluster's region, as the role its account knows.
      const target = targetOf(cluster.name);
      const credentials = credentialsOf(target);
      const client = connectCluster({
        cluster,
        region: target.region,
        ...(credentials !== undefined && { credentials }),
      });
      clients.set(name, client);
      return client;
    },
    lock() {
      if (lock !== undefined) return lock;
      if (config.lock === undefined) {
        throw new PreconditionFailed(
          `This function has no rotation lock table (${LOCK_TABLE_NAME_ENV} is not set), so it cannot take or ` +
            'release the lock; the meshtrust stack sets it on every function (docs/workflow.md, "The rotation lock").',
        );
      }
      const connected = connectorOf(
        options.connectLock,
        'connectLock',
        'the rotation lock',
      )({
        region: config.region,
        tableName: config.lock.tableName,
        meshId: config.meshId,
        takeoverGraceSeconds: config.lock.takeoverGraceSeconds,
      });
      closers.push(connected.close);
      lock = connected.lock;
      return lock;
    },
    executions() {
      if (executions !== undefined) return executions;
      const connected = connectorOf(
        options.connectExecutions,
        'connectExecutions',
        'the executions',
      )(config.region);
      closers.push(connected.close);
      executions = connected.executions;
      return executions;
    },
    close() {
      secrets.destroy();
      eks.destroy();
      for (const client of eksClients.values()) client.destroy();
      for (const close of closers.splice(0)) close();
    },
  };
}

/** The connector the caller handed in; a TypeError naming it when it handed none (the caller's bug). */
function connectorOf<T>(connector: T | undefined, option: keyof RuntimeConnectors, what: string): T {
  if (connector === undefined) {
    throw new TypeError(`asked for ${what} from a runtime made without ${option}`);
  }
  return connector;
}

function placeOf(target: ClusterTarget): string {
  return `${target.accountId === undefined ? "the mesh's account" : `account ${target.accountId}`}, region ${target.region}`;
}

/** A valid STS session name (2-64 of [\w+=,.@-]) from what the caller asked for. */
function sessionNameOf(wanted = 'meshtrust'): string {
  return wanted
    .replace(/[^\w+=,.@-]/g, '-')
    .slice(0, 64)
    .padEnd(2, '-');
}
