import { PreconditionFailed } from '../rotation-errors.js';

/** What a forward cacerts write knows when it checks the rollback's fence. */
export interface FencedWrite {
  readonly cluster: string;
  /** The forward phase about to write (distribute-bundle, reissue-intermediate, retire-root). */
  readonly phase: string;
  /** The name of the execution the write belongs to. */
  readonly executionName: string;
  /** The execution whose rollback fenced the cluster's cacerts, as read with it; undefined: no fence. */
  readonly rolledBack: string | undefined;
}

/**
 * A forward write refuses (PreconditionFailed, never retried into a write) once the rollback of its own
 * execution has fenced the cluster: it is an invocation of a Map that failed, still running, and the
 * rollback has already looked at the cluster and decided what it must hold. A fence naming another
 * execution (an earlier rotation that was rolled back) does not concern it.
 */
export function refuseWriteOfRolledBackRun(write: FencedWrite): void {
  const { cluster, phase, executionName, rolledBack } = write;
  // No fence (undefined), or another execution's: not this write's concern.
  if (rolledBack !== executionName) return;
  throw new PreconditionFailed(
    `istio-system/cacerts of cluster ${cluster} is fenced by the rollback of execution ${executionName}: ` +
      `the run is being rolled back, so its ${phase} must not write to the cluster any more. Nothing was written. ` +
      'This is an invocation that was still running when its Map failed; the rollback decides what the cluster holds.',
    { cluster, phase },
  );
}
