// Properties of the planner and the checker over random fleets. The step dependencies below are written
// out again from DESIGN sections 1-2, independently of the checker, so that "the checker calls a
// reordering unsafe" can be compared with "the reordering breaks a rule of the design".
import fc from 'fast-check';
import { checkPlanInvariants } from '../../../../lambdas/core/plan/check-plan-invariants.js';
import type { FleetState } from '../../../../lambdas/core/plan/fleet-state.js';
import type { RotationMode } from '../../../../lambdas/core/plan/phases.js';
import { planRotation } from '../../../../lambdas/core/plan/plan-rotation.js';
import type { PlanStep, RotationPlan } from '../../../../lambdas/core/plan/rotation-plan.js';
import { nonCompliant, stepsOf, withSteps } from './plan-fixtures.js';

const NUM_RUNS = 150;

// fc.string over a small alphabet: fc.stringMatching is ~20x slower to generate.
const fingerprint = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 16, maxLength: 16 });
const word = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: 1, maxLength });

interface Scenario {
  fleet: FleetState;
  mode: RotationMode;
  newRoot: string | undefined;
  target: string;
}

/**
 * 1..6 clusters, each trusting the current root plus maybe roots shared by all and leftover roots of its
 * own, issuing under the current root or a shared one (a start state in which mTLS works).
 */
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    names: fc.uniqueArray(word(9), { minLength: 1, maxLength: 6 }),
    roots: fc.uniqueArray(fingerprint, { minLength: 5, maxLength: 5 }),
    sharedCount: fc.integer({ min: 0, max: 2 }),
  })
  .chain(({ names, roots, sharedCount }) => {
    const [current, fresh, ...extras] = roots as [string, string, ...string[]];
    const shared = extras.slice(0, sharedCount);
    const leftovers = extras.slice(sharedCount);
    const clusterArb = (name: string) =>
      fc
        .record({
          namespaces: fc.uniqueArray(word(6), { maxLength: 4 }),
          own: fc.subarray(leftovers),
          issuer: fc.constantFrom(current, ...shared),
          intermediate: fingerprint,
        })
        .map(({ namespaces, own, issuer, intermediate }) => ({
          name,
          trustedRoots: [...own, current, ...shared],
          intermediate,
          intermediateIssuerRoot: issuer,
          namespaces,
        }));
    return fc.record({
      fleet: fc.tuple(...names.map(clusterArb)).map((clusters) => ({ currentRoot: current, clusters })),
      mode: fc.constantFrom<RotationMode>('scheduled', 'emergency', 'intermediate'),
      newRoot: fc.option(fc.constant(fresh), { nil: undefined }),
      target: fc.constantFrom(...names),
    });
  });

function plan({ fleet, mode, newRoot, target }: Scenario): RotationPlan {
  return mode === 'intermediate'
    ? planRotation({ fleet, mode, cluster: target })
    : planRotation({ fleet, mode, newRoot });
}

/** [before, after] step ids that DESIGN requires, for the plan's mode and clusters. */
function designDependencies(p: RotationPlan): Array<[string, string]> {
  const deps: Array<[string, string]> = [];
  const names = p.clusters;
  if (p.mode === 'intermediate') {
    const t = p.cluster as string;
    for (const c of names) {
      deps.push(
        [`preflight/${c}`, `reissue-intermediate/${t}`],
        [`preflight/${c}`, `restart-workloads/${t}`],
      );
    }
    deps.push([`reissue-intermediate/${t}`, `restart-workloads/${t}`]);
    return deps;
  }
  const writes = [
    'stage-root',
    'retire-root',
    ...names.flatMap((c) =>
      ['distribute-bundle', 'reissue-intermediate', 'restart-workloads', 'retire-root'].map(
        (ph) => `${ph}/${c}`,
      ),
    ),
  ];
  for (const c of names) {
    // nothing is written before preflight has read every cluster
    for (const w of writes) deps.push([`preflight/${c}`, w]);
    // B exists before any cluster is given it
    for (const ph of ['distribute-bundle', 'reissue-intermediate', 'retire-root'])
      deps.push(['stage-root', `${ph}/${c}`]);
    // a bundle is verified after it was written
    deps.push([`distribute-bundle/${c}`, `verify-trust/${c}`]);
    // EVERY cluster trusts A+B, verified, before ANY cluster switches
    for (const peer of names) deps.push([`verify-trust/${peer}`, `reissue-intermediate/${c}`]);
    // a restart only helps after the switch
    deps.push([`reissue-intermediate/${c}`, `restart-workloads/${c}`]);
    // retire A after every workload holds a B cert (+ one TTL when scheduled)
    if (p.mode === 'scheduled') deps.push([`restart-workloads/${c}`, 'soak'], ['soak', `retire-root/${c}`]);
    else for (const peer of names) deps.push([`restart-workloads/${peer}`, `retire-root/${c}`]);
    // the root secret is promoted last
    deps.push([`retire-root/${c}`, 'retire-root']);
  }
  return deps;
}

function breaksDesign(p: RotationPlan, order: readonly PlanStep[]): boolean {
  const at = new Map(order.map((s, i) => [s.id, i]));
  return designDependencies(p).some(
    ([before, after]) => (at.get(before) as number) > (at.get(after) as number),
  );
}

function isUnsafe(p: RotationPlan, fleet: FleetState): boolean {
  return nonCompliant(checkPlanInvariants(p, fleet)).length > 0;
}

/** A reordering: either a full shuffle or one step moved elsewhere (which is often still safe). */
function reorderingArb(steps: readonly PlanStep[]): fc.Arbitrary<PlanStep[]> {
  const n = steps.length;
  const moveOne = fc.record({ from: fc.nat(n - 1), to: fc.nat(n - 1) }).map(({ from, to }) => {
    const rest = steps.filter((_, i) => i !== from);
    return [...rest.slice(0, to), steps[from] as PlanStep, ...rest.slice(to)];
  });
  const shuffle = fc.shuffledSubarray([...steps], { minLength: n, maxLength: n });
  return fc.oneof({ arbitrary: moveOne, weight: 3 }, { arbitrary: shuffle, weight: 1 });
}

describe('rotation plan properties', () => {
  it('every plan for a random fleet and mode passes every invariant', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        // Prepare
        const p = plan(scenario);
        // Act
        const findings = checkPlanInvariants(p, scenario.fleet);
        // Assess
        expect(nonCompliant(findings)).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('every plan stays safe whatever order each phase runs its clusters in', () => {
    fc.assert(
      fc.property(
        scenarioArb.chain((scenario) => {
          const p = plan(scenario);
          // a phase's cluster steps may run in any order; its fleet step runs after them
          const perPhase = p.phases.map((ph) => {
            const perCluster = ph.steps.filter((s) => s.scope === 'cluster');
            const fleetWide = ph.steps.filter((s) => s.scope === 'fleet');
            const n = perCluster.length;
            return fc
              .shuffledSubarray(perCluster, { minLength: n, maxLength: n })
              .map((shuffled): PlanStep[] => [...shuffled, ...fleetWide]);
          });
          return fc.record({
            scenario: fc.constant(scenario),
            p: fc.constant(p),
            order: fc.tuple(...perPhase),
          });
        }),
        ({ scenario, p, order }) => {
          // Prepare
          const interleaved = withSteps(p, order.flat());
          // Act
          const findings = checkPlanInvariants(interleaved, scenario.fleet);
          // Assess
          expect(nonCompliant(findings)).toEqual([]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('calls a reordered plan unsafe exactly when it breaks a dependency of the design', () => {
    let unsafeSeen = 0;
    let safeSeen = 0;
    fc.assert(
      fc.property(
        scenarioArb.chain((scenario) => {
          const p = plan(scenario);
          return fc.record({
            scenario: fc.constant(scenario),
            p: fc.constant(p),
            order: reorderingArb(stepsOf(p)),
          });
        }),
        ({ scenario, p, order }) => {
          // Prepare
          const reordered = withSteps(p, order);
          // Act
          const unsafe = isUnsafe(reordered, scenario.fleet);
          // Assess
          expect(unsafe).toBe(breaksDesign(p, order));
          if (unsafe) unsafeSeen++;
          else safeSeen++;
        },
      ),
      { numRuns: NUM_RUNS * 2 },
    );
    // both sides of "exactly when" were exercised
    expect(unsafeSeen).toBeGreaterThan(0);
    expect(safeSeen).toBeGreaterThan(0);
  });

  it('catches every reissue moved before the last verify-trust and every retire moved before the last restart or soak', () => {
    const rootRotation = scenarioArb.filter((s) => s.mode !== 'intermediate' && s.fleet.clusters.length > 0);
    fc.assert(
      fc.property(
        rootRotation.chain((scenario) => {
          const p = plan(scenario);
          const steps = stepsOf(p);
          const lastIndex = (pred: (s: PlanStep) => boolean) => steps.findLastIndex(pred);
          const lastVerify = lastIndex((s) => s.phase === 'verify-trust');
          const lastGate = lastIndex((s) => s.phase === 'restart-workloads' || s.phase === 'soak');
          const reissues = steps.filter((s) => s.phase === 'reissue-intermediate');
          const retires = steps.filter((s) => s.phase === 'retire-root' && s.scope === 'cluster');
          const move = fc.oneof(
            fc.record({ step: fc.constantFrom(...reissues), to: fc.nat(lastVerify) }),
            fc.record({ step: fc.constantFrom(...retires), to: fc.nat(lastGate) }),
          );
          return fc.record({ scenario: fc.constant(scenario), p: fc.constant(p), move });
        }),
        ({ scenario, p, move }) => {
          // Prepare: put the step at index `to`, which is at or before the gate it must follow
          const rest = stepsOf(p).filter((s) => s.id !== move.step.id);
          const reordered = withSteps(p, [...rest.slice(0, move.to), move.step, ...rest.slice(move.to)]);
          // Act
          const findings = nonCompliant(checkPlanInvariants(reordered, scenario.fleet));
          // Assess
          expect(findings).not.toEqual([]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
