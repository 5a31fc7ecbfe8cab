import { toRootSet, union } from './fingerprint-set.js';
import type { ClusterTrustState, FleetState } from './fleet-state.js';
import { type PhaseName, ROTATION_MODES, type RotationMode } from './phases.js';
import { InvalidPlanRequestError, UnknownClusterError } from './plan-errors.js';
import {
  type ClusterStep,
  type FleetStep,
  newIntermediateLabel,
  type PlannedPhase,
  type PlannedRollbackStage,
  type RotationPlan,
  type WriteTarget,
} from './rotation-plan.js';
import { validateFleetState } from './validate-fleet-state.js';

/** Stands in for the new root's fingerprint before stage-root has generated it. */
export const NEW_ROOT_PLACEHOLDER = 'new-root';

export interface PlanRotationInput {
  fleet: FleetState;
  mode: RotationMode;
  /** Fingerprint of the new root, or a label for one not generated yet. @default 'new-root' */
  newRoot?: string;
  /** Intermediate mode only: the cluster whose intermediate is rekeyed. */
  cluster?: string;
  /**
   * The clusters planned `resign` (preflight's strategies; root rotations only): their reissue and
   * restart steps say so, and the plan checker holds a remote's to its primary's. @default none
   */
  resign?: readonly string[];
}

interface ExpectedClusterState {
  roots: string[];
  intermediate: string;
  issuer: string;
}

/** Keeps the expected state of every cluster while the plan is written, so each step states its outcome. */
class PlanBuilder {
  private readonly phases: PlannedPhase[] = [];
  private readonly expected = new Map<string, ExpectedClusterState>();

  constructor(clusters: readonly ClusterTrustState[]) {
    for (const cluster of clusters) {
      this.expected.set(cluster.name, {
        roots: toRootSet(cluster.trustedRoots),
        intermediate: cluster.intermediate,
        issuer: cluster.intermediateIssuerRoot,
      });
    }
  }

  phase(name: PhaseName): this {
    this.phases.push({ name, steps: [] });
    return this;
  }

  clusterStep(
    cluster: string,
    action: string,
    writes: WriteTarget[],
    change: Partial<ExpectedClusterState> = {},
    namespaces?: string[],
    strategy?: 'resign',
  ): this {
    const current = this.expected.get(cluster) as ExpectedClusterState;
    const next = { ...current, ...change };
    this.expected.set(cluster, next);
    const phase = this.currentPhase();
    const step: ClusterStep = {
      scope: 'cluster',
      id: `${phase.name}/${cluster}`,
      phase: phase.name,
      cluster,
      action,
      writes,
      rootsAfter: next.roots,
      intermediateAfter: next.intermediate,
      intermediateIssuerAfter: next.issuer,
    };
    if (namespaces !== undefined) step.namespaces = namespaces;
    if (strategy !== undefined) step.strategy = strategy;
    phase.steps.push(step);
    return this;
  }

  fleetStep(action: string, writes: WriteTarget[]): this {
    const phase = this.currentPhase();
    const step: FleetStep = { scope: 'fleet', id: phase.name, phase: phase.name, action, writes };
    phase.steps.push(step);
    return this;
  }

  rootsOf(cluster: string): string[] {
    return (this.expected.get(cluster) as ExpectedClusterState).roots;
  }

  build(): PlannedPhase[] {
    return this.phases;
  }

  private currentPhase(): PlannedPhase {
    return this.phases[this.phases.length - 1] as PlannedPhase;
  }
}

function validateRequest(input: PlanRotationInput): void {
  const { fleet, mode, newRoot, cluster } = input;
  if (!(ROTATION_MODES as readonly string[]).includes(mode)) {
    throw new InvalidPlanRequestError(
      `unknown rotation mode '${String(mode)}'; use one of ${ROTATION_MODES.join(', ')}`,
    );
  }
  if (mode === 'intermediate') {
    if (cluster === undefined || cluster === '') {
      throw new InvalidPlanRequestError(
        'intermediate mode rekeys one cluster; name it (cluster) from the fleet: ' +
          fleet.clusters.map((c) => c.name).join(', '),
      );
    }
    if (!fleet.clusters.some((c) => c.name === cluster)) {
      throw new UnknownClusterError(
        `cluster '${cluster}' is not in the fleet (${fleet.clusters.map((c) => c.name).join(', ')}); ` +
          'check the name or the cluster discovery',
        { cluster },
      );
    }
    const primary = fleet.clusters.find((c) => c.name === cluster)?.primary;
    if (primary !== undefined) {
      throw new InvalidPlanRequestError(
        `cluster '${cluster}' is a remote of '${primary}': it has no intermediate of its own; rekey '${primary}', ` +
          `whose istiod signs for it (its workloads are restarted with ${primary}'s)`,
      );
    }
    if (newRoot !== undefined) {
      throw new InvalidPlanRequestError(
        'intermediate mode keeps the current root; drop newRoot, or use scheduled/emergency mode to rotate the root',
      );
    }
    return;
  }
  if (cluster !== undefined) {
    throw new InvalidPlanRequestError(
      `${mode} mode rotates the root of every cluster; drop cluster '${cluster}', or use intermediate mode to rekey one cluster`,
    );
  }
  if (newRoot !== undefined && newRoot.trim() === '') {
    throw new InvalidPlanRequestError(
      'newRoot is empty; pass the new root fingerprint, or leave it out for a placeholder',
    );
  }
  if ((newRoot ?? NEW_ROOT_PLACEHOLDER) === fleet.currentRoot) {
    throw new InvalidPlanRequestError(
      `newRoot ${newRoot ?? NEW_ROOT_PLACEHOLDER} is the current root; a rotation needs a different root (leave newRoot out to plan with a placeholder)`,
    );
  }
}

/**
 * The fleet's primaries, then its remotes: a remote's expected state follows its primary's (its proxies
 * are served by the primary's istiod), so within a phase the plan states the primary's step first.
 */
function primariesFirst(fleet: FleetState): ClusterTrustState[] {
  return [
    ...fleet.clusters.filter((c) => c.primary === undefined),
    ...fleet.clusters.filter((c) => c.primary !== undefined),
  ];
}

function remotePreflight(primary: string): string {
  return `read istio-ca-root-cert and the injected workloads; check it holds no cacerts (a remote, served by ${primary}'s istiod)`;
}

function planRootRotation(
  fleet: FleetState,
  mode: 'scheduled' | 'emergency',
  newRoot: string,
  resign: readonly string[],
): PlannedPhase[] {
  const ordered = primariesFirst(fleet);
  const plan = new PlanBuilder(fleet.clusters);

  plan.phase('preflight');
  for (const cluster of fleet.clusters) {
    plan.clusterStep(
      cluster.name,
      cluster.primary !== undefined
        ? remotePreflight(cluster.primary)
        : 'read cacerts, istiod and the mesh config; check chain, expiries, ISTIO_MULTIROOT_MESH and no other rotation running; record Istio version, workload cert TTL and PCDS',
      [],
    );
  }

  plan
    .phase('stage-root')
    .fleetStep(`generate root ${newRoot}; store it as version AWSPENDING of the root secret`, [
      'secrets-manager',
    ]);

  plan.phase('distribute-bundle');
  for (const { name, primary } of ordered) {
    if (primary !== undefined) {
      const roots = plan.rootsOf(primary);
      plan.clusterStep(
        name,
        `nothing written (remote): ${primary}'s istiod publishes root-cert {${roots.join(', ')}} into its namespaces`,
        [],
        { roots },
      );
      continue;
    }
    // Keep every root the cluster holds and add the new one: only a superset is accepted by istiod.
    const roots = union(plan.rootsOf(name), [newRoot]);
    plan.clusterStep(name, `back up cacerts; write root-cert = {${roots.join(', ')}}`, ['cacerts'], {
      roots,
    });
  }

  plan.phase('verify-trust');
  for (const cluster of fleet.clusters) {
    const roots = plan.rootsOf(cluster.name);
    const namespaces = [...new Set(cluster.namespaces)];
    const publisher = cluster.primary === undefined ? '' : ` (published by ${cluster.primary}'s istiod)`;
    plan.clusterStep(
      cluster.name,
      `check istio-ca-root-cert${publisher} holds {${roots.join(', ')}} in all ${namespaces.length} namespaces`,
      [],
      {},
      namespaces,
    );
  }

  plan.phase('reissue-intermediate');
  for (const { name, primary } of ordered) {
    const strategy = strategyOf(resign, name);
    if (primary !== undefined) {
      const intermediate = newIntermediateLabel(primary);
      plan.clusterStep(
        name,
        `nothing written (remote): its proxies are signed by ${primary}'s istiod, now with ${intermediate}`,
        [],
        { intermediate, issuer: newRoot },
        undefined,
        strategy,
      );
      continue;
    }
    const intermediate = newIntermediateLabel(name);
    const rootCert =
      strategy === undefined
        ? 'root-cert unchanged'
        : `root-cert with ${newRoot} appended once more, so that istiod pushes it and its proxies re-sign`;
    plan.clusterStep(
      name,
      `issue intermediate ${intermediate} signed by ${newRoot}; store it; write cacerts with it (${rootCert}); read back that istiod took it`,
      ['secrets-manager', 'cacerts'],
      { intermediate, issuer: newRoot },
      undefined,
      strategy,
    );
  }

  plan.phase('restart-workloads');
  const how = mode === 'emergency' ? 'all at once' : 'in waves';
  for (const { name, primary } of fleet.clusters) {
    const strategy = strategyOf(resign, name);
    plan.clusterStep(
      name,
      restartAction(name, how, primary, strategy),
      ['workloads'],
      {},
      undefined,
      strategy,
    );
  }

  if (mode === 'scheduled') {
    plan.phase('soak').fleetStep('wait one workload-cert TTL so every workload cert is renewed', []);
  }

  plan.phase('retire-root');
  for (const { name, primary } of ordered) {
    if (primary !== undefined) {
      plan.clusterStep(
        name,
        `nothing written (remote): ${primary}'s istiod publishes root-cert {${newRoot}} into its namespaces`,
        [],
        { roots: [newRoot] },
      );
      continue;
    }
    plan.clusterStep(name, `write root-cert = {${newRoot}}`, ['cacerts'], { roots: [newRoot] });
  }
  plan.fleetStep(`promote ${newRoot} to AWSCURRENT and ${fleet.currentRoot} to AWSPREVIOUS`, [
    'secrets-manager',
  ]);

  return plan.build();
}

/**
 * A remote's workloads move only once its primary's istiod signs with the new intermediate; `resign`
 * waits for the proxies to re-sign and restarts only the workloads whose proxies did not.
 */
function restartAction(
  cluster: string,
  how: string,
  primary: string | undefined,
  strategy?: 'resign',
): string {
  const gate =
    primary === undefined ? '' : ` once ${primary}'s istiod signs with ${newIntermediateLabel(primary)}`;
  if (strategy === 'resign') {
    return (
      `wait${gate} until every proxy serves a certificate from ${newIntermediateLabel(primary ?? cluster)}; ` +
      `rollout restart ${how} only the workloads whose proxies did not re-sign; wait until ready`
    );
  }
  return `rollout restart injected workloads ${how}${gate}; wait until ready`;
}

function strategyOf(resign: readonly string[], cluster: string): 'resign' | undefined {
  return resign.includes(cluster) ? 'resign' : undefined;
}

function planIntermediateRotation(fleet: FleetState, target: string): PlannedPhase[] {
  const plan = new PlanBuilder(fleet.clusters);
  // Every cluster is read: the new intermediate is only safe if every peer still trusts the current root.
  plan.phase('preflight');
  for (const cluster of fleet.clusters) {
    plan.clusterStep(
      cluster.name,
      cluster.primary !== undefined
        ? remotePreflight(cluster.primary)
        : 'read cacerts; check chain, expiries, istiod version; check no other rotation runs',
      [],
    );
  }
  const intermediate = newIntermediateLabel(target);
  plan
    .phase('reissue-intermediate')
    .clusterStep(
      target,
      `issue intermediate ${intermediate} signed by ${fleet.currentRoot}; store it; write cacerts with it (root-cert unchanged); read back that istiod took it`,
      ['secrets-manager', 'cacerts'],
      { intermediate, issuer: fleet.currentRoot },
    );
  // The target's istiod also signs for its remotes, whose workloads move with it.
  plan
    .phase('restart-workloads')
    .clusterStep(target, restartAction(target, 'in waves', undefined), ['workloads']);
  for (const remote of fleet.clusters.filter((c) => c.primary === target)) {
    plan.clusterStep(remote.name, restartAction(remote.name, 'in waves', target), ['workloads']);
  }
  return plan.build();
}

/**
 * The rollback as the state machine runs it: every stage in every mode, a stage finding nothing of this
 * run to undo leaving the cluster as it is. Each stage writes only where the run wrote before it, so what
 * it does depends on how far the run got, not on the mode alone.
 */
function planRollback(mode: RotationMode): PlannedRollbackStage[] {
  const rootRotation = mode !== 'intermediate';
  return [
    {
      name: 'rollback-trust',
      action: rootRotation
        ? "where root-cert.pem lacks the start state's roots, append them back byte for byte; check every namespace holds them"
        : 'nothing to restore: intermediate mode leaves root-cert unchanged',
    },
    {
      name: 'rollback-intermediate',
      action: 'where the intermediate was switched, write the original intermediate back (roots kept)',
    },
    {
      name: 'rollback-restart',
      action:
        'where the intermediate was switched, wait until istiod signs with the original one, then restart injected workloads',
    },
    {
      name: 'rollback-restore',
      action: 'write each touched cluster its backed-up cacerts, byte for byte',
    },
    {
      name: 'rollback-drop-pending',
      action: rootRotation
        ? 'remove AWSPENDING from the root secret version staged by this run'
        : 'nothing to drop: intermediate mode stages no root',
    },
  ];
}

/**
 * Computes the ordered phases of a rotation and, per cluster, the state each step leaves behind.
 * Deterministic: clusters appear in the order of `fleet.clusters`.
 */
export function planRotation(input: PlanRotationInput): RotationPlan {
  validateFleetState(input.fleet);
  validateRequest(input);
  const { fleet, mode } = input;
  const clusters = fleet.clusters.map((c) => c.name);
  const remotes = fleet.clusters.flatMap((c) =>
    c.primary === undefined ? [] : [{ name: c.name, primary: c.primary }],
  );
  const topology = remotes.length === 0 ? {} : { remotes };
  if (mode === 'intermediate') {
    return {
      mode,
      currentRoot: fleet.currentRoot,
      targetRoot: fleet.currentRoot,
      clusters,
      ...topology,
      cluster: input.cluster,
      restart: 'waves',
      phases: planIntermediateRotation(fleet, input.cluster as string),
      rollback: planRollback(mode),
    };
  }
  const newRoot = input.newRoot ?? NEW_ROOT_PLACEHOLDER;
  return {
    mode,
    currentRoot: fleet.currentRoot,
    targetRoot: newRoot,
    clusters,
    ...topology,
    restart: mode === 'emergency' ? 'all-at-once' : 'waves',
    phases: planRootRotation(fleet, mode, newRoot, input.resign ?? []),
    rollback: planRollback(mode),
  };
}
