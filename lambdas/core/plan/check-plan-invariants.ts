import type { Finding } from '../pki/findings.js';
import { intersection, isAcceptedRootTransition, sameSet, toRootSet } from './fingerprint-set.js';
import type { FleetState } from './fleet-state.js';
import type { ClusterStep, FleetStep, PlanStep, RotationPlan } from './rotation-plan.js';

/** The invariants, by rule id, with what a compliant plan guarantees. */
export const PLAN_RULES = {
  'plan-well-formed':
    'every step names a known cluster and a phase that fits its scope, and the plan belongs to this fleet',
  'preflight-before-writes': 'every cluster is read and checked in preflight before anything is written',
  'new-root-staged-before-use': 'the new root is stored (stage-root) before any cluster is given it',
  'root-set-transition':
    'every root-cert change is a superset or a subset of the previous set (istiod multiroot rule)',
  'intermediate-chains-to-trusted-root': 'every cacerts write holds the root its intermediate chains to',
  'verify-trust-covers-all-namespaces': "verify-trust checks every namespace's istio-ca-root-cert",
  'trust-verified-before-switch':
    'every cluster has verified trust in a root before any cluster switches to an intermediate under it',
  'trust-continuity':
    "at every step every workload cert that can exist verifies against every cluster's bundle",
  'remote-never-written':
    "a remote cluster's cacerts is never written: it has none, its primary's istiod serves it",
  'remote-moved-after-primary-reissue':
    "a remote's workloads move (restarted, or re-signed and awaited) only after its primary's istiod switched to the new intermediate, and by resign only when that switch pushed new roots",
  'root-secret-promoted-last': 'the new root becomes AWSCURRENT only after every cluster trusts exactly it',
  'rotation-completes': 'the plan ends in its target state',
} as const;

export type PlanRule = keyof typeof PLAN_RULES;

const ROOT_ROTATION_RULES = new Set<PlanRule>(['new-root-staged-before-use', 'root-secret-promoted-last']);

/** A finding of the plan checker; the extra fields name what failed for callers that act on it. */
export interface PlanFinding extends Finding {
  rule: PlanRule;
  /** The id of the step after which the problem exists. */
  step?: string;
  /** trust-continuity: the cluster whose workloads present the certificate. */
  presenting?: string;
  /** trust-continuity: the cluster whose workloads fail to verify it (also in `cluster`). */
  verifying?: string;
  /** The root fingerprint concerned. */
  root?: string;
}

interface LiveIssuer {
  intermediate: string;
  root: string;
}

interface SimulatedCluster {
  name: string;
  namespaces: string[];
  initialRoots: string[];
  initialIntermediate: string;
  /** The root-cert istiod holds (it drops rejected writes silently). */
  istiodRoots: string[];
  /** Roots every workload of the cluster is sure to trust: a written bundle counts once verified. */
  guaranteedTrust: string[];
  intermediate: string;
  issuer: string;
  /** Intermediates (and their roots) under which live workload certs of the cluster may be issued. */
  live: LiveIssuer[];
  restartedSinceSwitch: boolean;
  preflighted: boolean;
  /** A remote: the primary whose istiod it follows (its roots, its intermediate). */
  primary?: string;
  /** Its reissue was planned `resign`: the root-cert write pushes new roots, so its proxies re-sign. */
  pushedOnSwitch: boolean;
}

const CLUSTER_PHASES = new Set([
  'preflight',
  'distribute-bundle',
  'verify-trust',
  'reissue-intermediate',
  'restart-workloads',
  'retire-root',
]);
const FLEET_PHASES = new Set(['stage-root', 'soak', 'retire-root']);

function liveRoots(cluster: SimulatedCluster): string[] {
  return toRootSet(cluster.live.map((l) => l.root));
}

/** After a completed restart (and soak when required) only the current intermediate's certs are live. */
function onlyCurrentIntermediate(c: SimulatedCluster): LiveIssuer[] {
  return [{ intermediate: c.intermediate, root: c.issuer }];
}

/** Replays a plan against a model of the fleet and collects the violations it meets on the way. */
class PlanSimulation {
  readonly violations: PlanFinding[] = [];
  private readonly clusters = new Map<string, SimulatedCluster>();
  private readonly all: SimulatedCluster[];
  private readonly rotatesRoot: boolean;
  private readonly soakRequired: boolean;
  private readonly newRoot: string;
  private staged = false;
  private promoted = false;
  /** trust-continuity violations open after the previous step, reported only where they start. */
  private openBreaks = new Set<string>();

  constructor(
    private readonly plan: RotationPlan,
    fleet: FleetState,
  ) {
    this.rotatesRoot = plan.mode !== 'intermediate';
    this.soakRequired = plan.mode === 'scheduled';
    this.newRoot = plan.targetRoot;
    for (const c of fleet.clusters) {
      const roots = toRootSet(c.trustedRoots);
      this.clusters.set(c.name, {
        name: c.name,
        namespaces: [...new Set(c.namespaces)],
        initialRoots: roots,
        initialIntermediate: c.intermediate,
        istiodRoots: roots,
        guaranteedTrust: roots,
        intermediate: c.intermediate,
        issuer: c.intermediateIssuerRoot,
        live: [{ intermediate: c.intermediate, root: c.intermediateIssuerRoot }],
        restartedSinceSwitch: false,
        preflighted: false,
        pushedOnSwitch: false,
        ...(c.primary !== undefined && { primary: c.primary }),
      });
    }
    this.all = [...this.clusters.values()];
    if (plan.currentRoot !== fleet.currentRoot) {
      this.report({
        rule: 'plan-well-formed',
        reason: `the plan starts from root ${plan.currentRoot} but the fleet's current root is ${fleet.currentRoot}; recompute the plan from the current fleet state`,
      });
    }
    const fleetNames = fleet.clusters.map((c) => c.name);
    if (!sameSet(plan.clusters, fleetNames)) {
      this.report({
        rule: 'plan-well-formed',
        reason: `the plan covers clusters [${plan.clusters.join(', ')}] but the fleet has [${fleetNames.join(', ')}]; recompute the plan from the current fleet state`,
      });
    }
  }

  run(): void {
    for (const step of this.plan.phases.flatMap((phase) => phase.steps)) {
      const allowed = step.scope === 'cluster' ? CLUSTER_PHASES : FLEET_PHASES;
      if (!allowed.has(step.phase)) {
        this.report({
          rule: 'plan-well-formed',
          step: step.id,
          reason: `step ${step.id} is a ${step.scope} step in phase '${step.phase}', which has no such steps; recompute the plan`,
        });
        continue;
      }
      this.checkPreflightDone(step);
      if (step.scope === 'fleet') this.applyFleetStep(step);
      else if (!this.applyClusterStep(step)) continue;
      this.checkTrustContinuity(step);
    }
    if (this.rotatesRoot) this.checkRootRotationCompleted();
    else this.checkIntermediateRotationCompleted();
  }

  private report(finding: Omit<PlanFinding, 'status'>): void {
    this.violations.push({ ...finding, status: 'non-compliant' });
  }

  private checkPreflightDone(step: PlanStep): void {
    const missing = this.all.filter((c) => !c.preflighted).map((c) => c.name);
    if (step.writes.length > 0 && missing.length > 0) {
      this.report({
        rule: 'preflight-before-writes',
        step: step.id,
        reason: `step ${step.id} writes (${step.writes.join(', ')}) before preflight checked [${missing.join(', ')}]; run preflight on every cluster first`,
      });
    }
  }

  private applyFleetStep(step: FleetStep): void {
    switch (step.phase) {
      case 'stage-root':
        this.staged = true;
        break;
      case 'soak':
        for (const c of this.all) if (c.restartedSinceSwitch) c.live = onlyCurrentIntermediate(c);
        break;
      case 'retire-root':
        this.promoteRootSecret(step);
        break;
    }
  }

  /** Returns false when the step cannot be applied (unknown cluster). */
  private applyClusterStep(step: ClusterStep): boolean {
    const c = this.clusters.get(step.cluster);
    if (c === undefined) {
      this.report({
        rule: 'plan-well-formed',
        step: step.id,
        cluster: step.cluster,
        reason: `step ${step.id} names cluster '${step.cluster}', which is not in the fleet; recompute the plan from the current fleet state`,
      });
      return false;
    }
    if (c.primary !== undefined) return this.applyRemoteStep(step, c, c.primary);
    switch (step.phase) {
      case 'preflight':
        c.preflighted = true;
        break;
      case 'distribute-bundle':
      case 'retire-root':
        this.checkNewRootStaged(step);
        this.writeCacerts(step, c, c.intermediate, c.issuer);
        break;
      case 'reissue-intermediate':
        this.checkNewRootStaged(step);
        this.writeCacerts(step, c, step.intermediateAfter, step.intermediateIssuerAfter);
        c.pushedOnSwitch = step.strategy === 'resign';
        break;
      case 'verify-trust':
        this.verifyTrust(step, c);
        break;
      case 'restart-workloads':
        // A scheduled restart goes in waves and may miss pods (jobs, bare pods); only a full TTL after it
        // guarantees every cert was renewed. Emergency (and rekey) restarts are forced and awaited.
        if (this.soakRequired) c.restartedSinceSwitch = true;
        else c.live = onlyCurrentIntermediate(c);
        break;
    }
    return true;
  }

  /**
   * A remote holds nothing to write: its bundle and its intermediate change when its primary's do
   * (followPrimary). Its namespaces are verified and its workloads restarted as any cluster's.
   */
  private applyRemoteStep(step: ClusterStep, c: SimulatedCluster, primaryName: string): boolean {
    if (step.writes.includes('cacerts')) {
      this.report({
        rule: 'remote-never-written',
        step: step.id,
        cluster: c.name,
        reason: `step ${step.id} writes cacerts of '${c.name}', a remote of '${primaryName}' that has none; write '${primaryName}' and let its istiod serve '${c.name}'`,
      });
    }
    switch (step.phase) {
      case 'preflight':
        c.preflighted = true;
        break;
      case 'verify-trust':
        this.verifyTrust(step, c);
        break;
      case 'restart-workloads': {
        const primary = this.clusters.get(primaryName);
        const moves =
          step.strategy === 'resign' ? 'waits for the proxies of remote' : 'restarts workloads of remote';
        if (primary !== undefined && primary.intermediate === primary.initialIntermediate) {
          this.report({
            rule: 'remote-moved-after-primary-reissue',
            step: step.id,
            cluster: c.name,
            reason: `step ${step.id} ${moves} '${c.name}' before '${primaryName}' reissued its intermediate, so they stay on or come back with certs from the old one; move a remote after its primary's reissue-intermediate`,
          });
        } else if (primary !== undefined && step.strategy === 'resign' && !primary.pushedOnSwitch) {
          this.report({
            rule: 'remote-moved-after-primary-reissue',
            step: step.id,
            cluster: c.name,
            reason: `step ${step.id} waits for the proxies of remote '${c.name}' to re-sign, but '${primaryName}' reissued with root-cert unchanged, so its istiod pushes them no new roots and none re-signs; plan '${primaryName}' and '${c.name}' the same strategy`,
          });
        }
        if (this.soakRequired) c.restartedSinceSwitch = true;
        else c.live = onlyCurrentIntermediate(c);
        break;
      }
    }
    return true;
  }

  /** What a primary's istiod took reaches its remotes: their bundles' publisher and their signer. */
  private followPrimary(primary: SimulatedCluster, switched: boolean): void {
    for (const remote of this.all.filter((peer) => peer.primary === primary.name)) {
      remote.guaranteedTrust = intersection(remote.guaranteedTrust, primary.istiodRoots);
      remote.istiodRoots = primary.istiodRoots;
      if (!switched) continue;
      remote.intermediate = primary.intermediate;
      remote.issuer = primary.issuer;
      remote.live = [...remote.live, { intermediate: primary.intermediate, root: primary.issuer }];
      remote.restartedSinceSwitch = false;
    }
  }

  private checkNewRootStaged(step: ClusterStep): void {
    if (this.rotatesRoot && !this.staged) {
      this.report({
        rule: 'new-root-staged-before-use',
        step: step.id,
        cluster: step.cluster,
        root: this.newRoot,
        reason: `step ${step.id} gives '${step.cluster}' root ${this.newRoot} before stage-root stored it; run stage-root first`,
      });
    }
  }

  /** istiod validates the whole of cacerts and, if anything is wrong, keeps its old CA without a word. */
  private writeCacerts(step: ClusterStep, c: SimulatedCluster, intermediate: string, issuer: string): void {
    const roots = toRootSet(step.rootsAfter);
    let accepted = true;
    if (!isAcceptedRootTransition(c.istiodRoots, roots)) {
      accepted = false;
      this.report({
        rule: 'root-set-transition',
        step: step.id,
        cluster: c.name,
        reason: `step ${step.id} changes root-cert of '${c.name}' from {${c.istiodRoots.join(', ')}} to {${roots.join(', ')}}, neither a superset nor a subset, so istiod drops it silently; add roots first (superset), then remove them (subset)`,
      });
    }
    if (!roots.includes(issuer)) {
      accepted = false;
      this.report({
        rule: 'intermediate-chains-to-trusted-root',
        step: step.id,
        cluster: c.name,
        root: issuer,
        reason: `step ${step.id} writes cacerts of '${c.name}' whose intermediate chains to ${issuer}, which its root-cert {${roots.join(', ')}} lacks, so istiod rejects it; switch the intermediate before removing its root`,
      });
    }
    if (!accepted) return;
    // Until verify-trust, a workload may hold the old bundle or the new one: it is sure of both only.
    c.guaranteedTrust = intersection(c.guaranteedTrust, roots);
    c.istiodRoots = roots;
    if (intermediate === c.intermediate) {
      this.followPrimary(c, false);
      return;
    }
    const unverified = this.all
      .filter((peer) => !peer.guaranteedTrust.includes(issuer))
      .map((peer) => peer.name);
    if (unverified.length > 0) {
      this.report({
        rule: 'trust-verified-before-switch',
        step: step.id,
        cluster: c.name,
        root: issuer,
        reason: `step ${step.id} switches '${c.name}' to an intermediate under ${issuer} before trust in it was verified in [${unverified.join(', ')}]; distribute the bundle and pass verify-trust in every cluster first`,
      });
    }
    c.intermediate = intermediate;
    c.issuer = issuer;
    // Certs from the old intermediate stay live until restart (and soak): both may be presented now.
    c.live = [...c.live, { intermediate, root: issuer }];
    c.restartedSinceSwitch = false;
    this.followPrimary(c, true);
  }

  private verifyTrust(step: ClusterStep, c: SimulatedCluster): void {
    const checked = new Set(step.namespaces ?? []);
    const unchecked = c.namespaces.filter((ns) => !checked.has(ns));
    if (unchecked.length > 0) {
      this.report({
        rule: 'verify-trust-covers-all-namespaces',
        step: step.id,
        cluster: c.name,
        reason: `step ${step.id} does not check namespaces [${unchecked.join(', ')}] of '${c.name}', so their workloads may hold the old bundle; verify every namespace`,
      });
      return;
    }
    c.guaranteedTrust = c.istiodRoots;
  }

  private promoteRootSecret(step: FleetStep): void {
    const notRetired = this.all.filter((c) => !sameSet(c.istiodRoots, [this.newRoot])).map((c) => c.name);
    if (!this.staged || notRetired.length > 0) {
      this.report({
        rule: 'root-secret-promoted-last',
        step: step.id,
        root: this.newRoot,
        reason: `step ${step.id} promotes ${this.newRoot} to AWSCURRENT while [${notRetired.join(', ')}] do not trust exactly it${this.staged ? '' : ' and before it was staged'}; promote the root secret after every cluster's retire-root`,
      });
    }
    this.promoted = true;
  }

  /** Every root that a cluster's live certs may chain to must be trusted by every cluster, itself included. */
  private checkTrustContinuity(step: PlanStep): void {
    const breaks = new Set<string>();
    for (const presenting of this.all) {
      for (const root of liveRoots(presenting)) {
        for (const verifying of this.all) {
          if (verifying.guaranteedTrust.includes(root)) continue;
          const key = `${presenting.name}\u0000${verifying.name}\u0000${root}`;
          breaks.add(key);
          if (this.openBreaks.has(key)) continue;
          this.report({
            rule: 'trust-continuity',
            step: step.id,
            cluster: verifying.name,
            presenting: presenting.name,
            verifying: verifying.name,
            root,
            reason: `after step ${step.id}, workloads of '${presenting.name}' may present certs chained to ${root} that fail at '${verifying.name}' (${presenting.name} -> ${verifying.name}): ${this.requiredOrder(presenting, verifying, root)}`,
          });
        }
      }
    }
    this.openBreaks = breaks;
  }

  private requiredOrder(presenting: SimulatedCluster, verifying: SimulatedCluster, root: string): string {
    if (verifying.istiodRoots.includes(root)) {
      return `'${verifying.name}' holds ${root} but has not verified it in every namespace; pass verify-trust in every cluster before any cluster switches to an intermediate under it`;
    }
    if (root === presenting.issuer) {
      return `'${verifying.name}' does not trust ${root} yet; distribute it to every cluster and verify trust before any cluster switches to an intermediate under it`;
    }
    const soak = this.soakRequired ? ' and one workload-cert TTL (soak) has passed' : '';
    return `'${verifying.name}' no longer trusts ${root} while certs under it may still be live; retire a root only after every cluster restarted its workloads onto the new intermediate${soak}`;
  }

  private checkRootRotationCompleted(): void {
    const target = this.newRoot;
    for (const c of this.all) {
      if (!sameSet(c.istiodRoots, [target]) || !sameSet(c.guaranteedTrust, [target])) {
        this.incomplete(
          c.name,
          `the plan leaves '${c.name}' trusting {${c.istiodRoots.join(', ')}} instead of exactly the new root ${target}; end with retire-root in every cluster`,
        );
      }
      if (c.issuer !== target || c.live.length !== 1) {
        this.incomplete(
          c.name,
          `the plan leaves workloads of '${c.name}' with certs under [${liveRoots(c).join(', ')}] instead of only the new root ${target}; reissue the intermediate and restart the workloads`,
        );
      }
    }
    if (!this.promoted) {
      this.incomplete(
        undefined,
        `the plan never promotes ${target} to AWSCURRENT; end retire-root with the root secret promotion`,
      );
    }
  }

  private checkIntermediateRotationCompleted(): void {
    const rekeyed = this.plan.cluster === undefined ? undefined : this.clusters.get(this.plan.cluster);
    if (rekeyed === undefined) {
      this.incomplete(
        this.plan.cluster,
        'intermediate mode needs the cluster to rekey; recompute the plan with it',
      );
    } else if (rekeyed.intermediate === rekeyed.initialIntermediate || rekeyed.live.length !== 1) {
      this.incomplete(
        rekeyed.name,
        `the plan leaves workloads of '${rekeyed.name}' with certs from the old intermediate; reissue it and restart the workloads after`,
      );
    }
    for (const remote of this.all.filter((c) => rekeyed !== undefined && c.primary === rekeyed.name)) {
      if (remote.live.length !== 1) {
        this.incomplete(
          remote.name,
          `the plan leaves workloads of remote '${remote.name}' with certs from '${remote.primary}'s old intermediate; restart them after its reissue`,
        );
      }
    }
    for (const c of this.all) {
      if (!sameSet(c.istiodRoots, c.initialRoots)) {
        this.incomplete(
          c.name,
          `intermediate mode must not change root-cert of '${c.name}'; drop the root-cert change`,
        );
      }
    }
  }

  private incomplete(cluster: string | undefined, reason: string): void {
    this.report({ rule: 'rotation-completes', cluster, reason });
  }
}

/**
 * Simulates the plan step by step against the fleet it was made for and reports every broken invariant
 * as a non-compliant finding, plus one compliant (or not-applicable) finding per rule that holds. A plan
 * is safe when no finding is non-compliant.
 *
 * Steps are simulated in the order listed. The cluster steps of one phase may run in any order or
 * concurrently, so the planner puts into one phase only cluster steps that do not depend on each other
 * (the property tests check every interleaving stays safe).
 */
export function checkPlanInvariants(plan: RotationPlan, fleet: FleetState): PlanFinding[] {
  const simulation = new PlanSimulation(plan, fleet);
  simulation.run();
  const broken = new Set(simulation.violations.map((f) => f.rule));
  const rotatesRoot = plan.mode !== 'intermediate';
  const holding: PlanFinding[] = (Object.keys(PLAN_RULES) as PlanRule[])
    .filter((rule) => !broken.has(rule))
    .map((rule) =>
      !rotatesRoot && ROOT_ROTATION_RULES.has(rule)
        ? { rule, status: 'not-applicable', reason: `${PLAN_RULES[rule]}; intermediate mode keeps the root` }
        : { rule, status: 'compliant', reason: PLAN_RULES[rule] },
    );
  return [...simulation.violations, ...holding];
}
