// preflight's execution history estimate (lambdas/core/plan/history-estimate.ts) models the state
// machine: every Map it counts per cluster, what runs inside each Map, and how often each per-cluster
// Task may look again (VerificationFailed retries). Held here to the synthesized definition, so a Map,
// a loop or a retry added to the state machine fails this test until the estimate counts it.
import { estimateHistoryEvents, VERIFICATION_RETRIES } from '../../lambdas/core/plan/history-estimate.js';
import {
  clusterDoneName,
  clusterTaskName,
  clusterWavesLeftName,
  noWaitName,
  RESTART_LOOP_MAP_STATES,
  type RestartLoopMapState,
  WORKFLOW_STATES,
  waitAsksName,
} from '../../lib/workflow-states.js';
import { type Asl, type AslState, aslOf, synthMeshTrustStack } from './synth-mesh-trust-stack.js';

describe('the execution history estimate against the synthesized state machine', () => {
  let asl: Asl;
  let maps: [string, AslState][];

  beforeAll(() => {
    // Approval gates on: the estimate counts them whether the stack has them or not.
    asl = aslOf(synthMeshTrustStack({ approval: true }));
    maps = Object.entries(asl.States).filter(([, state]) => state.Type === 'Map');
  });

  it('counts every Map of the definition in the worst case of a root rotation', () => {
    // WHEN
    const counted = estimateHistoryEvents({
      mode: 'scheduled',
      clusters: [{ name: 'a', workloads: 1 }],
      restartWaveSize: 5,
      rolloutTimeoutSeconds: 600,
      restartInvocationSeconds: 870,
    }).states.map(({ state }) => state);

    // THEN
    expect(maps.length).toBeGreaterThan(0);
    for (const [name] of maps) expect({ [name]: counted.includes(name) }).toEqual({ [name]: true });
    for (const gate of ['approve-reissue', 'approve-retire']) {
      expect(asl.States[gate]?.Type).toBe('Task');
      expect(counted).toContain(gate);
    }
  });

  it('counts every top-level state of the definition, or knows why the worst case does not pass it', () => {
    // GIVEN: states off the worst path (the success end, other ends, a resumed rollback's own start).
    const offTheWorstPath: Record<string, string> = {
      'promote-root': 'the success path (in fewest): a failure at retire-root rolls back instead',
      'release-lock': 'the success path (in fewest)',
      'rotation-succeeded': 'the success path (in fewest)',
      'release-lock-after-stop': 'a stop before the first write or at promote-root: shorter than a rollback',
      'rotation-stopped': 'as release-lock-after-stop',
      'unsupported-mode': 'preflight refuses an unknown mode first',
      'unsupported-input':
        'an input only meshtrust retry-rollback or retry-promotion sets, refused before preflight',
      'resume-rollback': 'a resumed rollback: a run of its own, without preflight, shorter than a rotation',
      'resume-from': 'a resumed rollback: where it starts, after resume-rollback',
      'resume-promotion':
        'a resumed promotion: a run of its own, promote-root alone, shorter than a rotation',
      'release-lock-after-failed-rollback': 'instead of release-lock-after-rollback: the same events',
      'rotation-failed': 'instead of rotation-rolled-back: the same events',
    };
    const counted = new Set(
      (['scheduled', 'emergency', 'intermediate'] as const).flatMap((mode) =>
        estimateHistoryEvents({
          mode,
          clusters: [{ name: 'a', workloads: 1 }],
          restartWaveSize: 5,
          rolloutTimeoutSeconds: 600,
          restartInvocationSeconds: 870,
        }).states.map(({ state }) => state),
      ),
    );

    // WHEN
    const unknown = Object.keys(asl.States).filter(
      (name) => !counted.has(name) && !(name in offTheWorstPath),
    );

    // THEN
    expect(unknown).toEqual([]);
  });

  it('finds inside each Map only what the estimate counts: one Task, or a restart loop of Task, Choice and Pass', () => {
    for (const [name, map] of maps) {
      // WHEN
      const inside = Object.entries(map.ItemProcessor?.States ?? {}).map(([state, { Type }]) => [
        state,
        Type,
      ]);
      const loop = RESTART_LOOP_MAP_STATES.includes(name as RestartLoopMapState);
      const waits = name === WORKFLOW_STATES.rollbackAwaitProxyTrust;

      // THEN
      expect({ [name]: inside.sort() }).toEqual({
        [name]: loop
          ? [
              [clusterTaskName(name as RestartLoopMapState), 'Task'],
              [clusterDoneName(name as RestartLoopMapState), 'Pass'],
              [clusterWavesLeftName(name as RestartLoopMapState), 'Choice'],
            ].sort()
          : waits
            ? // A Choice, then a Wait or a Succeed (each 2 events): the estimate counts Choice + Wait.
              [
                [clusterTaskName(WORKFLOW_STATES.rollbackAwaitProxyTrust), 'Wait'],
                [noWaitName(WORKFLOW_STATES.rollbackAwaitProxyTrust), 'Succeed'],
                [waitAsksName(WORKFLOW_STATES.rollbackAwaitProxyTrust), 'Choice'],
              ].sort()
            : [[clusterTaskName(name as RestartLoopMapState), 'Task']],
      });
    }
  });

  it('allows each per-cluster Task the VerificationFailed retries the estimate counts, and no other Map any', () => {
    for (const [name, map] of maps) {
      // WHEN
      const task = map.ItemProcessor?.States[clusterTaskName(name as RestartLoopMapState)];
      const retry = task?.Retry?.find((retrier) => retrier.ErrorEquals.includes('VerificationFailed'));

      // THEN
      expect({ [name]: retry?.MaxAttempts }).toEqual({
        [name]: (VERIFICATION_RETRIES as Record<string, number>)[name],
      });
    }
  });
});

describe('the execution history estimate against the Distributed Map definition', () => {
  it('counts in the parent as Distributed exactly the Maps the definition runs as Distributed, and tells preflight so', () => {
    // GIVEN
    const synthesized = synthMeshTrustStack({ approval: true, distributedMaps: true });
    const asl = aslOf(synthesized);
    const distributed = Object.entries(asl.States)
      .filter(
        ([, state]) =>
          (state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig
            ?.Mode === 'DISTRIBUTED',
      )
      .map(([name]) => name);
    const environments = Object.values(synthesized.template.findResources('AWS::Lambda::Function')).map(
      (fn) =>
        (fn as { Properties: { Environment?: { Variables?: Record<string, string> } } }).Properties
          .Environment?.Variables ?? {},
    );

    // WHEN: two clusters, so an inline Map would count more than a Distributed Map's 6
    const estimate = estimateHistoryEvents({
      mode: 'scheduled',
      clusters: [
        { name: 'a', workloads: 1 },
        { name: 'b', workloads: 1 },
      ],
      restartWaveSize: 5,
      rolloutTimeoutSeconds: 600,
      restartInvocationSeconds: 870,
      distributedMaps: true,
    });
    // (an approval gate also counts 6: a Task)
    const countedAsDistributed = estimate.states
      .filter(({ state, events }) => events === 6 && asl.States[state]?.Type === 'Map')
      .map(({ state }) => state);

    // THEN
    expect(distributed.length).toBeGreaterThan(0);
    expect(countedAsDistributed.sort()).toEqual(distributed.sort());
    // every rotation function (the others, such as the approval endpoint's, read none of the config)
    const rotationFunctions = environments.filter((variables) => 'RESTART_WAVE_SIZE' in variables);
    expect(rotationFunctions.length).toBeGreaterThan(0);
    for (const variables of rotationFunctions) expect(variables.DISTRIBUTED_MAPS).toBe('true');
  });
});
