import { createHash } from 'node:crypto';

/** Why workloads are restarted: the rotation itself, or rollback undoing a switched intermediate. */
export type RestartPurpose = 'rotation' | 'rollback';

export const RESTART_PURPOSES: readonly RestartPurpose[] = ['rotation', 'rollback'];

/**
 * The id a restart is remembered by (in a workload annotation), the same for every retry and re-run
 * of one execution's restart of one cluster, so a workload is never restarted twice for it.
 * 20 hex characters of SHA-256: short enough for an annotation value, unique enough per mesh.
 */
export function restartIdFor(executionId: string, cluster: string, purpose: RestartPurpose): string {
  const digest = createHash('sha256').update(`meshtrust-restart\0${executionId}\0${cluster}\0${purpose}`);
  return digest.digest('hex').slice(0, 20);
}
