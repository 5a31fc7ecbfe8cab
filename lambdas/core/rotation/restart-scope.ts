// What one restart-workloads invocation works under, decided from its event before anything is read:
// how the workloads move (the strategy), whose restart it is (the restart id written on each pod
// template) and which phase its audit events belong to. Pure: the handler reads the cluster after.
import type { RotationStrategy } from '../istio/rotation-strategy.js';
import type { RotationMode } from '../plan/phases.js';
import { type RestartPurpose, restartIdFor } from './restart-id.js';

export interface RestartRequest {
  readonly executionId: string;
  readonly cluster: string;
  readonly mode: RotationMode;
  readonly purpose: RestartPurpose;
  /** The cluster's strategy from preflight's plan. */
  readonly strategy: RotationStrategy;
  /** purpose rollback: the execution whose intermediate switch is undone, when it is not this one. */
  readonly rollbackOf?: string | null;
}

export interface RestartScope {
  /**
   * `resign` only in a root rotation: only a new root makes istiod push roots that make proxies
   * re-sign (reissue-intermediate decides alike). A rollback and an intermediate rekey restart.
   */
  readonly strategy: RotationStrategy;
  /** The execution whose intermediate switch this restart follows: this one, or a failed run's. */
  readonly rotation: string;
  /** restartIdFor(rotation, cluster, purpose): a workload that carries it is not restarted again. */
  readonly restartId: string;
  /** The phase the restart's audit events name. */
  readonly auditPhase: 'restart-workloads' | 'rollback';
}

export function restartScopeOf(request: RestartRequest): RestartScope {
  const { executionId, cluster, mode, purpose } = request;
  const rotation = (purpose === 'rollback' ? request.rollbackOf : undefined) ?? executionId;
  return {
    strategy: purpose === 'rotation' && mode !== 'intermediate' ? request.strategy : 'restart',
    rotation,
    restartId: restartIdFor(rotation, cluster, purpose),
    auditPhase: purpose === 'rollback' ? 'rollback' : 'restart-workloads',
  };
}
