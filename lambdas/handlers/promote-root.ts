import { z } from 'zod';
import { auditStateChange } from '../application/audit-state-change.js';
import { deleteCacertsBackups, workedClustersSchema } from '../application/delete-cacerts-backups.js';
import { type RetiredKey, retiredKeyDetail, retireRootKey } from '../application/retire-root-key.js';
import { readRootVersion } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { executionIdSchema, parseInput, secretVersionSchema } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'promote-root';

const inputSchema = z.object({
  executionId: executionIdSchema,
  stagedRoot: secretVersionSchema,
  /** The clusters this execution worked on (preflight's): their cacerts backups are deleted. */
  clusters: workedClustersSchema,
});
export type PromoteRootInput = z.infer<typeof inputSchema>;

export interface PromoteRootOutput {
  readonly secretArn: string;
  readonly currentVersionId: string;
  readonly previousVersionId: string | null;
  readonly fingerprint: string;
  /** The old root's key, retired: nothing may sign with it once no cluster trusts it. */
  readonly retiredKey: RetiredKey | null;
  /** Clusters whose cacerts backup of this execution was scheduled for deletion by this call. */
  readonly backupsDeleted: number;
}

/**
 * promote-root: after every cluster trusts only B, the root secret follows: B -> AWSCURRENT, the old
 * root -> AWSPREVIOUS, AWSPENDING removed; then the old root's key is retired (a KMS key disabled and
 * scheduled for deletion, an imported key's secret scheduled for deletion). Idempotent: on a re-run B
 * is current already and the old key retired.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<PromoteRootOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, writes: true, lambdaContext: context },
    (runtime) => promoteRoot(input, runtime),
  );
}

async function promoteRoot(input: PromoteRootInput, runtime: HandlerRuntime): Promise<PromoteRootOutput> {
  const { store } = runtime;
  const { executionId, stagedRoot } = input;
  await readRootVersion(store, stagedRoot, { phase: PHASE });
  const before = await store.describeRoot();
  const promoted = await store.promoteRoot({ versionId: stagedRoot.versionId });
  const changed = before.current !== stagedRoot.versionId;
  auditStateChange({
    phase: PHASE,
    action: 'promote-root-secret',
    executionId,
    outcome: changed ? 'succeeded' : 'unchanged',
    fingerprintsAfter: [`root:${promoted.fingerprint}`],
    detail: {
      currentVersionId: promoted.versionId,
      ...(promoted.previousVersionId !== undefined && { previousVersionId: promoted.previousVersionId }),
    },
  });
  const retiredKey =
    promoted.previousVersionId === undefined
      ? null
      : await retireOldRootKey(runtime, executionId, promoted.previousVersionId);
  // The execution's cacerts backups hold the old intermediates' keys and can restore nothing any more
  // (they chain to the retired root).
  const backupsDeleted = await deleteCacertsBackups(runtime, {
    phase: PHASE,
    executionId,
    clusters: input.clusters,
  });
  return {
    secretArn: promoted.arn,
    currentVersionId: promoted.versionId,
    previousVersionId: promoted.previousVersionId ?? null,
    fingerprint: promoted.fingerprint,
    retiredKey,
    backupsDeleted,
  };
}

async function retireOldRootKey(
  runtime: HandlerRuntime,
  executionId: string,
  versionId: string,
): Promise<RetiredKey> {
  const old = await runtime.store.readRootVersion(versionId);
  const retired = await retireRootKey(runtime, old.material.key);
  auditStateChange({
    phase: PHASE,
    action: 'retire-root-key',
    executionId,
    outcome: retired.changed ? 'succeeded' : 'unchanged',
    fingerprintsBefore: [`root:${old.ref.fingerprint}`],
    detail: { ...retiredKeyDetail(retired), rootVersionId: versionId },
  });
  return retired;
}
