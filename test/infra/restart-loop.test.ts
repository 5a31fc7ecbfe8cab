import { LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS } from '../../lambdas/contract/function-timeouts.js';
import {
  CLUSTER_MAP_STATES,
  clusterDoneName,
  clusterTaskName,
  clusterWavesLeftName,
  INTERRUPTED_INVOCATION_ERRORS,
  RESTART_LOOP_MAP_STATES,
} from '../../lib/workflow-states.js';
import {
  type Asl,
  type AslState,
  aslOf,
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

// Issue 12, item 6: restart-workloads restarts what fits in one invocation and answers done: false; the
// synthesized definition must send the cluster back into it until done, and retry (not roll back) an
// invocation Lambda stopped. test/infra/rotation-state-machine-local.test.ts runs the loop.

describe('the restart loop inside the restart Maps', () => {
  let synthesized: SynthesizedMeshTrustStack;
  let asl: Asl;

  beforeAll(() => {
    synthesized = synthMeshTrustStack({ approval: false });
    asl = aslOf(synthesized);
  });

  const processorOf = (map: string) => asl.States[map]?.ItemProcessor;

  it.each(RESTART_LOOP_MAP_STATES)(
    '%s: the per-cluster Task keeps the item, puts its answer in $.progress and goes to the Choice',
    (map) => {
      // WHEN
      const processor = processorOf(map);
      const task = processor?.States[clusterTaskName(map)] as AslState;

      // THEN
      expect(processor?.StartAt).toBe(clusterTaskName(map));
      expect(task).toMatchObject({ Type: 'Task', ResultPath: '$.progress', Next: clusterWavesLeftName(map) });
      expect(task.Parameters).toBeUndefined();
    },
  );

  it.each(RESTART_LOOP_MAP_STATES)(
    '%s: loops back into the Task only on an answer that says done: false, else ends naming the cluster',
    (map) => {
      // WHEN
      const processor = processorOf(map);
      const choice = processor?.States[clusterWavesLeftName(map)] as AslState;
      const done = processor?.States[clusterDoneName(map)] as AslState;

      // THEN
      expect(choice.Type).toBe('Choice');
      expect(choice.Choices).toEqual([
        {
          And: [
            { Variable: '$.progress.done', IsPresent: true },
            { Variable: '$.progress.done', BooleanEquals: false },
          ],
          Next: clusterTaskName(map),
        },
      ]);
      expect(choice.Default).toBe(clusterDoneName(map));
      // The iteration's result names the cluster: the state keeps no more of the answers
      // (contract/map-answers.ts); the last answer is in the history.
      expect(done).toMatchObject({
        Type: 'Pass',
        Parameters: { 'cluster.$': '$.progress.cluster' },
        End: true,
      });
    },
  );

  it('retries an invocation Lambda stopped on the restart Tasks, and on no other Task', () => {
    // GIVEN
    const perClusterTasks = CLUSTER_MAP_STATES.map(
      (map) => [map, processorOf(map)?.States[clusterTaskName(map)] as AslState] as const,
    );

    // WHEN
    const retried = perClusterTasks.filter(([, task]) =>
      task.Retry?.some((retry) => retry.ErrorEquals.includes('States.Timeout')),
    );
    const topLevelRetried = Object.entries(asl.States).filter(([, state]) =>
      state.Retry?.some((retry) =>
        INTERRUPTED_INVOCATION_ERRORS.some((error) => retry.ErrorEquals.includes(error)),
      ),
    );

    // THEN
    expect(retried.map(([map]) => map).sort()).toEqual([...RESTART_LOOP_MAP_STATES].sort());
    expect(topLevelRetried).toEqual([]);
    for (const [, task] of retried) {
      expect(task.Retry).toContainEqual(
        expect.objectContaining({
          ErrorEquals: ['States.Timeout', 'Sandbox.Timedout', 'Lambda.Unknown'],
          MaxAttempts: 3,
        }),
      );
    }
  });

  it('keeps the Map result one answer per cluster: the Succeed passes on $.progress, the Map writes its ResultPath', () => {
    // THEN
    expect(asl.States['restart-workloads']).toMatchObject({ ResultPath: '$.restarted' });
    expect(asl.States['rollback-restart']).toMatchObject({ ResultPath: '$.rollback.restart' });
  });

  it('gives restart-workloads the function timeout the handler assumes without a Lambda context', () => {
    // WHEN
    const functions = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').filter(
      ([, properties]) => properties.FunctionName === 'meshtrust-payments-restart-workloads',
    );

    // THEN
    expect(functions).toHaveLength(1);
    expect(functions[0]?.[1].Timeout).toBe(LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS);
  });
});
