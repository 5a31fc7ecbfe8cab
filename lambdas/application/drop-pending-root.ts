import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { auditStateChange } from './audit-state-change.js';
import { deleteCacertsBackups } from './delete-cacerts-backups.js';
import { retiredKeyDetail, retireRootKey } from './retire-root-key.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

/**
 * rollback's drop-pending-root: the AWSPENDING root of execution `rotation` removed, then the key
 * stage-root made for it retired, found by its alias (so also when stage-root stopped between creating
 * the key and staging the root). Last, the execution's cacerts backups are scheduled for deletion: this
 * stage runs after every cluster was restored byte for byte, so they restore nothing more; a rollback
 * that failed before it keeps them for the operator (and a resumed rollback). The audit events are
 * `executionId`'s, the running execution.
 */
export async function dropPendingRoot(
  runtime: RotationRuntime,
  step: {
    readonly executionId: string;
    readonly rotation: string;
    /** The clusters the run worked on (preflight's), whose cacerts backups it deletes. */
    readonly clusters: readonly { readonly name: string }[];
  },
): Promise<RollbackOutput> {
  const { executionId, rotation } = step;
  const stage = 'drop-pending-root';
  const token = clientRequestTokenFor(rotation, 'root');
  const { droppedVersionId } = await runtime.store.dropPendingRoot({ versionId: token });
  const keyArn = await runtime.rootKeys.find(token);
  const retiredKey = keyArn === undefined ? undefined : await retireRootKey(runtime, { kind: 'kms', keyArn });
  const changed = droppedVersionId !== undefined || retiredKey?.changed === true;
  auditStateChange({
    phase: 'rollback',
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
    phase: 'rollback',
    executionId,
    backupsOf: rotation,
    clusters: step.clusters,
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
