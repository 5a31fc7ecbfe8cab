import type { CacertsFiles } from '../pki/cacerts.js';
import { PreconditionFailed } from '../rotation-errors.js';
import type { CacertsChange } from './cacerts-change.js';
import { restoreIntermediateChange, restoreOriginalChange, restoreTrustChange } from './rollback-changes.js';

/**
 * The rollback's stages in the order they run (docs/workflow.md): four per cluster, then one for the CA
 * store. verify-restored-trust writes nothing: it is restore-trust's wait, in a Map of its own so that it
 * gets restore-trust's answers (when each cluster was written) and a retry knows how long ago the write was.
 */
export const ROLLBACK_STAGES = [
  'restore-trust',
  'verify-restored-trust',
  'restore-intermediate',
  'restore-original',
  'drop-pending-root',
] as const;
export type RollbackStage = (typeof ROLLBACK_STAGES)[number];
/** The per-cluster stages that write cacerts. */
export type ClusterRollbackStage = Exclude<RollbackStage, 'drop-pending-root' | 'verify-restored-trust'>;

/** The cluster a per-cluster stage works on: refused (PreconditionFailed) when its event names none. */
export function rollbackClusterOf(
  stage: Exclude<RollbackStage, 'drop-pending-root'>,
  cluster: string | null | undefined,
): string {
  if (!cluster) {
    throw new PreconditionFailed(`The rollback stage ${stage} works on one cluster; the event names none.`, {
      phase: 'rollback',
    });
  }
  return cluster;
}

/**
 * What a per-cluster stage decides, given the cluster's backup (its start state): restore-trust with the
 * staged root's certificate (undefined when the rotation staged none), the other two without it.
 */
export function rollbackChangeFor(
  stage: ClusterRollbackStage,
  cluster: string,
  backup: CacertsFiles,
  stagedRootPem: string | undefined,
): (current: CacertsFiles) => CacertsChange {
  switch (stage) {
    case 'restore-trust':
      return (current) => restoreTrustChange(current, backup, stagedRootPem);
    case 'restore-intermediate':
      return (current) => restoreIntermediateChange(cluster, current, backup);
    case 'restore-original':
      return (current) => restoreOriginalChange(cluster, current, backup);
  }
}
