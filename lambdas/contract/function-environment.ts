/**
 * The environment of meshtrust's Lambda functions, declared once: every key the stack (lib/) sets and
 * the handlers read. The keys of one topic live with it (rotation-lock.ts, root-keys.ts,
 * rotation-strategy.ts, approval.ts); this module declares the rest and lists, per kind of function,
 * the keys it reads. The stack types each function's environment with these lists, so tsc fails when
 * it leaves a key out or sets one that is not here; test/infra/function-environment.test.ts derives
 * from each function's bundle which keys its code reads and requires the synthesized stack to set
 * exactly those. It imports only its sibling contract modules, so lib/ can use it without pulling
 * handler code into synthesis.
 */
import { APPROVAL_STATE_MACHINE_ARN_ENV } from './approval.js';
import { CA_SECRET_POLICY_ENV } from './ca-store.js';
import { CLUSTER_ACCOUNT_ROLES_ENV, MESH_ACCOUNT_ID_ENV } from './cluster-reference.js';
import { ROOT_KEY_DELETION_WINDOW_DAYS_ENV, ROOT_KEY_PRINCIPALS_ENV } from './root-keys.js';
import { LOCK_TABLE_NAME_ENV, LOCK_TAKEOVER_GRACE_SECONDS_ENV } from './rotation-lock.js';
import { ROTATION_STRATEGY_ENV } from './rotation-strategy.js';
import { REMOTE_CLUSTERS_ENV } from './topology.js';

/** The mesh id: names the mesh's secrets (`meshtrust/<meshId>/`) and is the default cluster tag value. */
export const MESH_ID_ENV = 'MESH_ID';

/**
 * The cluster list, comma-separated: EKS names or cluster ARNs (cluster-reference.ts); empty: the
 * clusters are discovered by tag.
 */
export const CLUSTERS_ENV = 'CLUSTERS';

/** The tag that marks the mesh's clusters for discovery: its key and its value. */
export const CLUSTER_TAG_KEY_ENV = 'CLUSTER_TAG_KEY';
export const CLUSTER_TAG_VALUE_ENV = 'CLUSTER_TAG_VALUE';

/**
 * ARN of the cluster role (mapped to Kubernetes group meshtrust-rotator in every cluster): a function
 * assumes it to sign its EKS tokens. Unset outside a deployed stack: the function's own credentials sign.
 */
export const CLUSTER_ROLE_ARN_ENV = 'CLUSTER_ROLE_ARN';

/** ARN of the CA store's KMS key; every secret the handlers create is encrypted with it. */
export const KMS_KEY_ID_ENV = 'KMS_KEY_ID';

/** How long restart-workloads waits for one wave of rollouts, in seconds. */
export const ROLLOUT_TIMEOUT_SECONDS_ENV = 'ROLLOUT_TIMEOUT_SECONDS';
/** restart-workloads runs up to 15 minutes, so a wave may take at most 14. */
export const ROLLOUT_TIMEOUT_SECONDS = { min: 1, max: 14 * 60, default: 600 } as const;

/** How many workloads restart together in one wave. */
export const RESTART_WAVE_SIZE_ENV = 'RESTART_WAVE_SIZE';
export const RESTART_WAVE_SIZE = { min: 1, default: 5 } as const;

/** Lifetimes, in days, of a new intermediate CA and of a new root CA. */
export const INTERMEDIATE_VALIDITY_DAYS_ENV = 'INTERMEDIATE_VALIDITY_DAYS';
export const ROOT_VALIDITY_DAYS_ENV = 'ROOT_VALIDITY_DAYS';
export const INTERMEDIATE_VALIDITY_DAYS = { min: 1, default: 730 } as const;
/** Five years: a yearly rotation leaves years of headroom. */
export const ROOT_VALIDITY_DAYS = { min: 1, default: 1825 } as const;

/** Key algorithm of new roots and intermediates, as lambdas/core/pki/key-algorithm.ts names them. */
export const KEY_ALGORITHM_ENV = 'KEY_ALGORITHM';
export const KEY_ALGORITHMS = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = 'ecdsa-p256';

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** check-expiry warns (and `meshtrust verify` reports) a CA expiring within this many days. */
export const EXPIRY_WARNING_DAYS_ENV = 'EXPIRY_WARNING_DAYS';
/** 0 never warns; the stack asks for at least a day. */
export const EXPIRY_WARNING_DAYS = { min: 0, default: 90 } as const;

/**
 * Seconds a handler waits in-process for istiod to catch up (verify-trust, restart-workloads' gate,
 * rollback's restore-trust) before it throws VerificationFailed, which the state machine retries (0: look
 * once). Those functions run up to 15 minutes, so at most 14.
 */
export const VERIFY_TIMEOUT_SECONDS_ENV = 'VERIFY_TIMEOUT_SECONDS';
export const VERIFY_TIMEOUT_SECONDS = { min: 0, max: 14 * 60, default: 60 } as const;

/**
 * The clusters' kubelet sync period (KubeletConfiguration syncFrequency, 1 minute unless set), in
 * seconds: a cacerts write reaches istiod's files within it and half of it again, so a gate that sees
 * istiod on the old CA well past that stops waiting for it (lambdas/core/istio/istiod-load-window.ts).
 */
export const KUBELET_SYNC_PERIOD_SECONDS_ENV = 'KUBELET_SYNC_PERIOD_SECONDS';
export const KUBELET_SYNC_PERIOD_SECONDS = { min: 1, max: 10 * 60, default: 60 } as const;

/**
 * Whether the state machine runs its per-cluster Maps as Distributed Maps, each cluster a child
 * execution with a history of its own (the construct's `distributedMaps`): preflight's history
 * estimate counts the parent's and the largest child's (lambdas/core/plan/history-estimate.ts).
 */
export const DISTRIBUTED_MAPS_ENV = 'DISTRIBUTED_MAPS';

/** preflight refuses a cluster whose intermediate expires within this many days (a run takes time). */
export const MIN_INTERMEDIATE_HEADROOM_DAYS_ENV = 'MIN_INTERMEDIATE_HEADROOM_DAYS';
export const MIN_INTERMEDIATE_HEADROOM_DAYS = { min: 0, default: 7 } as const;

/**
 * How long the current root must outlive what a run leans on it for (lambdas/core/rotation/root-headroom.ts:
 * scheduled and intermediate runs are refused below it, emergency gets a note).
 */
export const MIN_ROOT_HEADROOM_DAYS_ENV = 'MIN_ROOT_HEADROOM_DAYS';
export const MIN_ROOT_HEADROOM_DAYS = { min: 0, default: 7 } as const;

/**
 * Every key a rotation function reads (lambdas/application/config.ts, `readRotationConfig`, which
 * every phase and check-expiry run first). The stack sets each of them on every rotation function.
 */
export const ROTATION_FUNCTION_ENV_KEYS = [
  MESH_ID_ENV,
  CLUSTERS_ENV,
  CLUSTER_TAG_KEY_ENV,
  CLUSTER_TAG_VALUE_ENV,
  KMS_KEY_ID_ENV,
  LOCK_TABLE_NAME_ENV,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
  RESTART_WAVE_SIZE_ENV,
  DISTRIBUTED_MAPS_ENV,
  INTERMEDIATE_VALIDITY_DAYS_ENV,
  ROOT_VALIDITY_DAYS_ENV,
  KEY_ALGORITHM_ENV,
  ROOT_KEY_DELETION_WINDOW_DAYS_ENV,
  ROOT_KEY_PRINCIPALS_ENV.create,
  ROOT_KEY_PRINCIPALS_ENV.sign,
  ROOT_KEY_PRINCIPALS_ENV.retire,
  ROOT_KEY_PRINCIPALS_ENV.find,
  ...Object.values(CA_SECRET_POLICY_ENV),
  CLUSTER_ROLE_ARN_ENV,
  CLUSTER_ACCOUNT_ROLES_ENV,
  MESH_ACCOUNT_ID_ENV,
  MIN_INTERMEDIATE_HEADROOM_DAYS_ENV,
  MIN_ROOT_HEADROOM_DAYS_ENV,
  EXPIRY_WARNING_DAYS_ENV,
  VERIFY_TIMEOUT_SECONDS_ENV,
  KUBELET_SYNC_PERIOD_SECONDS_ENV,
  ROTATION_STRATEGY_ENV,
  REMOTE_CLUSTERS_ENV,
] as const;
export type RotationFunctionEnvKey = (typeof ROTATION_FUNCTION_ENV_KEYS)[number];

/**
 * Every key answer-approval reads; the stack sets them on it (lib/approval-endpoint.ts). LOCK_TABLE_NAME:
 * where it writes the approval record the step after the gate checks.
 */
export const APPROVAL_FUNCTION_ENV_KEYS = [APPROVAL_STATE_MACHINE_ARN_ENV, LOCK_TABLE_NAME_ENV] as const;
export type ApprovalFunctionEnvKey = (typeof APPROVAL_FUNCTION_ENV_KEYS)[number];

/**
 * The region, which Lambda sets in every function. The handlers read it (the clusters' and secrets'
 * region, the STS region of EKS tokens); the stack never sets it: Lambda reserves the key.
 */
export const AWS_REGION_ENV = 'AWS_REGION';
export const LAMBDA_SET_ENV_KEYS = [AWS_REGION_ENV] as const;

/** Powertools' service name; the logger and metrics also get it in code (`meshtrust`). */
export const POWERTOOLS_SERVICE_NAME_ENV = 'POWERTOOLS_SERVICE_NAME';

/** Powertools' metrics namespace; lambdas/adapters/audit/metrics.ts reads it too. */
export const POWERTOOLS_METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/**
 * Keys the stack may set for Powertools rather than for meshtrust's code, so a function may have one
 * that its own code never reads (no NODE_OPTIONS: no source map is deployed for node to read, see
 * docs/architecture.md, "Lambda bundles"). Where our code does read one (the metrics
 * namespace), the stack must still set it on that function like any other key.
 */
export const RUNTIME_ENV_KEYS = [POWERTOOLS_SERVICE_NAME_ENV, POWERTOOLS_METRICS_NAMESPACE_ENV] as const;
export type RuntimeEnvKey = (typeof RUNTIME_ENV_KEYS)[number];
