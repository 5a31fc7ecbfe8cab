import { auditStateChange } from './audit-state-change.js';
import { deleteCacertsBackups } from './delete-cacerts-backups.js';
import { type RetiredKey, retiredKeyDetail, retireRootKey } from './retire-root-key.js';
import { readRootVersion, type SecretVersion } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

const PHASE = 'promote-root';

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
 * promote-root's sequence: the staged root checked against the fingerprint the execution recorded, the
 * root secret's stages moved (audited `promote-root-secret`, unchanged when it was current already), the
 * old root's key retired (`retire-root-key`), then the execution's cacerts backups scheduled for deletion.
 */
export async function promoteRoot(
  runtime: RotationRuntime,
  step: {
    readonly executionId: string;
    readonly stagedRoot: SecretVersion;
    /** The clusters this execution worked on (preflight's): their cacerts backups are deleted. */
    readonly clusters: readonly { readonly name: string }[];
    /** The rotation whose root this promotes when another execution finishes it (a resumed promotion). */
    readonly promotionOf?: string | null;
  },
): Promise<PromoteRootOutput> {
  const { store } = runtime;
  const { executionId, stagedRoot } = step;
  await readRootVersion(store, stagedRoot, { phase: PHASE });
  const before = await store.describeRoot();
  const promoted = await store.promoteRoot({ versionId: stagedRoot.versionId });
  auditStateChange({
    phase: PHASE,
    action: 'promote-root-secret',
    executionId,
    outcome: before.current !== stagedRoot.versionId ? 'succeeded' : 'unchanged',
    fingerprintsAfter: [`root:${promoted.fingerprint}`],
    detail: {
      ...(step.promotionOf !== undefined && step.promotionOf !== null && { promotionOf: step.promotionOf }),
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
    ...(step.promotionOf !== undefined && step.promotionOf !== null && { backupsOf: step.promotionOf }),
    clusters: step.clusters,
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
  runtime: RotationRuntime,
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
