import { PHASES, ROLLBACK_PHASES, ROTATION_MODES } from '../../../../lambdas/core/plan/phases.js';
import {
  InvalidFleetStateError,
  InvalidPlanRequestError,
  UnknownClusterError,
} from '../../../../lambdas/core/plan/plan-errors.js';
import { NEW_ROOT_PLACEHOLDER, planRotation } from '../../../../lambdas/core/plan/plan-rotation.js';
import type { ClusterStep } from '../../../../lambdas/core/plan/rotation-plan.js';
import { cluster, fleetOf, ROOT_A, ROOT_B, stepsOf } from './plan-fixtures.js';

const FLEETS = [
  ['1 cluster', ['solo']],
  ['2 clusters', ['east', 'west']],
  ['3 clusters', ['east', 'west', 'north']],
] as const;

function clusterSteps(steps: ReturnType<typeof stepsOf>): ClusterStep[] {
  return steps.filter((s): s is ClusterStep => s.scope === 'cluster');
}

describe('planRotation', () => {
  describe('scheduled mode', () => {
    it.each(FLEETS)('runs every phase in design order on %s', (_label, names) => {
      // Prepare
      const fleet = fleetOf(...names);
      // Act
      const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
      // Assess
      expect(plan.phases.map((p) => p.name)).toEqual([...PHASES]);
      expect(plan.restart).toBe('waves');
      for (const phase of plan.phases) {
        const perCluster = clusterSteps(phase.steps).map((s) => s.cluster);
        if (['stage-root', 'soak'].includes(phase.name)) expect(perCluster).toEqual([]);
        else expect(perCluster).toEqual([...names]);
      }
    });

    it('adds the new root to every bundle, switches under it, then leaves only the new root', () => {
      // Prepare
      const fleet = fleetOf('east', 'west');
      // Act
      const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
      // Assess
      const byId = new Map(clusterSteps(stepsOf(plan)).map((s) => [s.id, s]));
      expect(byId.get('preflight/east')).toMatchObject({
        rootsAfter: [ROOT_A],
        intermediateIssuerAfter: ROOT_A,
      });
      expect(byId.get('distribute-bundle/east')).toMatchObject({
        rootsAfter: [ROOT_A, ROOT_B],
        intermediateIssuerAfter: ROOT_A,
        writes: ['cacerts'],
      });
      expect(byId.get('verify-trust/west')).toMatchObject({
        writes: [],
        namespaces: ['istio-system', 'shop'],
        rootsAfter: [ROOT_A, ROOT_B],
      });
      expect(byId.get('reissue-intermediate/west')).toMatchObject({
        rootsAfter: [ROOT_A, ROOT_B],
        intermediateIssuerAfter: ROOT_B,
        intermediateAfter: 'new-intermediate/west',
      });
      expect(byId.get('retire-root/east')).toMatchObject({
        rootsAfter: [ROOT_B],
        intermediateIssuerAfter: ROOT_B,
      });
      expect(stepsOf(plan).at(-1)).toMatchObject({
        scope: 'fleet',
        phase: 'retire-root',
        writes: ['secrets-manager'],
      });
    });

    it('keeps a leftover root in the bundle while adding the new one, so istiod sees a superset', () => {
      // Prepare
      const fleet = { currentRoot: ROOT_A, clusters: [cluster('east', { trustedRoots: [ROOT_A, 'old-x'] })] };
      // Act
      const plan = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
      // Assess
      const distribute = stepsOf(plan).find((s) => s.id === 'distribute-bundle/east');
      expect(distribute).toMatchObject({ rootsAfter: [ROOT_A, ROOT_B, 'old-x'] });
    });

    it('plans with a placeholder for a new root that does not exist yet', () => {
      // Prepare
      const fleet = fleetOf('east');
      // Act
      const plan = planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(plan.targetRoot).toBe(NEW_ROOT_PLACEHOLDER);
      expect(stepsOf(plan).find((s) => s.id === 'retire-root/east')).toMatchObject({
        rootsAfter: [NEW_ROOT_PLACEHOLDER],
      });
    });
  });

  describe('emergency mode', () => {
    it.each(FLEETS)('skips the soak and restarts all at once on %s', (_label, names) => {
      // Prepare
      const fleet = fleetOf(...names);
      // Act
      const plan = planRotation({ fleet, mode: 'emergency', newRoot: ROOT_B });
      // Assess
      expect(plan.phases.map((p) => p.name)).toEqual(PHASES.filter((p) => p !== 'soak'));
      expect(plan.restart).toBe('all-at-once');
      expect(plan.targetRoot).toBe(ROOT_B);
      const restarts = plan.phases.find((p) => p.name === 'restart-workloads');
      expect(restarts?.steps).toHaveLength(names.length);
    });
  });

  describe('intermediate mode', () => {
    it.each(FLEETS)(
      "rekeys only the named cluster's intermediate under the current root on %s",
      (_label, names) => {
        // Prepare
        const fleet = fleetOf(...names);
        const target = names[names.length - 1] as string;
        // Act
        const plan = planRotation({ fleet, mode: 'intermediate', cluster: target });
        // Assess
        expect(plan.phases.map((p) => p.name)).toEqual([
          'preflight',
          'reissue-intermediate',
          'restart-workloads',
        ]);
        expect(plan.targetRoot).toBe(ROOT_A);
        expect(plan.cluster).toBe(target);
        const writing = clusterSteps(stepsOf(plan)).filter((s) => s.writes.length > 0);
        expect(writing.map((s) => s.id)).toEqual([
          `reissue-intermediate/${target}`,
          `restart-workloads/${target}`,
        ]);
        expect(writing[0]).toMatchObject({
          rootsAfter: [ROOT_A],
          intermediateIssuerAfter: ROOT_A,
          intermediateAfter: `new-intermediate/${target}`,
        });
      },
    );
  });

  describe('rollback', () => {
    it.each(ROTATION_MODES)(
      'walks a failed %s rotation back through every rollback stage, in order',
      (mode) => {
        // Prepare
        const fleet = fleetOf('east', 'west');
        // Act
        const plan = planRotation({ fleet, mode, ...(mode === 'intermediate' && { cluster: 'west' }) });
        // Assess
        expect(plan.rollback.map((stage) => stage.name)).toEqual([...ROLLBACK_PHASES]);
        expect(plan.rollback.map((stage) => stage.name)).toEqual([
          'rollback-trust',
          'rollback-intermediate',
          'rollback-restart',
          'rollback-restore',
          'rollback-drop-pending',
        ]);
      },
    );

    it('says which stages find nothing to undo in intermediate mode: no root-cert change, no staged root', () => {
      // Prepare
      const fleet = fleetOf('east', 'west');
      // Act
      const rekey = planRotation({ fleet, mode: 'intermediate', cluster: 'west' });
      const scheduled = planRotation({ fleet, mode: 'scheduled' });
      // Assess
      const action = (plan: typeof rekey, name: string) =>
        plan.rollback.find((stage) => stage.name === name)?.action;
      expect(action(rekey, 'rollback-trust')).toMatch(/^nothing to restore/);
      expect(action(rekey, 'rollback-drop-pending')).toMatch(/^nothing to drop/);
      expect(action(scheduled, 'rollback-trust')).not.toMatch(/^nothing/);
      expect(action(scheduled, 'rollback-drop-pending')).toMatch(/AWSPENDING/);
    });
  });

  it('keeps the cluster order given and gives the same plan for the same input', () => {
    // Prepare
    const fleet = fleetOf('zulu', 'alpha', 'mike');
    // Act
    const first = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
    const second = planRotation({ fleet, mode: 'scheduled', newRoot: ROOT_B });
    // Assess
    expect(first.clusters).toEqual(['zulu', 'alpha', 'mike']);
    expect(clusterSteps(first.phases[2]?.steps ?? []).map((s) => s.cluster)).toEqual([
      'zulu',
      'alpha',
      'mike',
    ]);
    expect(second).toEqual(first);
  });

  it('produces plain JSON data that survives a Step Functions payload round trip', () => {
    // Prepare
    const fleet = fleetOf('east', 'west');
    const plan = planRotation({ fleet, mode: 'emergency', newRoot: ROOT_B });
    // Act
    const travelled = JSON.parse(JSON.stringify(plan));
    // Assess
    expect(travelled).toStrictEqual(plan);
  });

  describe('input validation', () => {
    it('rejects an empty fleet', () => {
      // Prepare
      const fleet = { currentRoot: ROOT_A, clusters: [] };
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(InvalidFleetStateError);
      expect(act).toThrow(/no clusters; check the cluster discovery/);
    });

    it('rejects a fleet without a current root', () => {
      // Prepare
      const fleet = { currentRoot: '', clusters: [cluster('east')] };
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(/no current root/);
    });

    it('rejects duplicate cluster names and names the cluster', () => {
      // Prepare
      const fleet = fleetOf('east', 'west', 'east');
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(expect.objectContaining({ name: 'InvalidFleetStateError', cluster: 'east' }));
      expect(act).toThrow(/appears twice/);
    });

    it('rejects a cluster whose root-cert lacks the current root', () => {
      // Prepare
      const fleet = {
        currentRoot: ROOT_A,
        clusters: [cluster('east'), cluster('west', { trustedRoots: ['other'] })],
      };
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(expect.objectContaining({ cluster: 'west' }));
      expect(act).toThrow(/does not hold the current root aa:aa:aa/);
    });

    it('rejects a fleet where a peer does not trust the root another cluster issues under', () => {
      // Prepare
      const fleet = {
        currentRoot: ROOT_A,
        clusters: [
          cluster('east', { trustedRoots: [ROOT_A, 'x'], intermediateIssuerRoot: 'x' }),
          cluster('west'),
        ],
      };
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(/'west' does not trust root x .* 'east'/);
    });

    it('rejects a cluster without an intermediate fingerprint', () => {
      // Prepare
      const fleet = { currentRoot: ROOT_A, clusters: [cluster('east', { intermediate: '' })] };
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled' });
      // Assess
      expect(act).toThrow(InvalidFleetStateError);
      expect(act).toThrow(expect.objectContaining({ cluster: 'east' }));
    });

    it('rejects an unknown cluster in intermediate mode and names it', () => {
      // Prepare
      const fleet = fleetOf('east', 'west');
      // Act
      const act = () => planRotation({ fleet, mode: 'intermediate', cluster: 'south' });
      // Assess
      expect(act).toThrow(UnknownClusterError);
      expect(act).toThrow(expect.objectContaining({ cluster: 'south' }));
      expect(act).toThrow(/'south' is not in the fleet \(east, west\)/);
    });

    it('requires the cluster in intermediate mode', () => {
      // Prepare
      const fleet = fleetOf('east');
      // Act
      const act = () => planRotation({ fleet, mode: 'intermediate' });
      // Assess
      expect(act).toThrow(InvalidPlanRequestError);
      expect(act).toThrow(/name it \(cluster\) from the fleet: east/);
    });

    it('refuses a new root in intermediate mode', () => {
      // Prepare
      const fleet = fleetOf('east');
      // Act
      const act = () => planRotation({ fleet, mode: 'intermediate', cluster: 'east', newRoot: ROOT_B });
      // Assess
      expect(act).toThrow(InvalidPlanRequestError);
      expect(act).toThrow(/keeps the current root; drop newRoot/);
    });

    it('refuses a target cluster in scheduled mode', () => {
      // Prepare
      const fleet = fleetOf('east');
      // Act
      const act = () => planRotation({ fleet, mode: 'scheduled', cluster: 'east' });
      // Assess
      expect(act).toThrow(/drop cluster 'east'/);
    });

    it('refuses a new root equal to the current root', () => {
      // Prepare
      const fleet = fleetOf('east');
      // Act
      const act = () => planRotation({ fleet, mode: 'emergency', newRoot: ROOT_A });
      // Assess
      expect(act).toThrow(/is the current root/);
    });

    it('refuses an unknown mode', () => {
      // Prepare
      const mode = 'yolo' as unknown as 'scheduled';
      // Act
      const act = () => planRotation({ fleet: fleetOf('east'), mode });
      // Assess
      expect(act).toThrow(/unknown rotation mode 'yolo'; use one of scheduled, emergency, intermediate/);
    });
  });
});
