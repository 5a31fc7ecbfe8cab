import type { PhaseName, RollbackPhaseName, RotationMode } from './phases.js';

/** What a step changes. An empty list means the step only reads. */
export type WriteTarget = 'cacerts' | 'secrets-manager' | 'workloads';

/** A step that acts on one cluster, with the state the plan expects that cluster to be in after it. */
export interface ClusterStep {
  scope: 'cluster';
  /** `<phase>/<cluster>`, unique within a plan. */
  id: string;
  phase: PhaseName;
  cluster: string;
  action: string;
  writes: WriteTarget[];
  /** Expected `root-cert.pem` of the cluster after the step (fingerprints, sorted). */
  rootsAfter: string[];
  /** Expected `ca-cert.pem` fingerprint after the step (or a placeholder for one not issued yet). */
  intermediateAfter: string;
  /** Expected root that the cluster's intermediate chains to after the step. */
  intermediateIssuerAfter: string;
  /** verify-trust only: the namespaces whose `istio-ca-root-cert` must hold `rootsAfter`. */
  namespaces?: string[];
  /**
   * reissue-intermediate and restart-workloads of a cluster planned `resign` (core/istio/rotation-strategy.ts):
   * its (or, for a remote, its primary's) reissue appends the new root once more so that istiod pushes it,
   * and its restart waits for the proxies to re-sign and restarts only those that did not. Absent: restart.
   */
  strategy?: 'resign';
}

/** A step that acts on the fleet as a whole (the CA store, or waiting). */
export interface FleetStep {
  scope: 'fleet';
  /** The phase name: a phase has at most one fleet step. */
  id: string;
  phase: PhaseName;
  action: string;
  writes: WriteTarget[];
}

export type PlanStep = ClusterStep | FleetStep;

/**
 * Phases run strictly one after the other. Inside a phase, the cluster steps are independent of each
 * other, so the workflow may run them in any order or concurrently (a Map state); the phase's fleet step,
 * if any, runs after all of them (retire-root promotes the root secret only once every cluster retired).
 */
export interface PlannedPhase {
  name: PhaseName;
  steps: PlanStep[];
}

/**
 * A stage of the rollback, which a failure from the first write through retire-root starts (promote-root
 * is the point of no return and is not rolled back). Fleet-wide: each stage undoes, in every cluster, what
 * the run did there, and does nothing where nothing was done.
 */
export interface PlannedRollbackStage {
  name: RollbackPhaseName;
  action: string;
}

/** Plain JSON data: it travels in Step Functions payloads and is printed by `meshtrust plan`. */
export interface RotationPlan {
  mode: RotationMode;
  currentRoot: string;
  /** The root the fleet ends on: the new root, or the current root in intermediate mode. */
  targetRoot: string;
  /** Cluster names in the order given by the fleet state. */
  clusters: string[];
  /** Intermediate mode only: the cluster whose intermediate is rekeyed. */
  cluster?: string;
  /**
   * The remote clusters and the primary whose istiod serves each (lambdas/contract/topology.ts); absent
   * when every cluster is a primary. A remote is never written: it is verified and restarted.
   */
  remotes?: { name: string; primary: string }[];
  /** How restart-workloads restarts: in waves (scheduled, intermediate) or everything at once (emergency). */
  restart: 'waves' | 'all-at-once';
  phases: PlannedPhase[];
  /** What a failure walks back through, in order. */
  rollback: PlannedRollbackStage[];
}

/** Placeholder for an intermediate that the reissue step will create. */
export function newIntermediateLabel(cluster: string): string {
  return `new-intermediate/${cluster}`;
}
