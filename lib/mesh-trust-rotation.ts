import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type ILogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { APPROVAL_RECORD_LIFETIME_SECONDS } from '../lambdas/contract/approval.js';
import {
  type ClusterAccountRoleKind,
  type ClusterReference,
  clusterReferencesProblem,
  discoversByTag,
  parseClusterReference,
} from '../lambdas/contract/cluster-reference.js';
import {
  DEFAULT_KEY_ALGORITHM,
  EXPIRY_WARNING_DAYS,
  INTERMEDIATE_VALIDITY_DAYS,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  KUBELET_SYNC_PERIOD_SECONDS,
  MIN_INTERMEDIATE_HEADROOM_DAYS,
  MIN_ROOT_HEADROOM_DAYS,
  RESTART_WAVE_SIZE,
  ROLLOUT_TIMEOUT_SECONDS,
  ROOT_VALIDITY_DAYS,
  VERIFY_TIMEOUT_SECONDS,
} from '../lambdas/contract/function-environment.js';
import { MESH_TAG_KEY } from '../lambdas/contract/resource-tags.js';
import { ROOT_KEY_DELETION_WINDOW_DAYS } from '../lambdas/contract/root-keys.js';
import {
  DEFAULT_ROTATION_STRATEGY,
  ROTATION_STRATEGY_SETTINGS,
  type RotationStrategySettingName,
} from '../lambdas/contract/rotation-strategy.js';
import {
  formatRemoteClusters,
  type RemoteClusterDeclaration,
  remoteClustersProblem,
} from '../lambdas/contract/topology.js';
import { ApprovalEndpoint } from './approval-endpoint.js';
import { RotationAudit } from './audit.js';
import { CaStore } from './ca-store.js';
import type { ClusterSelection } from './cluster-selection.js';
import { EksAccess } from './eks-access.js';
import { ExpiryCheck } from './expiry-check.js';
import { FunctionNetwork } from './function-network.js';
import type { HandlerName } from './handler-entries.js';
import { MeshTrustConfigError } from './mesh-trust-config-error.js';
import { acknowledgeNagFindings } from './nag-acknowledgements.js';
import { RotationFunctions } from './rotation-functions.js';
import { RotationLockTable } from './rotation-lock-table.js';
import { RotationSchedule } from './rotation-schedule.js';
import { RotationStateMachine, rotationStateMachineName } from './rotation-state-machine.js';

/** Key algorithms of new roots and intermediates, as lambdas/core/pki/key-algorithm.ts names them. */
export { KEY_ALGORITHMS, type KeyAlgorithm };

/** The tag key that marks a cluster as a member of a mesh when clusters are discovered. */
export const DEFAULT_CLUSTER_TAG_KEY = MESH_TAG_KEY;

/** Second Tuesday of March, 09:00 UTC: once a year, on a working day, far from year-end freezes. */
export const DEFAULT_ROTATION_SCHEDULE = 'cron(0 9 ? 3 TUE#2 *)';

/** The roles of one other account that the functions reach its clusters as. */
export interface ClusterAccountRoles {
  /** Assumed by the phases that write (from RotatorRole); map it to group meshtrust-rotator there. */
  readonly rotator: string;
  /** Assumed by the gates (from VerifierRole); map it to group meshtrust-verifier there. */
  readonly verifier: string;
  /** Assumed by the daily expiry check (from its role); map it to group meshtrust-expiry-check there. */
  readonly expiryCheck: string;
}

/** An EKS cluster tag: key and value. */
export interface ClusterTag {
  readonly key: string;
  readonly value: string;
}

export interface MeshTrustRotationProps {
  /**
   * The mesh this rotation serves: a lowercase DNS label of at most 32 characters (it prefixes the
   * function names, which are limited to 64). Names the secrets `meshtrust/<meshId>/...`.
   */
  readonly meshId: string;
  /**
   * The mesh's EKS clusters: each by its name (a cluster of the stack's account and region) or by its ARN
   * `arn:<partition>:eks:<region>:<account>:cluster/<name>` (another region and/or account). Names are
   * unique across the list. Given: IAM is scoped to these clusters and the stack creates the EKS access
   * entries of those in its own account and region; in another account the functions reach a cluster as
   * that account's roles `meshtrust-<meshId>-rotator`, `-verifier` and `-expiry-check`, which the stack's
   * roles may assume (docs/deploy.md, "Clusters in other regions and accounts"). An entry whose name is
   * `*` (`*`, or `arn:aws:eks:<region>:<account>:cluster/*`) discovers by `clusterTag` every cluster of
   * its account and region. Not given: clusters are discovered by `clusterTag` in the stack's account
   * and region.
   * @default - discover clusters by `clusterTag`
   */
  readonly clusters?: readonly string[];
  /**
   * Per other account of `clusters` (by account id), the roles to assume there, when they do not follow
   * the naming convention. Each must be a role ARN of that account, the rotator's and the verifier's
   * different (the gates must not get the rotator's rights).
   * @default - `arn:<partition>:iam::<account>:role/meshtrust-<meshId>-rotator`, `-verifier`, `-expiry-check`
   */
  readonly clusterAccountRoles?: Readonly<Record<string, ClusterAccountRoles>>;
  /**
   * The tag that marks a cluster as part of the mesh (only with discovery; not together with `clusters`).
   * @default - `meshtrust.io/mesh` = meshId
   */
  readonly clusterTag?: ClusterTag;
  /**
   * Run the rotation functions in this VPC, for clusters whose API endpoint is private or limited by
   * `publicAccessCidrs`. The functions then reach AWS through the VPC's endpoints or NAT gateway
   * (docs/deploy.md, "Private clusters").
   * @default - no VPC: the functions reach the clusters' public endpoints
   */
  readonly vpc?: IVpc;
  /** The subnets of `vpc` to run in (only with `vpc`). @default - the VPC's private subnets with egress */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups of the functions (only with `vpc`). Allow 443 from them in each cluster's security group.
   * @default - one group allowing nothing in and only HTTPS (443) out (output FunctionsSecurityGroupId)
   */
  readonly securityGroups?: readonly ISecurityGroup[];
  /**
   * How long a scheduled rotation waits between restarting the workloads and retiring the old root:
   * one workload-certificate TTL. An execution input `soakSeconds` overrides it.
   * @default Duration.hours(24)
   */
  readonly soak?: Duration;
  /**
   * How many clusters a phase works on at once (the Map states' MaxConcurrency), 1 to 40.
   * @default 4
   */
  readonly maxConcurrency?: number;
  /**
   * Run each per-cluster phase as a Distributed Map, one child execution per cluster, so that the
   * execution's history no longer grows by about 240 events a cluster (docs/workflow.md, "Fleets past
   * one execution's history"). For fleets whose history an inline run would overflow (`meshtrust plan`
   * prints both estimates); `meshtrust status` and `retry-rollback` name a failed child's cluster
   * through its Map Run. cdk.json context `distributedMaps`.
   * @default false
   */
  readonly distributedMaps?: boolean;
  /**
   * Pause for an operator's approval (`meshtrust approve`) before reissuing intermediates and before
   * retiring the old root.
   * @default false
   */
  readonly approval?: boolean;
  /**
   * How long an approval gate waits; a run not approved in time rolls back.
   * @default Duration.days(3)
   */
  readonly approvalTimeout?: Duration;
  /**
   * When the scheduled rotation runs: an EventBridge Scheduler expression (`rate(...)`, `cron(...)`).
   * @default DEFAULT_ROTATION_SCHEDULE, the second Tuesday of March at 09:00 UTC
   */
  readonly schedule?: string;
  /**
   * Upper bound of one execution. With approval on, at most 59 days: the step after a gate checks the
   * gate's approval record, which counts for 60 days (APPROVAL_RECORD_LIFETIME_SECONDS).
   * @default - soak + 2 days, plus 2 approval timeouts when approval is on
   */
  readonly timeout?: Duration;
  /**
   * Where alarms are mailed (the subscription must be confirmed from the mail).
   * @default - no subscription; the alarm topic is created either way
   */
  readonly alarmEmail?: string;
  /**
   * How long the audit trail (function and execution logs) is kept.
   * @default RetentionDays.TEN_YEARS
   */
  readonly auditRetention?: RetentionDays;
  /**
   * Alarm when the root or any intermediate expires within this many days.
   * @default 90
   */
  readonly expiryWarningDays?: number;
  /**
   * Key algorithm of new roots and intermediates.
   * @default 'ecdsa-p256'
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * From retiring a root's key to its deletion (a retired root's KMS key or imported key secret, and the
   * key of a root a rollback dropped). The key is disabled at once; within this window an administrator
   * can still cancel the deletion. 7 to 30 days, whole days.
   * @default Duration.days(30)
   */
  readonly rootKeyDeletionWindow?: Duration;
  /**
   * Lifetime of a new root CA, in days.
   * @default 1825 (five years: a yearly rotation leaves years of headroom)
   */
  readonly rootValidityDays?: number;
  /**
   * Lifetime of a cluster's intermediate CA, in days; shorter than the root's.
   * @default 730
   */
  readonly intermediateValidityDays?: number;
  /**
   * How long restart-workloads waits for one wave of rollouts; at most 14 minutes (Lambda limit 15).
   * @default Duration.minutes(10)
   */
  readonly rolloutTimeout?: Duration;
  /**
   * How many workloads restart together in one wave (emergency mode restarts all at once).
   * @default 5
   */
  readonly restartWaveSize?: number;
  /**
   * How long verify-trust, restart-workloads' istiod gate and rollback's restore-trust wait in-process
   * for istiod to publish or load what was written, before they fail with VerificationFailed and the
   * state machine retries them with backoff. Whole seconds, at most 14 minutes (Lambda limit 15).
   * @default Duration.seconds(60)
   */
  readonly verifyTimeout?: Duration;
  /**
   * The clusters' kubelet sync period (KubeletConfiguration `syncFrequency`; EKS nodes keep Kubernetes'
   * 1 minute unless their kubelet config sets it). A cacerts write reaches istiod's files within it and
   * half of it again: a gate that finds istiod still on the old CA 30 s after that fails its attempt at
   * once, naming the write istiod missed, rather than waiting out `verifyTimeout` on every retry
   * (docs/workflow.md, "A write istiod missed"). Set it to the longest of the clusters'. Whole seconds,
   * 1 second to 10 minutes.
   * @default Duration.minutes(1)
   */
  readonly kubeletSyncPeriod?: Duration;
  /**
   * preflight refuses a cluster whose intermediate expires within this many days: a rotation takes time,
   * rekey that intermediate first. A whole number >= 0.
   * @default 7
   */
  readonly minIntermediateHeadroomDays?: number;
  /**
   * How many days the current root must outlive what a run leans on it for: scheduled and intermediate
   * runs are refused below it, emergency runs get a note (docs/workflow.md). A whole number >= 0.
   * @default 7
   */
  readonly minRootHeadroomDays?: number;
  /**
   * How workloads move to certificates from the new intermediate: `auto` lets preflight choose per
   * cluster, `resign` (no restart: proxies re-sign on istiod's PCDS push) where the mesh allows it and
   * `restart` elsewhere; `resign` or `restart` forces it for every cluster, and a forced `resign` that a
   * cluster cannot do is refused at preflight. Today only the choice exists: every run restarts
   * (docs/workflow.md, "Rotation strategy").
   * @default 'auto'
   */
  readonly rotationStrategy?: RotationStrategySettingName;
  /**
   * The mesh's remote clusters (primary-remote): each with the primary cluster whose istiod serves it.
   * A remote has no istiod and no `istio-system/cacerts`; meshtrust never writes it, and restarts and
   * verifies its workloads after its primary's (docs/workflow.md, "Primary-remote"). Every other cluster
   * is a primary with its own cacerts; preflight refuses a fleet that does not match.
   * @default [] (multi-primary: every cluster a primary)
   */
  readonly remoteClusters?: readonly RemoteClusterDeclaration[];
  /**
   * What happens to the CA key and the audit logs when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const MESH_ID = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const SCHEDULE_EXPRESSION = /^(rate|cron|at)\(.+\)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_MAP_CONCURRENCY = 40;

/**
 * Safe, audited root CA rotation for one multi-cluster Istio mesh on Amazon EKS: the CA store (KMS key
 * + Secrets Manager prefix), the rotation lock (a DynamoDB table), one Lambda per phase, the rotation
 * state machine, the yearly schedule, the daily expiry check, the audit trail with alarms and a
 * dashboard, and EKS access entries.
 */
export class MeshTrustRotation extends Construct {
  readonly stateMachine: IStateMachine;
  /** The KMS key of the CA secrets. */
  readonly caKey: IKey;
  /** The state machine's execution log; each function also has `/aws/lambda/meshtrust-<meshId>-<phase>`. */
  readonly auditLogGroup: ILogGroup;
  /** The role the rotation phases run as; map it to Kubernetes group `meshtrust-rotator`. */
  readonly rotatorRole: IRole;
  /** The rotation gates' read-only role; map it to Kubernetes group `meshtrust-verifier`. */
  readonly verifierRole: IRole;
  /** The daily expiry check's role: map it to Kubernetes group meshtrust-expiry-check in every mesh cluster. */
  readonly expiryCheckRole: IRole;
  /** The functions' security groups when they run in a VPC (allow 443 from them in each cluster); else empty. */
  readonly functionSecurityGroups: readonly ISecurityGroup[];
  readonly alarmTopic: ITopic;
  /** The rotation lock's table (one item per mesh; docs/workflow.md, "The rotation lock"). */
  readonly lockTable: ITable;
  readonly functions: Readonly<Record<HandlerName, NodejsFunction>>;
  /**
   * Where `meshtrust approve`/`reject` answer the approval gates (only with `approval` on): a function
   * URL with AWS_IAM auth; grant approvers with `approvalEndpoint.grantApprove(principal)`.
   */
  readonly approvalEndpoint?: ApprovalEndpoint;

  constructor(scope: Construct, id: string, props: MeshTrustRotationProps) {
    super(scope, id);
    const config = this.validate(props);
    const { meshId } = props;

    const caStore = new CaStore(this, 'CaStore', { meshId, removalPolicy: config.removalPolicy });
    const audit = new RotationAudit(this, 'Audit', {
      meshId,
      retention: config.auditRetention,
      alarmEmail: props.alarmEmail,
      expiryWarningDays: config.expiryWarningDays,
      removalPolicy: config.removalPolicy,
    });
    const network =
      props.vpc === undefined
        ? undefined
        : new FunctionNetwork(this, 'Network', {
            meshId,
            vpc: props.vpc,
            ...(props.vpcSubnets !== undefined && { vpcSubnets: props.vpcSubnets }),
            ...(props.securityGroups !== undefined && { securityGroups: props.securityGroups }),
          });
    this.functionSecurityGroups = network?.securityGroups ?? [];
    const lockTable = new RotationLockTable(this, 'RotationLock', {
      stateMachineName: rotationStateMachineName(meshId),
    });
    const functions = new RotationFunctions(this, 'Functions', {
      meshId,
      clusters: config.clusters,
      caStore,
      audit,
      tuning: {
        rolloutTimeout: config.rolloutTimeout,
        restartWaveSize: config.restartWaveSize,
        distributedMaps: config.distributedMaps,
        intermediateValidityDays: config.intermediateValidityDays,
        rootValidityDays: config.rootValidityDays,
        keyAlgorithm: config.keyAlgorithm,
        rootKeyDeletionWindow: config.rootKeyDeletionWindow,
        expiryWarningDays: config.expiryWarningDays,
        verifyTimeout: config.verifyTimeout,
        kubeletSyncPeriod: config.kubeletSyncPeriod,
        minIntermediateHeadroomDays: config.minIntermediateHeadroomDays,
        minRootHeadroomDays: config.minRootHeadroomDays,
        rotationStrategy: config.rotationStrategy,
        remoteClusters: config.remoteClusters,
      },
      lockTable,
      ...(network !== undefined && { network }),
    });
    const workflow = new RotationStateMachine(this, 'Workflow', {
      meshId,
      functions: functions.functions,
      soak: config.soak,
      maxConcurrency: config.maxConcurrency,
      distributedMaps: config.distributedMaps,
      approval: config.approval,
      approvalTimeout: config.approvalTimeout,
      timeout: config.timeout,
      logGroup: audit.executionLogGroup,
    });
    // The gates are answered through this endpoint, which records the caller's verified IAM identity.
    if (config.approval) {
      this.approvalEndpoint = new ApprovalEndpoint(this, 'ApprovalEndpoint', {
        meshId,
        stateMachineName: rotationStateMachineName(meshId),
        audit,
        lockTable,
      });
    }
    new RotationSchedule(this, 'Schedule', {
      meshId,
      stateMachine: workflow.stateMachine,
      expression: config.schedule,
    });
    new ExpiryCheck(this, 'ExpiryCheck', { meshId, checkExpiry: functions.functions['check-expiry'] });
    const { 'check-expiry': checkExpiry, ...phaseFunctions } = functions.functions;
    audit.monitor({
      stateMachine: workflow.stateMachine,
      expiryCheck: checkExpiry,
      functions: phaseFunctions,
    });
    new EksAccess(this, 'EksAccess', {
      clusters: config.clusters,
      rotatorRole: functions.rotatorRole,
      verifierRole: functions.verifierRole,
      expiryCheckRole: functions.expiryCheckRole,
    });
    acknowledgeNagFindings({
      caStore,
      lockTable,
      workflow,
      functions,
      clusters: config.clusters,
      inVpc: network !== undefined,
      ...(this.approvalEndpoint !== undefined && { approvalEndpoint: this.approvalEndpoint }),
    });

    this.stateMachine = workflow.stateMachine;
    this.caKey = caStore.key;
    this.auditLogGroup = audit.executionLogGroup;
    this.rotatorRole = functions.rotatorRole;
    this.verifierRole = functions.verifierRole;
    this.expiryCheckRole = functions.expiryCheckRole;
    this.alarmTopic = audit.alarmTopic;
    this.lockTable = lockTable.table;
    this.functions = functions.functions;
  }

  /** `clusterAccountRoles`, checked: accounts of `clusters` other than the stack's, role ARNs of each. */
  private validateAccountRoles(
    props: MeshTrustRotationProps,
    references: readonly ClusterReference[],
    fail: (property: string, message: string) => never,
  ): ReadonlyMap<string, Readonly<Record<ClusterAccountRoleKind, string>>> {
    const given = Object.entries(props.clusterAccountRoles ?? {});
    const { account } = Stack.of(this);
    const accounts = new Set(
      references
        .map((reference) => reference.accountId)
        .filter((id) => id !== undefined && (Token.isUnresolved(account) || id !== account)),
    );
    const roles = new Map<string, Readonly<Record<ClusterAccountRoleKind, string>>>();
    for (const [accountId, { rotator, verifier, expiryCheck }] of given) {
      if (!accounts.has(accountId)) {
        fail(
          'clusterAccountRoles',
          `clusterAccountRoles names account ${JSON.stringify(accountId)}, which no cluster ARN of another account in clusters names`,
        );
      }
      const roleArn = new RegExp(`^arn:aws(-[a-z]+)*:iam::${accountId}:role/[\\w+=.@/-]{1,512}$`);
      for (const [kind, arn] of [
        ['rotator', rotator],
        ['verifier', verifier],
        ['expiryCheck', expiryCheck],
      ] as const) {
        if (typeof arn !== 'string' || !roleArn.test(arn)) {
          fail(
            'clusterAccountRoles',
            `clusterAccountRoles.${accountId}.${kind} must be a role ARN of account ${accountId} (arn:aws:iam::${accountId}:role/<name>), got ${JSON.stringify(arn)}`,
          );
        }
      }
      if (rotator === verifier) {
        fail(
          'clusterAccountRoles',
          `clusterAccountRoles.${accountId}: the rotator and the verifier are the same role (${rotator}); the gates must not get the rotator's rights`,
        );
      }
      roles.set(accountId, { rotator, verifier, 'expiry-check': expiryCheck });
    }
    return roles;
  }

  private validate(props: MeshTrustRotationProps) {
    const fail = (property: string, message: string): never => {
      throw new MeshTrustConfigError(this.node.path, property, message);
    };
    if (!MESH_ID.test(props.meshId)) {
      fail(
        'meshId',
        `meshId must be a lowercase DNS label of 1-32 characters (a-z, 0-9, '-', not at either end), got ${JSON.stringify(props.meshId)}`,
      );
    }
    const entries = props.clusters ?? [];
    const clustersProblem = clusterReferencesProblem(entries);
    if (clustersProblem !== undefined) {
      fail(
        'clusters',
        `clusters must hold EKS cluster names or cluster ARNs (arn:<partition>:eks:<region>:<account>:cluster/<name>): ${clustersProblem}`,
      );
    }
    if (props.vpc === undefined && (props.vpcSubnets !== undefined || props.securityGroups !== undefined)) {
      fail(
        props.vpcSubnets !== undefined ? 'vpcSubnets' : 'securityGroups',
        'vpcSubnets and securityGroups place the functions in a VPC: give vpc too, or leave them out',
      );
    }
    if (props.clusters !== undefined && entries.length === 0) {
      fail(
        'clusters',
        'clusters is an empty list; name at least one cluster, or leave it out to discover by tag',
      );
    }
    const references = entries.map((entry) => parseClusterReference(entry) as ClusterReference);
    // The tag is for discovery: with a list, only where the list discovers (`*` entries).
    if (props.clusterTag !== undefined && props.clusters !== undefined && !references.some(discoversByTag)) {
      fail(
        'clusterTag',
        'give either clusters (explicit names) or clusterTag (discovery), not both, unless clusters has `*` entries (discovery there)',
      );
    }
    const tag = props.clusterTag ?? { key: DEFAULT_CLUSTER_TAG_KEY, value: props.meshId };
    if (tag.key.length === 0 || tag.key.length > 128 || tag.value.length > 256) {
      fail(
        'clusterTag',
        `clusterTag needs a key of 1-128 and a value of 0-256 characters, got ${JSON.stringify(tag)}`,
      );
    }
    const accountRoles = this.validateAccountRoles(props, references, fail);
    const clusters: ClusterSelection = {
      entries,
      references,
      accountRoles,
      tagKey: tag.key,
      tagValue: tag.value,
    };

    const soak = props.soak ?? Duration.hours(24);
    const maxConcurrency = props.maxConcurrency ?? 4;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > MAX_MAP_CONCURRENCY) {
      fail(
        'maxConcurrency',
        `maxConcurrency must be an integer from 1 to ${MAX_MAP_CONCURRENCY}, got ${maxConcurrency}`,
      );
    }
    const approval = props.approval ?? false;
    const approvalTimeout = props.approvalTimeout ?? Duration.days(3);
    if (approvalTimeout.toSeconds() < 60) {
      fail(
        'approvalTimeout',
        `approvalTimeout must be at least 1 minute, got ${approvalTimeout.toHumanString()}`,
      );
    }
    const schedule = props.schedule ?? DEFAULT_ROTATION_SCHEDULE;
    if (!SCHEDULE_EXPRESSION.test(schedule)) {
      fail(
        'schedule',
        `schedule must be a Scheduler expression like rate(365 days) or cron(0 9 ? 3 TUE#2 *), got ${JSON.stringify(schedule)}`,
      );
    }
    // Time the run may spend waiting: the soak and, with approval on, both gates at their longest.
    const waiting = Duration.seconds(soak.toSeconds() + (approval ? 2 * approvalTimeout.toSeconds() : 0));
    const minimumTimeout = waiting.plus(Duration.hours(1));
    const timeout = props.timeout ?? waiting.plus(Duration.days(2));
    if (timeout.toSeconds() < minimumTimeout.toSeconds()) {
      fail(
        'timeout',
        `timeout must leave room for the soak${approval ? ' and both approval gates' : ''} plus an hour of work (at least ${minimumTimeout.toHumanString()}), got ${timeout.toHumanString()}`,
      );
    }
    // The steps after the gates read the gates' approval records, which expire: no run may outlast them
    // (a day to spare for a function the run started last, and for clocks).
    const longestApprovedRun = Duration.seconds(APPROVAL_RECORD_LIFETIME_SECONDS - 86_400);
    if (approval && timeout.toSeconds() > longestApprovedRun.toSeconds()) {
      fail(
        'timeout',
        `timeout must be at most ${longestApprovedRun.toHumanString()} with approval on, since an approval counts for ${Duration.seconds(APPROVAL_RECORD_LIFETIME_SECONDS).toHumanString()}${props.timeout === undefined ? ' (the default timeout is the soak, both approval timeouts and 2 days)' : ''}, got ${timeout.toHumanString()}`,
      );
    }
    if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail)) {
      fail('alarmEmail', `alarmEmail must be a mail address, got ${JSON.stringify(props.alarmEmail)}`);
    }
    const expiryWarningDays = props.expiryWarningDays ?? EXPIRY_WARNING_DAYS.default;
    const keyAlgorithm = props.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    if (!(KEY_ALGORITHMS as readonly string[]).includes(keyAlgorithm)) {
      fail(
        'keyAlgorithm',
        `keyAlgorithm must be one of ${KEY_ALGORITHMS.join(', ')}, got ${JSON.stringify(keyAlgorithm)}`,
      );
    }
    const rootKeyDeletionWindow =
      props.rootKeyDeletionWindow ?? Duration.days(ROOT_KEY_DELETION_WINDOW_DAYS.default);
    const windowDays = rootKeyDeletionWindow.toDays({ integral: false });
    if (
      !Number.isInteger(windowDays) ||
      windowDays < ROOT_KEY_DELETION_WINDOW_DAYS.min ||
      windowDays > ROOT_KEY_DELETION_WINDOW_DAYS.max
    ) {
      fail(
        'rootKeyDeletionWindow',
        `rootKeyDeletionWindow must be whole days from ${ROOT_KEY_DELETION_WINDOW_DAYS.min} to ${ROOT_KEY_DELETION_WINDOW_DAYS.max} (KMS's bounds), got ${rootKeyDeletionWindow.toHumanString()}`,
      );
    }
    const rootValidityDays = props.rootValidityDays ?? ROOT_VALIDITY_DAYS.default;
    const intermediateValidityDays = props.intermediateValidityDays ?? INTERMEDIATE_VALIDITY_DAYS.default;
    for (const [property, days] of [
      ['rootValidityDays', rootValidityDays],
      ['intermediateValidityDays', intermediateValidityDays],
      ['expiryWarningDays', expiryWarningDays],
    ] as const) {
      if (!Number.isInteger(days) || days < 1)
        fail(property, `${property} must be a whole number of days >= 1, got ${days}`);
    }
    if (intermediateValidityDays >= rootValidityDays) {
      fail(
        'intermediateValidityDays',
        `intermediateValidityDays (${intermediateValidityDays}) must be shorter than rootValidityDays (${rootValidityDays}): an intermediate cannot outlive its root`,
      );
    }
    const rolloutTimeout = props.rolloutTimeout ?? Duration.seconds(ROLLOUT_TIMEOUT_SECONDS.default);
    if (
      rolloutTimeout.toSeconds() < ROLLOUT_TIMEOUT_SECONDS.min ||
      rolloutTimeout.toSeconds() > ROLLOUT_TIMEOUT_SECONDS.max
    ) {
      fail(
        'rolloutTimeout',
        `rolloutTimeout must be from 1 second to 14 minutes (it runs inside a 15 minute Lambda), got ${rolloutTimeout.toHumanString()}`,
      );
    }
    const restartWaveSize = props.restartWaveSize ?? RESTART_WAVE_SIZE.default;
    if (!Number.isInteger(restartWaveSize) || restartWaveSize < RESTART_WAVE_SIZE.min) {
      fail('restartWaveSize', `restartWaveSize must be an integer >= 1, got ${restartWaveSize}`);
    }
    const verifyTimeout = props.verifyTimeout ?? Duration.seconds(VERIFY_TIMEOUT_SECONDS.default);
    const verifySeconds = verifyTimeout.toSeconds({ integral: false });
    if (
      !Number.isInteger(verifySeconds) ||
      verifySeconds < VERIFY_TIMEOUT_SECONDS.min ||
      verifySeconds > VERIFY_TIMEOUT_SECONDS.max
    ) {
      fail(
        'verifyTimeout',
        `verifyTimeout must be whole seconds from ${VERIFY_TIMEOUT_SECONDS.min} to 14 minutes (it runs inside a 15 minute Lambda), got ${verifyTimeout.toHumanString()}`,
      );
    }
    const kubeletSyncPeriod =
      props.kubeletSyncPeriod ?? Duration.seconds(KUBELET_SYNC_PERIOD_SECONDS.default);
    const syncSeconds = kubeletSyncPeriod.toSeconds({ integral: false });
    if (
      !Number.isInteger(syncSeconds) ||
      syncSeconds < KUBELET_SYNC_PERIOD_SECONDS.min ||
      syncSeconds > KUBELET_SYNC_PERIOD_SECONDS.max
    ) {
      fail(
        'kubeletSyncPeriod',
        `kubeletSyncPeriod must be whole seconds from ${KUBELET_SYNC_PERIOD_SECONDS.min} second to 10 minutes, got ${kubeletSyncPeriod.toHumanString()}`,
      );
    }
    const minIntermediateHeadroomDays =
      props.minIntermediateHeadroomDays ?? MIN_INTERMEDIATE_HEADROOM_DAYS.default;
    const minRootHeadroomDays = props.minRootHeadroomDays ?? MIN_ROOT_HEADROOM_DAYS.default;
    for (const [property, days, min] of [
      ['minIntermediateHeadroomDays', minIntermediateHeadroomDays, MIN_INTERMEDIATE_HEADROOM_DAYS.min],
      ['minRootHeadroomDays', minRootHeadroomDays, MIN_ROOT_HEADROOM_DAYS.min],
    ] as const) {
      if (!Number.isInteger(days) || days < min)
        fail(property, `${property} must be a whole number of days >= ${min}, got ${days}`);
    }
    const rotationStrategy = props.rotationStrategy ?? DEFAULT_ROTATION_STRATEGY;
    if (!ROTATION_STRATEGY_SETTINGS.includes(rotationStrategy)) {
      fail(
        'rotationStrategy',
        `rotationStrategy must be one of ${ROTATION_STRATEGY_SETTINGS.join(', ')}, got ${JSON.stringify(rotationStrategy)}`,
      );
    }
    const remoteClusters = props.remoteClusters ?? [];
    const topologyProblem = remoteClustersProblem(remoteClusters);
    if (topologyProblem !== undefined) fail('remoteClusters', `remoteClusters: ${topologyProblem}`);
    return {
      clusters,
      soak,
      maxConcurrency,
      distributedMaps: props.distributedMaps ?? false,
      approval,
      approvalTimeout,
      schedule,
      timeout,
      auditRetention: props.auditRetention ?? RetentionDays.TEN_YEARS,
      expiryWarningDays,
      keyAlgorithm,
      rootKeyDeletionWindow,
      rootValidityDays,
      intermediateValidityDays,
      rolloutTimeout,
      restartWaveSize,
      verifyTimeout,
      kubeletSyncPeriod,
      minIntermediateHeadroomDays,
      minRootHeadroomDays,
      rotationStrategy,
      remoteClusters: formatRemoteClusters(remoteClusters),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
  }
}
