import { checkPlanInvariants, PLAN_RULES } from '../../../../lambdas/core/plan/check-plan-invariants.js';
import type { RotationMode } from '../../../../lambdas/core/plan/phases.js';
import { planRotation } from '../../../../lambdas/core/plan/plan-rotation.js';
import type { ClusterStep, RotationPlan } from '../../../../lambdas/core/plan/rotation-plan.js';
import {
  cluster,
  fleetOf,
  moveAfter,
  moveBefore,
  nonCompliant,
  ROOT_A,
  ROOT_B,
  stepsOf,
  withSteps,
} from './plan-fixtures.js';

function planFor(mode: RotationMode, ...names: string[]): RotationPlan {
  const fleet = fleetOf(...names);
  return mode === 'intermediate'
    ? planRotation({ fleet, mode, cluster: names[0] })
    : planRotation({ fleet, mode, newRoot: ROOT_B });
}

describe('checkPlanInvariants', () => {
  describe('plans made by planRotation', () => {
    const cases = (['scheduled', 'emergency', 'intermediate'] as const).flatMap((mode) =>
      [['solo'], ['east', 'west'], ['east', 'west', 'north']].map(
        (names) => [mode, names.length, names] as const,
      ),
    );

    it.each(cases)('pass every invariant in %s mode on %i cluster(s)', (mode, _n, names) => {
      // Prepare
      const plan = planFor(mode, ...names);
      // Act
      const findings = checkPlanInvariants(plan, fleetOf(...names));
      // Assess
      expect(nonCompliant(findings)).toEqual([]);
      expect(findings.map((f) => f.rule).sort()).toEqual(Object.keys(PLAN_RULES).sort());
    });

    it('marks the root-only rules not applicable in intermediate mode', () => {
      // Prepare
      const plan = planFor('intermediate', 'east');
      // Act
      const findings = checkPlanInvariants(plan, fleetOf('east'));
      // Assess
      const notApplicable = findings.filter((f) => f.status === 'not-applicable').map((f) => f.rule);
      expect(notApplicable.sort()).toEqual(['new-root-staged-before-use', 'root-secret-promoted-last']);
    });
  });

  describe('trust-continuity', () => {
    it('names the failing pair when a cluster switches before every cluster trusts the new root', () => {
      // Prepare
      const names = ['east', 'west', 'north'];
      const plan = moveBefore(
        planFor('scheduled', ...names),
        'reissue-intermediate/east',
        'verify-trust/north',
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      const breaks = findings.filter((f) => f.rule === 'trust-continuity');
      expect(breaks).toEqual([
        expect.objectContaining({
          step: 'reissue-intermediate/east',
          presenting: 'east',
          verifying: 'north',
          cluster: 'north',
          root: ROOT_B,
        }),
      ]);
      expect(breaks[0]?.reason).toMatch(/east -> north/);
      expect(breaks[0]?.reason).toMatch(/pass verify-trust in every cluster before any cluster switches/);
      expect(findings).toContainEqual(
        expect.objectContaining({ rule: 'trust-verified-before-switch', step: 'reissue-intermediate/east' }),
      );
    });

    it('flags a switch in a cluster whose peer has not even received the new root', () => {
      // Prepare
      const names = ['east', 'west'];
      const plan = moveBefore(
        planFor('emergency', ...names),
        'reissue-intermediate/east',
        'distribute-bundle/west',
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      const pairs = findings
        .filter((f) => f.rule === 'trust-continuity')
        .map((f) => `${f.presenting}->${f.verifying}`);
      expect(pairs).toEqual(expect.arrayContaining(['east->west', 'east->east']));
      expect(findings.find((f) => f.verifying === 'west')?.reason).toMatch(/does not trust bb:bb:bb yet/);
    });

    it('flags a plan that never verifies trust before switching', () => {
      // Prepare
      const names = ['east', 'west'];
      const planned = planFor('scheduled', ...names);
      const plan = withSteps(
        planned,
        stepsOf(planned).filter((s) => s.phase !== 'verify-trust'),
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      expect(findings.filter((f) => f.rule === 'trust-verified-before-switch').map((f) => f.step)).toEqual([
        'reissue-intermediate/east',
        'reissue-intermediate/west',
      ]);
    });

    it('names the failing pair when the old root is removed before every cluster switched', () => {
      // Prepare
      const names = ['east', 'west', 'north'];
      const plan = moveAfter(planFor('scheduled', ...names), 'retire-root/west', 'reissue-intermediate/west');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      const breaks = findings.filter((f) => f.rule === 'trust-continuity' && f.step === 'retire-root/west');
      expect(breaks.map((f) => `${f.presenting}->${f.verifying}:${f.root}`)).toEqual([
        `east->west:${ROOT_A}`,
        `west->west:${ROOT_A}`,
        `north->west:${ROOT_A}`,
      ]);
      expect(breaks[0]?.reason).toMatch(/no longer trusts aa:aa:aa/);
    });

    it('flags a retire before the soak in scheduled mode', () => {
      // Prepare
      const names = ['east', 'west'];
      const plan = moveBefore(planFor('scheduled', ...names), 'soak', 'retire-root');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      expect(findings).toContainEqual(
        expect.objectContaining({ rule: 'trust-continuity', step: 'retire-root/east', root: ROOT_A }),
      );
      expect(findings.find((f) => f.rule === 'trust-continuity')?.reason).toMatch(
        /one workload-cert TTL \(soak\)/,
      );
    });

    it('flags a soak that ends before a cluster restarted its workloads', () => {
      // Prepare
      const names = ['east', 'west'];
      const plan = moveBefore(planFor('scheduled', ...names), 'soak', 'restart-workloads/west');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      expect(findings.filter((f) => f.rule === 'trust-continuity').map((f) => f.presenting)).toEqual([
        'west',
        'west',
      ]);
    });

    it('flags a retire before the forced restarts in emergency mode', () => {
      // Prepare
      const names = ['east', 'west'];
      const plan = moveBefore(planFor('emergency', ...names), 'retire-root/east', 'restart-workloads/west');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf(...names)));
      // Assess
      expect(findings).toContainEqual(
        expect.objectContaining({
          rule: 'trust-continuity',
          step: 'retire-root/east',
          presenting: 'west',
          verifying: 'east',
          root: ROOT_A,
        }),
      );
    });

    it('flags a restart that ran before the intermediate switch', () => {
      // Prepare
      const plan = moveBefore(
        planFor('emergency', 'solo'),
        'restart-workloads/solo',
        'reissue-intermediate/solo',
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('solo')));
      // Assess
      expect(findings).toContainEqual(
        expect.objectContaining({ rule: 'trust-continuity', step: 'retire-root/solo', presenting: 'solo' }),
      );
    });

    it('accepts distributing, verifying and retiring clusters in another order', () => {
      // Prepare
      const names = ['east', 'west', 'north'];
      let plan = planFor('scheduled', ...names);
      plan = moveBefore(plan, 'distribute-bundle/north', 'distribute-bundle/east');
      plan = moveAfter(plan, 'verify-trust/north', 'distribute-bundle/north');
      plan = moveBefore(plan, 'retire-root/west', 'retire-root/east');
      // Act
      const findings = checkPlanInvariants(plan, fleetOf(...names));
      // Assess
      expect(nonCompliant(findings)).toEqual([]);
    });
  });

  describe('root-set-transition', () => {
    it('flags a bundle write that is neither a superset nor a subset of what istiod holds', () => {
      // Prepare: east still holds a leftover root, and the write replaces it with the new root
      const fleet = { currentRoot: ROOT_A, clusters: [cluster('east', { trustedRoots: [ROOT_A, 'old-x'] })] };
      const planned = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
      const plan = withSteps(
        planned,
        stepsOf(planned).map((s) =>
          s.id === 'distribute-bundle/east' ? { ...s, rootsAfter: [ROOT_A, ROOT_B] } : s,
        ),
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleet));
      // Assess
      expect(findings[0]).toMatchObject({
        rule: 'root-set-transition',
        step: 'distribute-bundle/east',
        cluster: 'east',
      });
      expect(findings[0]?.reason).toMatch(/neither a superset nor a subset/);
    });

    it('accepts a bundle write that only adds roots', () => {
      // Prepare
      const fleet = { currentRoot: ROOT_A, clusters: [cluster('east', { trustedRoots: [ROOT_A, 'old-x'] })] };
      const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
      // Act
      const findings = checkPlanInvariants(plan, fleet);
      // Assess
      expect(findings.find((f) => f.rule === 'root-set-transition')?.status).toBe('compliant');
    });
  });

  describe('intermediate-chains-to-trusted-root', () => {
    it('flags retiring the old root in a cluster that still issues under it', () => {
      // Prepare
      const plan = moveBefore(planFor('emergency', 'solo'), 'retire-root/solo', 'reissue-intermediate/solo');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('solo')));
      // Assess
      expect(findings).toContainEqual(
        expect.objectContaining({
          rule: 'intermediate-chains-to-trusted-root',
          step: 'retire-root/solo',
          root: ROOT_A,
        }),
      );
    });
  });

  describe('verify-trust-covers-all-namespaces', () => {
    it('flags a verification that skips a namespace and does not count it as verified', () => {
      // Prepare
      const planned = planFor('scheduled', 'east');
      const plan = withSteps(
        planned,
        stepsOf(planned).map((s) =>
          s.id === 'verify-trust/east' ? ({ ...s, namespaces: ['istio-system'] } as ClusterStep) : s,
        ),
      );
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east')));
      // Assess
      expect(findings.map((f) => f.rule)).toEqual(
        expect.arrayContaining(['verify-trust-covers-all-namespaces', 'trust-verified-before-switch']),
      );
      expect(findings[0]?.reason).toMatch(/\[shop\]/);
    });
  });

  describe('ordering of the workflow steps', () => {
    it('flags a write before preflight read every cluster', () => {
      // Prepare
      const plan = moveAfter(planFor('scheduled', 'east', 'west'), 'preflight/west', 'stage-root');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east', 'west')));
      // Assess
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'preflight-before-writes', step: 'stage-root' }),
      ]);
    });

    it('flags giving a cluster the new root before stage-root stored it', () => {
      // Prepare
      const plan = moveAfter(planFor('scheduled', 'east'), 'stage-root', 'distribute-bundle/east');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east')));
      // Assess
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'new-root-staged-before-use', step: 'distribute-bundle/east' }),
      ]);
    });

    it('flags promoting the root secret before every cluster retired the old root', () => {
      // Prepare
      const plan = moveBefore(planFor('scheduled', 'east', 'west'), 'retire-root', 'retire-root/west');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east', 'west')));
      // Assess
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'root-secret-promoted-last', step: 'retire-root' }),
      ]);
      expect(findings[0]?.reason).toMatch(/\[west\]/);
    });
  });

  describe('rotation-completes', () => {
    it('flags a root rotation that does not end with every cluster trusting exactly the new root', () => {
      // Prepare
      const planned = planFor('scheduled', 'east', 'west');
      const plan = { ...planned, phases: planned.phases.filter((p) => p.name !== 'retire-root') };
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east', 'west')));
      // Assess
      expect(findings.map((f) => `${f.rule}:${f.cluster ?? 'fleet'}`)).toEqual([
        'rotation-completes:east',
        'rotation-completes:west',
        'rotation-completes:fleet',
      ]);
    });

    it('flags an intermediate rekey that never restarts the workloads', () => {
      // Prepare
      const planned = planFor('intermediate', 'east', 'west');
      const plan = { ...planned, phases: planned.phases.filter((p) => p.name !== 'restart-workloads') };
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east', 'west')));
      // Assess
      expect(findings).toEqual([expect.objectContaining({ rule: 'rotation-completes', cluster: 'east' })]);
      expect(findings[0]?.reason).toMatch(/old intermediate/);
    });
  });

  describe('plan-well-formed', () => {
    it('flags a per-cluster step in a phase that only waits', () => {
      // Prepare
      const planned = planFor('scheduled', 'east');
      const stray: ClusterStep = {
        scope: 'cluster',
        id: 'soak/east',
        phase: 'soak',
        cluster: 'east',
        action: 'wait',
        writes: [],
        rootsAfter: [ROOT_A],
        intermediateAfter: 'int-east',
        intermediateIssuerAfter: ROOT_A,
      };
      const plan = withSteps(planned, [...stepsOf(planned), stray]);
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east')));
      // Assess
      expect(findings).toEqual([expect.objectContaining({ rule: 'plan-well-formed', step: 'soak/east' })]);
    });

    it('flags a plan made for another fleet', () => {
      // Prepare
      const plan = planFor('scheduled', 'east', 'west');
      // Act
      const findings = nonCompliant(checkPlanInvariants(plan, fleetOf('east', 'south')));
      // Assess
      expect(findings).toContainEqual(
        expect.objectContaining({
          rule: 'plan-well-formed',
          step: 'distribute-bundle/west',
          cluster: 'west',
        }),
      );
      expect(findings[0]?.reason).toMatch(/recompute the plan/);
    });
  });
});
