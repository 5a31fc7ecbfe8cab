import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Aws, Duration, Fn } from 'aws-cdk-lib';
import {
  ArnPrincipal,
  CompositePrincipal,
  type IRole,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { CA_SECRET_POLICY_ENV, type CaSecretGrant, type CaSecretPart } from '../lambdas/contract/ca-store.js';
import {
  CLUSTER_ACCOUNT_ROLES_ENV,
  formatClusterAccountRoles,
  MESH_ACCOUNT_ID_ENV,
} from '../lambdas/contract/cluster-reference.js';
import {
  CLUSTER_ROLE_ARN_ENV,
  CLUSTER_TAG_KEY_ENV,
  CLUSTER_TAG_VALUE_ENV,
  CLUSTERS_ENV,
  DISTRIBUTED_MAPS_ENV,
  EXPIRY_WARNING_DAYS_ENV,
  INTERMEDIATE_VALIDITY_DAYS_ENV,
  KEY_ALGORITHM_ENV,
  KMS_KEY_ID_ENV,
  KUBELET_SYNC_PERIOD_SECONDS_ENV,
  MESH_ID_ENV,
  MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
  MIN_ROOT_HEADROOM_DAYS_ENV,
  POWERTOOLS_METRICS_NAMESPACE_ENV,
  POWERTOOLS_SERVICE_NAME_ENV,
  RESTART_WAVE_SIZE_ENV,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
  ROOT_VALIDITY_DAYS_ENV,
  type RotationFunctionEnvKey,
  type RuntimeEnvKey,
  VERIFY_TIMEOUT_SECONDS_ENV,
} from '../lambdas/contract/function-environment.js';
import { rotationFunctionName } from '../lambdas/contract/function-names.js';
import { LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS } from '../lambdas/contract/function-timeouts.js';
import { ROOT_KEY_DELETION_WINDOW_DAYS_ENV, ROOT_KEY_PRINCIPALS_ENV } from '../lambdas/contract/root-keys.js';
import { LOCK_TABLE_NAME_ENV, LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../lambdas/contract/rotation-lock.js';
import { ROTATION_STRATEGY_ENV } from '../lambdas/contract/rotation-strategy.js';
import { REMOTE_CLUSTERS_ENV } from '../lambdas/contract/topology.js';
import type { RotationAudit } from './audit.js';
import type { CaStore } from './ca-store.js';
import { type ClusterSelection, clusterAccountRoleArns, eksClusterArns } from './cluster-selection.js';
import {
  type ClusterAccess,
  caSecretFunctions,
  clusterFunctions,
  FUNCTION_ACCESS,
  type FunctionAccess,
  rootKeyFunctions,
} from './function-access.js';
import type { FunctionNetwork } from './function-network.js';
import {
  DEPS_LOCK_FILE,
  entryPath,
  HANDLER_NAMES,
  type HandlerName,
  handlerEntryPath,
  PROJECT_ROOT,
} from './handler-entries.js';
import type { RotationLockTable } from './rotation-lock-table.js';

const pascalCase = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * Defines `require` inside the ESM bundle: undici (pulled by @kubernetes/client-node) calls
 * `require('node:assert')` at run time, which an ESM bundle otherwise rejects (docs/architecture.md).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** The newest Node.js runtime this aws-cdk-lib knows; Node 20 is deprecated and fails cfn-lint. */
export const HANDLER_RUNTIME = Runtime.NODEJS_24_X;

/**
 * Packages the handler bundles take from elsewhere (esbuild's alias), each for code a function never
 * runs (docs/architecture.md, "Lambda bundles"). Absolute paths, found as the handlers' entries are: in a
 * checkout or in an installed meshtrust, whose yaml is wherever npm put it. test/infra/cdk-synth.test.ts
 * checks that the deployed bundles are built with them, test/infra/npm-package.test.ts that an installed
 * meshtrust bundles with them.
 */
export const HANDLER_ALIASES = {
  // yaml's ESM build, the same code as the CommonJS one Node's `node` condition picks: from it esbuild
  // keeps only what `parse` reaches, where the CommonJS build comes whole (120 kB) into every bundle that
  // imports the Kubernetes adapter, even one that never parses YAML.
  yaml: join(dirname(createRequire(import.meta.url).resolve('yaml/package.json')), 'browser', 'index.js'),
  // The SDK's default credential chain, as a Lambda has it: the environment alone.
  '@aws-sdk/credential-provider-node': entryPath('lambdas/adapters/lambda/lambda-credentials.ts'),
} as const;

/**
 * How every handler is bundled: ESM for Node 24 with esbuild, no Docker, minified, with the AWS SDK
 * in the bundle and no source map in the asset (docs/architecture.md, "Lambda bundles").
 */
export const HANDLER_BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  // Function and class names survive minifying, so a stack trace names the code it ran through; a
  // source map is neither deployed nor read at start (node reads a 6-8 MB map before the handler runs).
  keepNames: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  // The SDK clients a handler uses, bundled and minified: a fresh process imports them in a fraction of
  // the time it takes to load them from the runtime's node_modules (docs/performance.md), and the
  // functions run the SDK versions the handlers were tested with.
  bundleAwsSDK: true,
  esbuildArgs: { '--alias': Object.entries(HANDLER_ALIASES).map(([name, path]) => `${name}=${path}`) },
} satisfies BundlingOptions;

/** Knobs the handlers read from their environment. */
export interface RotationTuning {
  /** How long restart-workloads waits for one wave of rollouts (must fit in the 15 min Lambda limit). */
  readonly rolloutTimeout: Duration;
  /** How many workloads restart together in one wave (emergency mode restarts all at once). */
  readonly restartWaveSize: number;
  /** The state machine's per-cluster Maps are Distributed Maps (preflight's history estimate). */
  readonly distributedMaps: boolean;
  /** Lifetime of each cluster's intermediate CA. */
  readonly intermediateValidityDays: number;
  /** Lifetime of a new root CA. */
  readonly rootValidityDays: number;
  /** Key algorithm of new roots and intermediates, as lambdas/core/pki/key-algorithm.ts names them. */
  readonly keyAlgorithm: string;
  /** From retiring a root key (disabled at once) to its deletion: 7 to 30 days. */
  readonly rootKeyDeletionWindow: Duration;
  /** check-expiry warns (and the alarm fires) when a CA expires within this many days. */
  readonly expiryWarningDays: number;
  /** How long a handler waits in-process for istiod to catch up before the state machine retries it. */
  readonly verifyTimeout: Duration;
  /** The clusters' kubelet syncFrequency: the gates' bound on how long istiod takes to load a cacerts write. */
  readonly kubeletSyncPeriod: Duration;
  /** preflight refuses a cluster whose intermediate expires within this many days. */
  readonly minIntermediateHeadroomDays: number;
  /** How long the current root must outlive what a run leans on it for (preflight). */
  readonly minRootHeadroomDays: number;
  /** `auto`, `resign` or `restart` (lambdas/contract/rotation-strategy.ts); preflight reads it. */
  readonly rotationStrategy: string;
  /** REMOTE_CLUSTERS (lambdas/contract/topology.ts): `remote=primary,...`, empty for multi-primary. */
  readonly remoteClusters: string;
}

export interface RotationFunctionsProps {
  readonly meshId: string;
  readonly clusters: ClusterSelection;
  readonly caStore: CaStore;
  readonly audit: RotationAudit;
  readonly tuning: RotationTuning;
  /** The mesh's rotation lock: the lock functions take and release it, the writing phases hold it. */
  readonly lockTable: RotationLockTable;
  /** A VPC to run every function in. @default none: the functions reach public endpoints */
  readonly network?: FunctionNetwork;
}

/** Phases that talk to every workload or wait for istiod, and so may run up to the Lambda limit. */
const LONG_RUNNING: ReadonlySet<HandlerName> = new Set<HandlerName>([
  'verify-trust',
  'restart-workloads',
  'verify-workloads',
  'rollback',
]);
/** Lambda's maximum, which the long-running phases get (restart-workloads plans its waves within it). */
const LONG_TIMEOUT = Duration.seconds(LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS);
const DEFAULT_TIMEOUT = Duration.minutes(5);

/**
 * One NodejsFunction per handler of lib/handler-entries.ts, bundled locally by esbuild (never Docker)
 * as ESM for arm64 and Node.js 24, each with its own encrypted log group and its own role, which
 * reaches only what lib/function-access.ts says that function needs.
 *
 * The functions that talk to the clusters do so as a cluster role, each assuming it for its
 * Kubernetes requests alone: the phases that write as `RotatorRole` (the IAM principal the EKS access
 * entries map to Kubernetes group `meshtrust-rotator`), the gates verify-trust and verify-workloads as
 * `VerifierRole` (group `meshtrust-verifier`, which reads no secret and writes nothing). A cluster role
 * has no AWS permission of its own and trusts its functions' roles only. The daily expiry check's role
 * is mapped to `meshtrust-expiry-check` itself.
 */
export class RotationFunctions extends Construct {
  /**
   * The cluster role: map it to `meshtrust-rotator` in each cluster. The rotation phases that reach a
   * cluster assume it; nothing else can.
   */
  readonly rotatorRole: Role;
  /**
   * The read-only cluster role: map it to `meshtrust-verifier` in each cluster. The gates that check a
   * rotation (verify-trust, verify-workloads) assume it; nothing else can.
   */
  readonly verifierRole: Role;
  /** The role of the daily expiry check: reads the root secret (no key), cluster metadata and istiod's /metrics. */
  readonly expiryCheckRole: Role;
  /** Each function's own role. */
  readonly roles: Readonly<Record<HandlerName, Role>>;
  readonly functions: Readonly<Record<HandlerName, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: RotationFunctionsProps) {
    super(scope, id);
    const { meshId, clusters, caStore, audit, tuning, lockTable } = props;

    const roles = {} as Record<HandlerName, Role>;
    for (const name of HANDLER_NAMES) {
      roles[name] = this.functionRole(name, meshId, FUNCTION_ACCESS[name], props);
    }
    this.roles = roles;
    this.expiryCheckRole = roles['check-expiry'];
    this.grantClusterDiscovery(this.expiryCheckRole, clusters);

    const clusterRole = (id: string, access: ClusterAccess, description: string): Role => {
      const role = new Role(this, id, {
        assumedBy: new CompositePrincipal(
          ...clusterFunctions(access).map((name) => new ArnPrincipal(roles[name].roleArn)),
        ),
        description,
      });
      for (const name of clusterFunctions(access)) role.grantAssumeRole(roles[name]);
      return role;
    };
    this.rotatorRole = clusterRole(
      'RotatorRole',
      'rotate',
      `meshtrust ${meshId}: the rotation phases' identity in each cluster (group meshtrust-rotator)`,
    );
    this.verifierRole = clusterRole(
      'VerifierRole',
      'verify',
      `meshtrust ${meshId}: the rotation gates' read-only identity in each cluster (group meshtrust-verifier)`,
    );
    for (const name of clusterFunctions()) this.grantClusterDiscovery(roles[name], clusters);
    const clusterRoleArn: Record<ClusterAccess, string> = {
      rotate: this.rotatorRole.roleArn,
      verify: this.verifierRole.roleArn,
    };
    // A cluster of another account is reached as that account's role, assumed from the stack's role of
    // the same kind (for check-expiry, its own): each may assume exactly its kind's role in those accounts.
    const accountRoles = {
      rotate: clusterAccountRoleArns(this, meshId, clusters, 'rotator'),
      verify: clusterAccountRoleArns(this, meshId, clusters, 'verifier'),
      expiryCheck: clusterAccountRoleArns(this, meshId, clusters, 'expiry-check'),
    };
    grantAssumeAccountRoles(this.rotatorRole, accountRoles.rotate);
    grantAssumeAccountRoles(this.verifierRole, accountRoles.verify);
    grantAssumeAccountRoles(this.expiryCheckRole, accountRoles.expiryCheck);

    const roleArns = (names: readonly HandlerName[]) =>
      Fn.join(
        ',',
        names.map((n) => roles[n].roleArn),
      );
    // Exactly the keys the handlers read (lambdas/contract/function-environment.ts): tsc fails on a key
    // left out or one no handler reads; test/infra/function-environment.test.ts checks the bundles.
    const environment: Record<RotationFunctionEnvKey, string> & Partial<Record<RuntimeEnvKey, string>> = {
      [MESH_ID_ENV]: meshId,
      [CLUSTER_TAG_KEY_ENV]: clusters.tagKey,
      [CLUSTER_TAG_VALUE_ENV]: clusters.tagValue,
      [CLUSTERS_ENV]: clusters.entries.join(','),
      [KMS_KEY_ID_ENV]: caStore.key.keyArn,
      [LOCK_TABLE_NAME_ENV]: lockTable.table.tableName,
      // A function started by an execution that stopped may write until its own timeout.
      [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: String(LONG_TIMEOUT.toSeconds()),
      [POWERTOOLS_SERVICE_NAME_ENV]: 'meshtrust',
      [POWERTOOLS_METRICS_NAMESPACE_ENV]: 'MeshTrust',
      [ROLLOUT_TIMEOUT_SECONDS_ENV]: String(tuning.rolloutTimeout.toSeconds()),
      [RESTART_WAVE_SIZE_ENV]: String(tuning.restartWaveSize),
      [DISTRIBUTED_MAPS_ENV]: String(tuning.distributedMaps),
      [INTERMEDIATE_VALIDITY_DAYS_ENV]: String(tuning.intermediateValidityDays),
      [ROOT_VALIDITY_DAYS_ENV]: String(tuning.rootValidityDays),
      [KEY_ALGORITHM_ENV]: tuning.keyAlgorithm,
      [ROOT_KEY_DELETION_WINDOW_DAYS_ENV]: String(tuning.rootKeyDeletionWindow.toDays()),
      // Each new root key's policy names these roles (lambdas/adapters/kms/root-key-policy.ts).
      [ROOT_KEY_PRINCIPALS_ENV.create]: roleArns(rootKeyFunctions('create')),
      [ROOT_KEY_PRINCIPALS_ENV.sign]: roleArns(rootKeyFunctions('sign')),
      [ROOT_KEY_PRINCIPALS_ENV.retire]: roleArns(rootKeyFunctions('retire')),
      [ROOT_KEY_PRINCIPALS_ENV.find]: roleArns(rootKeyFunctions('find')),
      // Each CA secret's resource policy names these roles (lambdas/core/access/secret-policy.ts).
      ...(Object.fromEntries(
        (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [
          CA_SECRET_POLICY_ENV[grant],
          roleArns(caSecretFunctions(grant)),
        ]),
      ) as Record<(typeof CA_SECRET_POLICY_ENV)[CaSecretGrant], string>),
      [CLUSTER_ROLE_ARN_ENV]: '',
      [CLUSTER_ACCOUNT_ROLES_ENV]: '',
      [MESH_ACCOUNT_ID_ENV]: Aws.ACCOUNT_ID,
      [EXPIRY_WARNING_DAYS_ENV]: String(tuning.expiryWarningDays),
      [VERIFY_TIMEOUT_SECONDS_ENV]: String(tuning.verifyTimeout.toSeconds()),
      [KUBELET_SYNC_PERIOD_SECONDS_ENV]: String(tuning.kubeletSyncPeriod.toSeconds()),
      [MIN_INTERMEDIATE_HEADROOM_DAYS_ENV]: String(tuning.minIntermediateHeadroomDays),
      [MIN_ROOT_HEADROOM_DAYS_ENV]: String(tuning.minRootHeadroomDays),
      [ROTATION_STRATEGY_ENV]: tuning.rotationStrategy,
      [REMOTE_CLUSTERS_ENV]: tuning.remoteClusters,
    };

    const functions = {} as Record<HandlerName, NodejsFunction>;
    for (const name of HANDLER_NAMES) {
      const functionName = rotationFunctionName(meshId, name);
      const role = roles[name];
      const access = FUNCTION_ACCESS[name].clusters;
      props.network?.grantVpcAccess(role);
      const logGroup = audit.newLogGroup(`${name}-log`, `${audit.functionLogGroupPrefix}${name}`);
      logGroup.grantWrite(role);
      functions[name] = new NodejsFunction(this, name, {
        functionName,
        description: `meshtrust ${meshId}: ${name}`,
        entry: handlerEntryPath(name),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: DEPS_LOCK_FILE,
        runtime: HANDLER_RUNTIME,
        architecture: Architecture.ARM_64,
        memorySize: 512,
        timeout: LONG_RUNNING.has(name) ? LONG_TIMEOUT : DEFAULT_TIMEOUT,
        tracing: Tracing.ACTIVE,
        role,
        logGroup,
        // Each cluster phase assumes its cluster role; check-expiry reaches the clusters as its own role
        // (group meshtrust-expiry-check), which no cluster role trusts.
        environment: {
          ...environment,
          [CLUSTER_ROLE_ARN_ENV]: access === undefined ? '' : clusterRoleArn[access],
          [CLUSTER_ACCOUNT_ROLES_ENV]: formatClusterAccountRoles(
            access !== undefined
              ? accountRoles[access]
              : name === 'check-expiry'
                ? accountRoles.expiryCheck
                : new Map(),
          ),
        },
        bundling: HANDLER_BUNDLING,
        ...(props.network !== undefined && {
          vpc: props.network.vpc,
          ...(props.network.vpcSubnets !== undefined && { vpcSubnets: props.network.vpcSubnets }),
          securityGroups: props.network.securityGroups,
        }),
      });
    }
    this.functions = functions;
  }

  /** A function's role, with what FUNCTION_ACCESS gives it; no AWSLambdaBasicExecutionRole (its log group is granted below). */
  private functionRole(
    name: HandlerName,
    meshId: string,
    access: FunctionAccess,
    props: RotationFunctionsProps,
  ): Role {
    const { caStore, lockTable } = props;
    // check-expiry keeps the logical id its EKS access entries were made with.
    const id = name === 'check-expiry' ? 'ExpiryCheckRole' : `${pascalCase(name)}Role`;
    const role = new Role(this, id, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `meshtrust ${meshId}: function ${name}`,
    });
    for (const [part, level] of Object.entries(access.secrets ?? {}) as [CaSecretPart, 'read' | 'write'][]) {
      caStore.grantSecrets(role, part, level);
    }
    if (access.importedRootKeys !== undefined) caStore.grantImportedRootKeys(role, access.importedRootKeys);
    if (access.deletesBackups === true) caStore.grantDeleteBackups(role);
    if (access.rootKeys?.includes('create')) caStore.grantCreateRootKeys(role);
    if (access.rootKeys?.includes('find')) caStore.grantFindRootKeys(role);
    if (access.rootKeys !== undefined) caStore.denyKeyPolicyChanges(role);
    if (access.lock === 'hold') lockTable.grantHold(role);
    if (access.lock === 'take') lockTable.grantTakeAndRelease(role);
    // A resumed rollback is checked against the run it names before it takes the lock.
    if (name === 'acquire-lock') lockTable.grantReadResumedExecutions(role);
    return role;
  }

  private grantClusterDiscovery(role: IRole, clusters: ClusterSelection): void {
    const clusterArns = eksClusterArns(this, clusters);
    // Every listed cluster in other accounts: each is described as that account's role instead.
    if (clusterArns.length > 0) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'DescribeMeshClusters',
          actions: ['eks:DescribeCluster', 'eks:ListTagsForResource'],
          resources: clusterArns,
        }),
      );
    }
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListClustersToDiscoverMesh',
        // ListClusters has no resource-level permission; it returns names only (acknowledged in the stack).
        actions: ['eks:ListClusters'],
        resources: ['*'],
      }),
    );
  }
}

/** Lets `role` assume exactly these roles of other accounts (none: no statement). */
function grantAssumeAccountRoles(role: Role, roleArns: ReadonlyMap<string, string>): void {
  if (roleArns.size === 0) return;
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'AssumeClusterRolesOfOtherAccounts',
      actions: ['sts:AssumeRole'],
      resources: [...roleArns.values()],
    }),
  );
}
