import { checkPlanInvariants } from '../../../../lambdas/core/plan/check-plan-invariants.js';
import type { FleetState } from '../../../../lambdas/core/plan/fleet-state.js';
import {
  InvalidFleetStateError,
  InvalidPlanRequestError,
} from '../../../../lambdas/core/plan/plan-errors.js';
import { planRotation } from '../../../../lambdas/core/plan/plan-rotation.js';
import type { ClusterStep, RotationPlan } from '../../../../lambdas/core/plan/rotation-plan.js';
import { cluster, moveBefore, nonCompliant, ROOT_A, ROOT_B, stepsOf, withSteps } from './plan-fixtures.js';

/** east is a primary serving remote edge; west is a primary of its own. */
function primaryRemoteFleet(): FleetState {
  return {
    currentRoot: ROOT_A,
    clusters: [
      cluster('edge', { primary: 'east', intermediate: 'int-east' }),
      cluster('east'),
      cluster('west'),
    ],
  };
}

function stepOf(plan: RotationPlan, id: string): ClusterStep {
  const step = stepsOf(plan).find((s) => s.id === id);
  if (step === undefined || step.scope !== 'cluster') throw new Error(`no cluster step ${id}`);
  return step;
}

describe('a rotation plan with a remote cluster', () => {
  it.each(['scheduled', 'emergency'] as const)(
    'never writes the remote in %s mode and stays safe',
    (mode) => {
      // Prepare
      const fleet = primaryRemoteFleet();
      // Act
      const plan = planRotation({ fleet, mode, newRoot: ROOT_B });
      const findings = checkPlanInvariants(plan, fleet);
      // Assess
      expect(nonCompliant(findings)).toEqual([]);
      expect(plan.remotes).toEqual([{ name: 'edge', primary: 'east' }]);
      const edgeWrites = stepsOf(plan)
        .filter((s): s is ClusterStep => s.scope === 'cluster' && s.cluster === 'edge')
        .flatMap((s) => s.writes);
      expect(edgeWrites).toEqual(['workloads']);
    },
  );

  it("states the remote's steps after its primary's, following its bundle and intermediate", () => {
    // Act
    const plan = planRotation({ fleet: primaryRemoteFleet(), mode: 'scheduled', newRoot: ROOT_B });
    // Assess
    const distribute = plan.phases.find((p) => p.name === 'distribute-bundle');
    expect(distribute?.steps.map((s) => s.id)).toEqual([
      'distribute-bundle/east',
      'distribute-bundle/west',
      'distribute-bundle/edge',
    ]);
    expect(stepOf(plan, 'preflight/edge').action).toMatch(
      /holds no cacerts \(a remote, served by east's istiod\)/,
    );
    expect(stepOf(plan, 'distribute-bundle/edge')).toMatchObject({
      writes: [],
      rootsAfter: [ROOT_A, ROOT_B],
    });
    expect(stepOf(plan, 'distribute-bundle/edge').action).toMatch(
      /nothing written \(remote\): east's istiod/,
    );
    expect(stepOf(plan, 'verify-trust/edge').action).toMatch(/published by east's istiod/);
    expect(stepOf(plan, 'reissue-intermediate/edge')).toMatchObject({
      writes: [],
      intermediateAfter: 'new-intermediate/east',
      intermediateIssuerAfter: ROOT_B,
    });
    expect(stepOf(plan, 'restart-workloads/edge').action).toMatch(
      /once east's istiod signs with new-intermediate\/east/,
    );
    expect(stepOf(plan, 'retire-root/edge')).toMatchObject({ writes: [], rootsAfter: [ROOT_B] });
  });

  it('refuses a plan that writes cacerts of the remote', () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
    const tampered = withSteps(
      plan,
      stepsOf(plan).map((s) =>
        s.id === 'distribute-bundle/edge' ? { ...s, writes: ['cacerts' as const] } : s,
      ),
    );
    // Act
    const broken = nonCompliant(checkPlanInvariants(tampered, fleet));
    // Assess
    expect(broken.map((f) => [f.rule, f.cluster])).toEqual([['remote-never-written', 'edge']]);
  });

  it("refuses a plan that restarts the remote before its primary's reissue", () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'emergency', newRoot: ROOT_B });
    // Act
    const reordered = moveBefore(plan, 'restart-workloads/edge', 'reissue-intermediate/east');
    const broken = nonCompliant(checkPlanInvariants(reordered, fleet));
    // Assess
    expect(broken.map((f) => f.rule)).toContain('remote-moved-after-primary-reissue');
    expect(broken.find((f) => f.rule === 'remote-moved-after-primary-reissue')?.cluster).toBe('edge');
  });

  it('plans a remote and its primary resign: the primary pushes, the remote waits for its proxies, safe', () => {
    // Act
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B, resign: ['east', 'edge'] });
    // Assess
    expect(nonCompliant(checkPlanInvariants(plan, fleet))).toEqual([]);
    expect(stepOf(plan, 'reissue-intermediate/east')).toMatchObject({
      strategy: 'resign',
      writes: ['secrets-manager', 'cacerts'],
    });
    expect(stepOf(plan, 'reissue-intermediate/east').action).toMatch(
      /root-cert with .* appended once more, so that istiod pushes it and its proxies re-sign/,
    );
    expect(stepOf(plan, 'restart-workloads/edge')).toMatchObject({
      strategy: 'resign',
      writes: ['workloads'],
    });
    expect(stepOf(plan, 'restart-workloads/edge').action).toBe(
      "wait once east's istiod signs with new-intermediate/east until every proxy serves a certificate from " +
        'new-intermediate/east; rollout restart in waves only the workloads whose proxies did not re-sign; wait until ready',
    );
    expect(stepOf(plan, 'restart-workloads/west')).not.toHaveProperty('strategy');
    expect(stepOf(plan, 'reissue-intermediate/west').action).toMatch(/\(root-cert unchanged\)/);
  });

  it("refuses a remote moved by resign before its primary's reissue", () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'emergency', newRoot: ROOT_B, resign: ['east', 'edge'] });
    // Act
    const reordered = moveBefore(plan, 'restart-workloads/edge', 'reissue-intermediate/east');
    const broken = nonCompliant(checkPlanInvariants(reordered, fleet));
    // Assess
    expect(broken.find((f) => f.rule === 'remote-moved-after-primary-reissue')?.reason).toMatch(
      /waits for the proxies of remote 'edge' before 'east' reissued its intermediate/,
    );
  });

  it('refuses a remote planned resign whose primary reissues with root-cert unchanged', () => {
    // Prepare: only the remote planned resign, so nothing pushes new roots to its proxies
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B, resign: ['edge'] });
    // Act
    const broken = nonCompliant(checkPlanInvariants(plan, fleet));
    // Assess
    expect(broken.map((f) => [f.rule, f.cluster])).toEqual([['remote-moved-after-primary-reissue', 'edge']]);
    expect(broken[0]?.reason).toMatch(
      /'east' reissued with root-cert unchanged, so its istiod pushes them no new roots and none re-signs; plan 'east' and 'edge' the same strategy/,
    );
  });

  it("finds a remote's namespaces unverified when verify-trust skips it", () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
    const skipped = withSteps(
      plan,
      stepsOf(plan).filter((s) => s.id !== 'verify-trust/edge'),
    );
    // Act
    const broken = nonCompliant(checkPlanInvariants(skipped, fleet));
    // Assess
    expect(broken.some((f) => f.rule === 'trust-verified-before-switch' && f.reason.includes('edge'))).toBe(
      true,
    );
  });

  it("restarts a rekeyed primary's remotes with it in intermediate mode", () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    // Act
    const plan = planRotation({ fleet, mode: 'intermediate', cluster: 'east' });
    // Assess
    expect(nonCompliant(checkPlanInvariants(plan, fleet))).toEqual([]);
    const restart = plan.phases.find((p) => p.name === 'restart-workloads');
    expect(restart?.steps.map((s) => s.id)).toEqual(['restart-workloads/east', 'restart-workloads/edge']);
  });

  it("finds the remote's workloads left on the old intermediate when intermediate mode forgets them", () => {
    // Prepare
    const fleet = primaryRemoteFleet();
    const plan = planRotation({ fleet, mode: 'intermediate', cluster: 'east' });
    const forgetful = withSteps(
      plan,
      stepsOf(plan).filter((s) => s.id !== 'restart-workloads/edge'),
    );
    // Act
    const broken = nonCompliant(checkPlanInvariants(forgetful, fleet));
    // Assess
    expect(broken.map((f) => [f.rule, f.cluster])).toEqual([['rotation-completes', 'edge']]);
  });

  it('refuses to rekey a remote, naming its primary', () => {
    // Act
    const plan = () => planRotation({ fleet: primaryRemoteFleet(), mode: 'intermediate', cluster: 'edge' });
    // Assess
    expect(plan).toThrow(InvalidPlanRequestError);
    expect(plan).toThrow(/'edge' is a remote of 'east'.*rekey 'east'/);
  });

  it('refuses a fleet whose remote names a primary outside it, or a remote', () => {
    // Prepare
    const outside: FleetState = {
      currentRoot: ROOT_A,
      clusters: [cluster('edge', { primary: 'gone' }), cluster('east')],
    };
    const chained: FleetState = {
      currentRoot: ROOT_A,
      clusters: [
        cluster('edge', { primary: 'edge2' }),
        cluster('edge2', { primary: 'east' }),
        cluster('east'),
      ],
    };
    // Act, Assess
    expect(() => planRotation({ fleet: outside, mode: 'scheduled' })).toThrow(InvalidFleetStateError);
    expect(() => planRotation({ fleet: outside, mode: 'scheduled' })).toThrow(
      /'gone', which is not in the fleet/,
    );
    expect(() => planRotation({ fleet: chained, mode: 'scheduled' })).toThrow(
      /'edge2', which is a remote itself/,
    );
  });
});
