import type { RotationPhase } from '../adapters/audit/audit-event.js';
import * as z from '../adapters/zod.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { auditStateChange } from './audit-state-change.js';
import type { RotationRuntime } from './runtime.js';

/**
 * The clusters an execution worked on (preflight's `clusters`, `$.preflight.clusters`): the Task that
 * ends a path of the run passes them so that it can delete their cacerts backups. Absent: none.
 */
export const workedClustersSchema = z._default(
  z.array(z.object({ name: z.string().check(z.minLength(1)) })),
  [],
);

/**
 * Schedules the deletion of an execution's cacerts backups (each holds a cluster's old intermediate key)
 * once they can restore nothing the run still needs: a root rotation's at promote-root (the fleet trusts
 * only the new root), an intermediate rekey's when it has succeeded (release-lock), a rolled-back run's
 * when every cluster is restored (rollback's last stage). Each is deleted after the root key deletion
 * window, so an operator can still restore it within that window, and audited as `delete-cacerts-backup`.
 * Idempotent: a backup already scheduled for deletion, or never made, is left as it is. One cluster at
 * a time: a run works on a handful of clusters and each call is one request. Returns how many this call
 * scheduled.
 */
export async function deleteCacertsBackups(
  runtime: Pick<RotationRuntime, 'store' | 'config'>,
  options: {
    /** The step that deletes them: the phase of its audit events. */
    readonly phase: Extract<RotationPhase, 'promote-root' | 'release-lock' | 'rollback'>;
    /** The execution that runs (the audit events are its). */
    readonly executionId: string;
    /** The execution that made the backups, when another one deletes them. @default executionId */
    readonly backupsOf?: string;
    readonly clusters: readonly { readonly name: string }[];
  },
): Promise<number> {
  const { phase, executionId, clusters } = options;
  const backupsOf = options.backupsOf ?? executionId;
  const executionName = executionNameOf(backupsOf);
  let deleted = 0;
  for (const { name } of clusters) {
    const result = await runtime.store.deleteCacertsBackup(
      executionName,
      name,
      runtime.config.rootKeyDeletionWindowDays,
    );
    if (result.changed) deleted += 1;
    auditStateChange({
      phase,
      action: 'delete-cacerts-backup',
      executionId,
      cluster: name,
      outcome: result.changed ? 'succeeded' : 'unchanged',
      detail: {
        ...(backupsOf !== executionId && { backupsOf }),
        ...(result.deletionDate !== undefined && { deletionDate: result.deletionDate.toISOString() }),
      },
    });
  }
  return deleted;
}
