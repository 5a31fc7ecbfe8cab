import { z } from 'zod';
import { readRootCertConfigMaps } from '../adapters/kube/trust-bundles.js';
import type { CacertsBackup } from '../adapters/secrets/cacerts-backup.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { auditCacertsChange, auditStateChange } from '../application/audit-state-change.js';
import { applyCacertsChange } from '../application/cluster-cacerts.js';
import { deleteCacertsBackups, workedClustersSchema } from '../application/delete-cacerts-backups.js';
import { skipRemote } from '../application/remote-cluster.js';
import { type RetiredKey, retiredKeyDetail, retireRootKey } from '../application/retire-root-key.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { waitUntil } from '../application/wait-until.js';
import { ROLLBACK_OF_KEY } from '../contract/resume-rollback.js';
import type { CacertsFiles } from '../core/pki/cacerts.js';
import { TrustBundle } from '../core/pki/trust-bundle.js';
import type { CacertsChange } from '../core/rotation/cacerts-change.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import {
  restoreIntermediateChange,
  restoreOriginalChange,
  restoreTrustChange,
} from '../core/rotation/rollback-changes.js';
import { PreconditionFailed, VerificationFailed } from '../core/rotation-errors.js';
import { executionIdSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'rollback';

export const ROLLBACK_STAGES = [
  'restore-trust',
  'restore-intermediate',
  'restore-original',
  'drop-pending-root',
] as const;
export type RollbackStage = (typeof ROLLBACK_STAGES)[number];

const inputSchema = z.object({
  executionId: executionIdSchema,
  stage: z.enum(ROLLBACK_STAGES),
  cluster: z.string().min(1).nullable().optional(),
  /**
   * The execution whose writes are undone, when it is not this one: a resumed rollback
   * (lambdas/contract/resume-rollback.ts). Null or absent: this execution's own.
   */
  [ROLLBACK_OF_KEY]: executionIdSchema.nullable().optional(),
  /** drop-pending-root: the clusters the run worked on (preflight's), whose cacerts backups it deletes. */
  clusters: workedClustersSchema,
});
export type RollbackInput = z.infer<typeof inputSchema>;

export interface RollbackOutput {
  readonly stage: RollbackStage;
  readonly cluster?: string;
  /** false: nothing to undo here (untouched, or undone already). */
  readonly changed: boolean;
  /** Why nothing was changed, when nothing was. */
  readonly reason?: string;
  readonly intermediateAfter?: string;
  readonly rootsAfter?: string[];
  readonly resourceVersion?: string;
  readonly droppedVersionId?: string;
  /** drop-pending-root: this execution's root key, retired (it must never sign again). */
  readonly retiredKey?: RetiredKey;
  /** drop-pending-root: clusters whose cacerts backup of this execution this call scheduled for deletion. */
  readonly backupsDeleted?: number;
}

/**
 * rollback, one stage per call (docs/workflow.md: a reverse rotation, not a blind restore):
 * restore-trust (root-cert = current ∪ start roots, verified in every namespace), restore-intermediate
 * (the original intermediate back, roots kept), restore-original (cacerts byte-identical to the
 * backup), drop-pending-root (this execution's AWSPENDING removed, then its cacerts backups scheduled
 * for deletion: it runs only once every cluster is restored). Each is idempotent and a no-op for a
 * cluster the execution never touched (no backup).
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<RollbackOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  const cluster = input.cluster ?? undefined;
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      ...(cluster && { cluster }),
      writes: true,
      lambdaContext: context,
    },
    (runtime) => rollback(input, runtime),
  );
}

/**
 * The execution whose writes a stage undoes: its backups, staged root and root key are found by it.
 * The lock and the audit events are the running execution's.
 */
function rotationOf(input: RollbackInput): string {
  return input[ROLLBACK_OF_KEY] ?? input.executionId;
}

async function rollback(input: RollbackInput, runtime: HandlerRuntime): Promise<RollbackOutput> {
  const { executionId, stage } = input;
  const rotation = rotationOf(input);
  if (stage === 'drop-pending-root') return dropPendingRoot(executionId, rotation, input.clusters, runtime);
  const cluster = input.cluster;
  if (!cluster) {
    throw new PreconditionFailed(`The rollback stage ${stage} works on one cluster; the event names none.`, {
      phase: PHASE,
    });
  }
  // A remote holds no cacerts: its primary's restore is what its istiod serves it again.
  const remote = skipRemote(runtime, { phase: PHASE, cluster, executionId });
  if (remote !== undefined) return { stage, cluster, changed: false, reason: remote.reason };
  const backup = await runtime.store.readCacertsBackup(executionNameOf(rotation), cluster);
  if (backup === undefined) {
    return {
      stage,
      cluster,
      changed: false,
      reason: 'this execution never wrote to the cluster (no backup)',
    };
  }
  const client = await runtime.clusterClient(cluster);
  const stagedRootPem = stage === 'restore-trust' ? await stagedRootOf(runtime, rotation) : undefined;
  const decide = decisionFor(stage, cluster, backup, stagedRootPem);
  const applied = await applyCacertsChange(client, PHASE, decide);
  const { after } = auditCacertsChange(applied, {
    phase: PHASE,
    action: stage,
    cluster,
    executionId,
    detail: {
      resourceVersion: applied.resourceVersion,
      ...(rotation !== executionId && { rollbackOf: rotation }),
    },
  });
  if (stage === 'restore-trust') await verifyPublished(runtime, client, cluster, applied.after);
  return {
    stage,
    cluster,
    changed: applied.changed,
    intermediateAfter: after.intermediate,
    rootsAfter: after.roots,
    resourceVersion: applied.resourceVersion,
  };
}

/**
 * drop-pending-root: this execution's AWSPENDING removed, then the key stage-root made for it retired,
 * found by its alias (so also when stage-root stopped between creating the key and staging the root).
 * Last, the execution's cacerts backups are scheduled for deletion: this stage runs after every
 * cluster was restored byte for byte, so they restore nothing more; a rollback that failed before it
 * keeps them for the operator (and a resumed rollback).
 */
async function dropPendingRoot(
  executionId: string,
  rotation: string,
  clusters: RollbackInput['clusters'],
  runtime: HandlerRuntime,
): Promise<RollbackOutput> {
  const stage = 'drop-pending-root';
  const token = clientRequestTokenFor(rotation, 'root');
  const { droppedVersionId } = await runtime.store.dropPendingRoot({ versionId: token });
  const keyArn = await runtime.rootKeys.find(token);
  const retiredKey = keyArn === undefined ? undefined : await retireRootKey(runtime, { kind: 'kms', keyArn });
  const changed = droppedVersionId !== undefined || retiredKey?.changed === true;
  auditStateChange({
    phase: PHASE,
    action: stage,
    executionId,
    outcome: changed ? 'succeeded' : 'unchanged',
    ...((droppedVersionId !== undefined || retiredKey !== undefined || rotation !== executionId) && {
      detail: {
        ...(rotation !== executionId && { rollbackOf: rotation }),
        ...(droppedVersionId !== undefined && { droppedVersionId }),
        ...(retiredKey !== undefined && retiredKeyDetail(retiredKey)),
      },
    }),
  });
  const backupsDeleted = await deleteCacertsBackups(runtime, {
    phase: PHASE,
    executionId,
    backupsOf: rotation,
    clusters,
  });
  if (!changed) {
    return {
      stage,
      changed,
      reason: 'this execution has no pending root nor a live root key',
      backupsDeleted,
    };
  }
  return {
    stage,
    changed,
    backupsDeleted,
    ...(droppedVersionId !== undefined && { droppedVersionId }),
    ...(retiredKey !== undefined && { retiredKey }),
  };
}

/** The certificate of the root this execution staged, or undefined when it staged none (intermediate mode). */
async function stagedRootOf(runtime: HandlerRuntime, executionId: string): Promise<string | undefined> {
  const staged = await runtime.store.tryReadRootVersion(clientRequestTokenFor(executionId, 'root'));
  return staged?.material.certificatePem;
}

function decisionFor(
  stage: Exclude<RollbackStage, 'drop-pending-root'>,
  cluster: string,
  backup: CacertsBackup,
  stagedRootPem: string | undefined,
): (current: CacertsFiles) => CacertsChange {
  switch (stage) {
    case 'restore-trust':
      return (current) => restoreTrustChange(current, backup.files, stagedRootPem);
    case 'restore-intermediate':
      return (current) => restoreIntermediateChange(cluster, current, backup.files);
    case 'restore-original':
      return (current) => restoreOriginalChange(cluster, current, backup.files);
  }
}

/** restore-trust is only done when every namespace's istio-ca-root-cert holds the restored set. */
async function verifyPublished(
  runtime: HandlerRuntime,
  client: Awaited<ReturnType<HandlerRuntime['clusterClient']>>,
  cluster: string,
  files: CacertsFiles,
): Promise<void> {
  const wanted = TrustBundle.parse(files['root-cert.pem']);
  const result = await waitUntil(runtime.config.verifyTimeoutSeconds * 1000, async () => {
    const behind = (await readRootCertConfigMaps(client))
      .filter((bundle) => bundle.rootCertPem !== undefined)
      .filter((bundle) => !TrustBundle.parse(bundle.rootCertPem as string).equals(wanted))
      .map((bundle) => bundle.namespace);
    return { done: behind.length === 0, value: behind };
  });
  if (!result.done) {
    throw new VerificationFailed(
      `istio-ca-root-cert of cluster ${cluster} does not yet hold the restored root set in ${result.value.join(', ')}; ` +
        'istiod may still be pushing. Run the restore-trust stage again.',
      { cluster, phase: PHASE },
    );
  }
}
