import { PreconditionFailed } from '../rotation-errors.js';

/** The phases that write the staged root into a cluster's root-cert.pem (root rotations only). */
export type StagedRootPhase = 'distribute-bundle' | 'retire-root';

/**
 * distribute-bundle and retire-root write the staged root, so they refuse (PreconditionFailed) an event
 * without one: only an intermediate rekey has none, and it never reaches them. `V` is a root version as
 * the steps pass it on.
 */
export function requireStagedRoot<V>(phase: StagedRootPhase, cluster: string, stagedRoot: V | null): V {
  if (stagedRoot === null) {
    throw new PreconditionFailed(
      `${phase} needs the staged root (stagedRoot), got null; it runs only in scheduled and emergency mode.`,
      { cluster, phase },
    );
  }
  return stagedRoot;
}
