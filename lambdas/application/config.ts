import { DEFAULT_MESH_TAG_KEY } from '../adapters/eks/fleet-discovery.js';
import {
  EnvironmentVariableError,
  getBooleanFromEnv,
  getListFromEnv,
  getNumberFromEnv,
  getStringFromEnv,
} from '../adapters/environment.js';
import {
  CA_SECRET_POLICY_ENV,
  type CaSecretGrant,
  type CaSecretPolicyPrincipals,
} from '../contract/ca-store.js';
import { CLUSTER_ACCOUNT_ROLES_ENV, MESH_ACCOUNT_ID_ENV } from '../contract/cluster-reference.js';
import {
  AWS_REGION_ENV,
  CLUSTER_ROLE_ARN_ENV,
  CLUSTER_TAG_KEY_ENV,
  CLUSTER_TAG_VALUE_ENV,
  CLUSTERS_ENV,
  DEFAULT_KEY_ALGORITHM,
  DISTRIBUTED_MAPS_ENV,
  EXPIRY_WARNING_DAYS,
  EXPIRY_WARNING_DAYS_ENV,
  INTERMEDIATE_VALIDITY_DAYS,
  INTERMEDIATE_VALIDITY_DAYS_ENV,
  isKeyAlgorithm,
  KEY_ALGORITHM_ENV,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  KMS_KEY_ID_ENV,
  KUBELET_SYNC_PERIOD_SECONDS,
  KUBELET_SYNC_PERIOD_SECONDS_ENV,
  MESH_ID_ENV,
  MIN_INTERMEDIATE_HEADROOM_DAYS,
  MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
  MIN_ROOT_HEADROOM_DAYS,
  MIN_ROOT_HEADROOM_DAYS_ENV,
  RESTART_WAVE_SIZE,
  RESTART_WAVE_SIZE_ENV,
  ROLLOUT_TIMEOUT_SECONDS,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
  ROOT_VALIDITY_DAYS,
  ROOT_VALIDITY_DAYS_ENV,
  VERIFY_TIMEOUT_SECONDS,
  VERIFY_TIMEOUT_SECONDS_ENV,
} from '../contract/function-environment.js';
import {
  ROOT_KEY_DELETION_WINDOW_DAYS,
  ROOT_KEY_DELETION_WINDOW_DAYS_ENV,
  ROOT_KEY_PRINCIPALS_ENV,
  type RootKeyUse,
} from '../contract/root-keys.js';
import { LOCK_TABLE_NAME_ENV, LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../contract/rotation-lock.js';
import {
  DEFAULT_ROTATION_STRATEGY,
  ROTATION_STRATEGY_ENV,
  ROTATION_STRATEGY_SETTINGS,
  type RotationStrategySettingName,
} from '../contract/rotation-strategy.js';
import { REMOTE_CLUSTERS_ENV } from '../contract/topology.js';
import type { RotationStrategySetting } from '../core/istio/rotation-strategy.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { parseClusterAccountRoles } from '../core/topology/cluster-targets.js';
import {
  parseRemoteClusters,
  type RemoteClusterDeclaration,
  TopologyError,
} from '../core/topology/mesh-topology.js';

/**
 * Everything a rotation function reads from its environment: the keys of the contract's
 * ROTATION_FUNCTION_ENV_KEYS (lambdas/contract/function-environment.ts), each of which the stack sets
 * (lib/rotation-functions.ts), and AWS_REGION, which Lambda sets. The defaults serve the CLI and tests,
 * which run without the stack.
 */
export interface RotationConfig {
  /** MESH_ID: names the mesh and its secrets. */
  readonly meshId: string;
  /**
   * CLUSTERS: the cluster list as written, EKS names or cluster ARNs (lambdas/contract/cluster-reference.ts;
   * the runtime parses it at preflight, lambdas/core/topology/cluster-targets.ts); empty: discover by tag.
   */
  readonly clusters: readonly string[];
  /** CLUSTER_TAG_KEY (default meshtrust.io/mesh): the tag that marks the mesh's clusters. */
  readonly clusterTagKey: string;
  /** CLUSTER_TAG_VALUE (default: the mesh id): its value. */
  readonly clusterTagValue: string;
  /** KMS_KEY_ID: the key secrets are created with; undefined: the account's aws/secretsmanager key. */
  readonly kmsKeyId?: string;
  /** AWS_REGION: where the clusters and secrets are; the STS region of EKS tokens. */
  readonly region: string;
  /**
   * LOCK_TABLE_NAME and LOCK_TAKEOVER_GRACE_SECONDS: the mesh's rotation lock (docs/workflow.md, "The
   * rotation lock"). The stack sets both on every function; absent only outside a deployed stack (tests,
   * the CLI), where acquire-lock and release-lock refuse to run and the writing phases skip their check.
   */
  readonly lock?: LockConfig;
  /** ROLLOUT_TIMEOUT_SECONDS (default 600): how long one restart wave may take. */
  readonly rolloutTimeoutSeconds: number;
  /** RESTART_WAVE_SIZE (default 5): workloads restarted together. */
  readonly restartWaveSize: number;
  /** DISTRIBUTED_MAPS (default false): the per-cluster Maps run each cluster as a child execution. */
  readonly distributedMaps: boolean;
  /** INTERMEDIATE_VALIDITY_DAYS (default 730). */
  readonly intermediateValidityDays: number;
  /** ROOT_VALIDITY_DAYS (default 1825). */
  readonly rootValidityDays: number;
  /**
   * KEY_ALGORITHM (default ecdsa-p256) of new roots and intermediates; a new root's KMS key has the
   * matching key spec (ECC_NIST_P256, RSA_4096, ...).
   */
  readonly keyAlgorithm: KeyAlgorithm;
  /**
   * ROOT_KEY_DELETION_WINDOW_DAYS (7-30, default 30): days from retiring a root key (disabled at once) to
   * its deletion, for a retired root's KMS key or imported key secret and for a rolled-back staged key.
   */
  readonly rootKeyDeletionWindowDays: number;
  /**
   * ROOT_KEY_CREATOR_ARNS, ROOT_KEY_SIGNER_ARNS, ROOT_KEY_RETIRER_ARNS, ROOT_KEY_FINDER_ARNS: the roles a
   * new root key's policy names for each use; undefined when none is set: KMS's default key policy.
   */
  readonly rootKeyPrincipals?: Readonly<Record<RootKeyUse, readonly string[]>>;
  /**
   * CA_ROOT_SECRET_READER_ARNS, CA_INTERMEDIATE_SECRET_WRITER_ARNS, ... (CA_SECRET_POLICY_ENV): the roles
   * each kind of CA secret's resource policy exempts; undefined when none is set: secrets get no policy.
   */
  readonly caSecretPolicy?: CaSecretPolicyPrincipals;
  /** CLUSTER_ROLE_ARN: the role assumed to sign EKS tokens; undefined: the function's own credentials. */
  readonly clusterRoleArn?: string;
  /**
   * CLUSTER_ACCOUNT_ROLES: per other account of the cluster list, the role of that account this function
   * reaches its clusters as (assumed from the cluster role); empty: every cluster is in the mesh's account.
   */
  readonly clusterAccountRoles: ReadonlyMap<string, string>;
  /** MESH_ACCOUNT_ID: the stack's account; undefined outside a stack (a cluster ARN's account is then taken as given). */
  readonly meshAccountId?: string;
  /** MIN_INTERMEDIATE_HEADROOM_DAYS (default 7): preflight refuses an intermediate expiring sooner. */
  readonly minIntermediateHeadroomDays: number;
  /**
   * MIN_ROOT_HEADROOM_DAYS (default 7): how long the current root must outlive what a run leans on it for
   * (lambdas/core/rotation/root-headroom.ts: scheduled and intermediate refuse below it, emergency notes).
   */
  readonly minRootHeadroomDays: number;
  /** EXPIRY_WARNING_DAYS (default 90): check-expiry warns below it (the alarm has its own threshold). */
  readonly expiryWarningDays: number;
  /** VERIFY_TIMEOUT_SECONDS (default 60): how long a handler waits in-process for istiod to catch up. */
  readonly verifyTimeoutSeconds: number;
  /**
   * KUBELET_SYNC_PERIOD_SECONDS (default 60): the clusters' kubelet syncFrequency, from which the gates
   * tell istiod still loading a cacerts write from istiod having missed it (core/istio/istiod-load-window.ts).
   */
  readonly kubeletSyncPeriodSeconds: number;
  /**
   * ROTATION_STRATEGY (default auto): how workloads move to the new intermediate, per cluster `resign`
   * (PCDS push, no restart) or `restart`; `auto` lets preflight choose (lambdas/core/istio/rotation-strategy.ts).
   * reissue-intermediate acts on `resign` (A+B+B); every run still restarts (docs/workflow.md, "Rotation strategy").
   */
  readonly rotationStrategy: RotationStrategySetting;
  /**
   * REMOTE_CLUSTERS (default: none, every cluster a primary): each remote cluster and the primary whose
   * istiod serves it (lambdas/contract/topology.ts). A remote is never written; it is verified and restarted.
   */
  readonly remoteClusters: readonly RemoteClusterDeclaration[];
}

// The contract's list and the core's type name the same three settings.
const STRATEGY_SETTINGS: readonly RotationStrategySetting[] = ROTATION_STRATEGY_SETTINGS;

export interface LockConfig {
  readonly tableName: string;
  /** How long the lock of an execution that stopped stays untouchable (the longest function timeout). */
  readonly takeoverGraceSeconds: number;
}

/**
 * Reads and checks the handler environment; throws EnvironmentVariableError naming the variable. Every
 * read names its key by the contract's constant: test/infra/function-environment.test.ts finds the keys
 * this way and holds the stack to them.
 */
export function readRotationConfig(): RotationConfig {
  const keyAlgorithm = getStringFromEnv({ key: KEY_ALGORITHM_ENV, defaultValue: DEFAULT_KEY_ALGORITHM });
  if (!isKeyAlgorithm(keyAlgorithm)) {
    throw new EnvironmentVariableError(
      `Environment variable ${KEY_ALGORITHM_ENV} must be one of ${KEY_ALGORITHMS.join(', ')}, got ${JSON.stringify(keyAlgorithm)}.`,
      KEY_ALGORITHM_ENV,
    );
  }
  const meshId = getStringFromEnv({
    key: MESH_ID_ENV,
    errorMessage: 'Set it to the id of the mesh to rotate.',
  });
  const kmsKeyId = getStringFromEnv({ key: KMS_KEY_ID_ENV, defaultValue: '' });
  const lockTableName = getStringFromEnv({ key: LOCK_TABLE_NAME_ENV, defaultValue: '' });
  const principals = (use: RootKeyUse) =>
    getListFromEnv({ key: ROOT_KEY_PRINCIPALS_ENV[use], defaultValue: [] });
  const rootKeyPrincipals = {
    create: principals('create'),
    sign: principals('sign'),
    retire: principals('retire'),
    find: principals('find'),
  };
  const caSecretPolicy = Object.fromEntries(
    (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [
      grant,
      getListFromEnv({ key: CA_SECRET_POLICY_ENV[grant], defaultValue: [] }),
    ]),
  ) as Record<CaSecretGrant, string[]>;
  const clusterRoleArn = getStringFromEnv({ key: CLUSTER_ROLE_ARN_ENV, defaultValue: '' });
  const meshAccountId = getStringFromEnv({ key: MESH_ACCOUNT_ID_ENV, defaultValue: '' });
  return {
    meshId,
    clusters: getListFromEnv({ key: CLUSTERS_ENV, defaultValue: [] }),
    clusterTagKey: getStringFromEnv({ key: CLUSTER_TAG_KEY_ENV, defaultValue: DEFAULT_MESH_TAG_KEY }),
    clusterTagValue: getStringFromEnv({ key: CLUSTER_TAG_VALUE_ENV, defaultValue: meshId }),
    ...(kmsKeyId !== '' && { kmsKeyId }),
    ...(Object.values(rootKeyPrincipals).some((arns) => arns.length > 0) && { rootKeyPrincipals }),
    ...(Object.values(caSecretPolicy).some((arns) => arns.length > 0) && { caSecretPolicy }),
    ...(clusterRoleArn !== '' && { clusterRoleArn }),
    clusterAccountRoles: clusterAccountRolesFromEnv(),
    ...(meshAccountId !== '' && { meshAccountId }),
    region: getStringFromEnv({
      key: AWS_REGION_ENV,
      errorMessage: 'Lambda sets it; elsewhere set it to the region of the clusters and secrets.',
    }),
    ...(lockTableName !== '' && {
      lock: {
        tableName: lockTableName,
        takeoverGraceSeconds: getNumberFromEnv({
          key: LOCK_TAKEOVER_GRACE_SECONDS_ENV,
          integer: true,
          min: 0,
          errorMessage: `It goes with ${LOCK_TABLE_NAME_ENV}: the meshtrust stack sets both (the longest function timeout, in seconds).`,
        }),
      },
    }),
    rolloutTimeoutSeconds: getNumberFromEnv({
      key: ROLLOUT_TIMEOUT_SECONDS_ENV,
      defaultValue: ROLLOUT_TIMEOUT_SECONDS.default,
      integer: true,
      min: ROLLOUT_TIMEOUT_SECONDS.min,
      max: ROLLOUT_TIMEOUT_SECONDS.max,
    }),
    restartWaveSize: getNumberFromEnv({
      key: RESTART_WAVE_SIZE_ENV,
      defaultValue: RESTART_WAVE_SIZE.default,
      integer: true,
      min: RESTART_WAVE_SIZE.min,
    }),
    distributedMaps: getBooleanFromEnv({ key: DISTRIBUTED_MAPS_ENV, defaultValue: false }),
    intermediateValidityDays: getNumberFromEnv({
      key: INTERMEDIATE_VALIDITY_DAYS_ENV,
      defaultValue: INTERMEDIATE_VALIDITY_DAYS.default,
      integer: true,
      min: INTERMEDIATE_VALIDITY_DAYS.min,
    }),
    rootValidityDays: getNumberFromEnv({
      key: ROOT_VALIDITY_DAYS_ENV,
      defaultValue: ROOT_VALIDITY_DAYS.default,
      integer: true,
      min: ROOT_VALIDITY_DAYS.min,
    }),
    keyAlgorithm,
    rootKeyDeletionWindowDays: getNumberFromEnv({
      key: ROOT_KEY_DELETION_WINDOW_DAYS_ENV,
      defaultValue: ROOT_KEY_DELETION_WINDOW_DAYS.default,
      integer: true,
      min: ROOT_KEY_DELETION_WINDOW_DAYS.min,
      max: ROOT_KEY_DELETION_WINDOW_DAYS.max,
    }),
    minIntermediateHeadroomDays: getNumberFromEnv({
      key: MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
      defaultValue: MIN_INTERMEDIATE_HEADROOM_DAYS.default,
      integer: true,
      min: MIN_INTERMEDIATE_HEADROOM_DAYS.min,
    }),
    minRootHeadroomDays: getNumberFromEnv({
      key: MIN_ROOT_HEADROOM_DAYS_ENV,
      defaultValue: MIN_ROOT_HEADROOM_DAYS.default,
      integer: true,
      min: MIN_ROOT_HEADROOM_DAYS.min,
    }),
    expiryWarningDays: getNumberFromEnv({
      key: EXPIRY_WARNING_DAYS_ENV,
      defaultValue: EXPIRY_WARNING_DAYS.default,
      integer: true,
      min: EXPIRY_WARNING_DAYS.min,
    }),
    verifyTimeoutSeconds: getNumberFromEnv({
      key: VERIFY_TIMEOUT_SECONDS_ENV,
      defaultValue: VERIFY_TIMEOUT_SECONDS.default,
      integer: true,
      min: VERIFY_TIMEOUT_SECONDS.min,
      max: VERIFY_TIMEOUT_SECONDS.max,
    }),
    kubeletSyncPeriodSeconds: getNumberFromEnv({
      key: KUBELET_SYNC_PERIOD_SECONDS_ENV,
      defaultValue: KUBELET_SYNC_PERIOD_SECONDS.default,
      integer: true,
      min: KUBELET_SYNC_PERIOD_SECONDS.min,
      max: KUBELET_SYNC_PERIOD_SECONDS.max,
    }),
    rotationStrategy: rotationStrategyFromEnv(),
    remoteClusters: remoteClustersFromEnv(),
  };
}

function clusterAccountRolesFromEnv(): ReadonlyMap<string, string> {
  const value = getStringFromEnv({ key: CLUSTER_ACCOUNT_ROLES_ENV, defaultValue: '' });
  try {
    return parseClusterAccountRoles(value);
  } catch (error) {
    if (!(error instanceof PreconditionFailed)) throw error;
    throw new EnvironmentVariableError(error.message, CLUSTER_ACCOUNT_ROLES_ENV, { cause: error });
  }
}

function remoteClustersFromEnv(): RemoteClusterDeclaration[] {
  const value = getStringFromEnv({ key: REMOTE_CLUSTERS_ENV, defaultValue: '' });
  try {
    return parseRemoteClusters(value, `Environment variable ${REMOTE_CLUSTERS_ENV}`);
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    throw new EnvironmentVariableError(error.message, REMOTE_CLUSTERS_ENV, { cause: error });
  }
}

function rotationStrategyFromEnv(): RotationStrategySetting {
  const value = getStringFromEnv({
    key: ROTATION_STRATEGY_ENV,
    defaultValue: DEFAULT_ROTATION_STRATEGY,
  });
  const setting = STRATEGY_SETTINGS.find((name) => name === value);
  if (setting === undefined) {
    throw new EnvironmentVariableError(
      `Environment variable ${ROTATION_STRATEGY_ENV} must be one of ${ROTATION_STRATEGY_SETTINGS.join(', ')}, got ${JSON.stringify(value)}.`,
      ROTATION_STRATEGY_ENV,
    );
  }
  return setting satisfies RotationStrategySettingName;
}
