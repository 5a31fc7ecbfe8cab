import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { auditStateChange } from './audit-state-change.js';
import { deleteCacertsBackups } from './delete-cacerts-backups.js';
import { type RetiredKey, retiredKeyDetail, retireRootKey } from './retire-root-key.js';
import type { RollbackOutput } from './rollback-output.js';
import type { RotationRuntime } from './runtime.js';

/**
 * rollback's drop-pending-root: the AWSPENDING root of execution `rotation` removed, then every key
 * stage-root made for it retired: the one its alias names (so also when stage-root stopped between
 * creating the key and staging the root), and each key tagged with the root version that no alias
 * names (stage-root stopped, or the run rolled back, between CreateKey and CreateAlias; or a key made
 * twice), found by the same search stage-root runs (RootKeys.unnamedKeysOf). No root signed with those
 * keys is trusted anywhere, so nothing may sign with them again. Last, the execution's cacerts backups
 * are scheduled for deletion: this stage runs after every cluster was restored byte for byte, so they
 * restore nothing more; a rollback that failed before it keeps them for the operator (and a resumed
 * rollback). The audit events are `executionId`'s, the running execution.
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
  // The search first: it writes nothing, so when it refuses (too many keys with no alias) the rollback
  // stops with the pending root and its keys as they were, for a resumed rollback to drop.
  const unnamedKeyArns = await unnamedKeysToRetire(runtime, token);
  const { droppedVersionId } = await runtime.store.dropPendingRoot({ versionId: token });
  const keyArn = await runtime.rootKeys.find(token);
  const retiredKey = keyArn === undefined ? undefined : await retireRootKey(runtime, { kind: 'kms', keyArn });
  // One at a time: there is at most a handful, and each is a DisableKey and a ScheduleKeyDeletion.
  const retiredUnnamedKeys: RetiredKey[] = [];
  for (const unnamed of unnamedKeyArns) {
    retiredUnnamedKeys.push(await retireRootKey(runtime, { kind: 'kms', keyArn: unnamed }));
  }
  const changed =
    droppedVersionId !== undefined ||
    retiredKey?.changed === true ||
    retiredUnnamedKeys.some((retired) => retired.changed);
  auditStateChange({
    phase: 'rollback',
    action: stage,
    executionId,
    outcome: changed ? 'succeeded' : 'unchanged',
    ...((droppedVersionId !== undefined ||
      retiredKey !== undefined ||
      retiredUnnamedKeys.length > 0 ||
      rotation !== executionId) && {
      detail: {
        ...(rotation !== executionId && { rollbackOf: rotation }),
        ...(droppedVersionId !== undefined && { droppedVersionId }),
        ...(retiredKey !== undefined && retiredKeyDetail(retiredKey)),
        ...(retiredUnnamedKeys.length > 0 && {
          rootKeysUnnamedRetired: retiredUnnamedKeys.map((retired) => retired.id).join(','),
        }),
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
    ...(retiredUnnamedKeys.length > 0 && { retiredUnnamedKeys }),
  };
}

/**
 * The keys of root version `token` that no alias names and that are not yet pending deletion. The
 * current root's key is left out whatever its tags say: the search passes over aliased keys, and the
 * current root's key has its alias, so this only matters if someone removed that alias by hand.
 */
async function unnamedKeysToRetire(runtime: RotationRuntime, token: string): Promise<string[]> {
  const found = await runtime.rootKeys.unnamedKeysOf(token);
  if (found.length === 0) return found;
  const { key } = (await runtime.store.readCurrentRoot()).material;
  return key.kind === 'kms' ? found.filter((arn) => arn !== key.keyArn) : found;
}
