// The definition the rehearsal hands aws-local-stepfunctions reads as Step Functions reads it: a Task's
// `ResultPath: "$"` replaces its input with its answer (the local engine would write a field named `$`),
// and a Task without TimeoutSeconds is not failed States.Timeout after the local engine's 60 s.
import { describe, expect, it } from '@jest/globals';
import { StateMachine } from 'aws-local-stepfunctions';
import { forLocalEngine, LOCAL_TASK_TIMEOUT_SECONDS } from '../../../rehearsal/local-engine-definition.js';
import { polyfillPromiseWithResolvers } from '../../../rehearsal/promise-with-resolvers.js';

type Json = Record<string, unknown>;

/** A Map over two clusters whose per-cluster Task answers with ResultPath "$", as the stack's Maps do. */
const definition: Json = {
  StartAt: 'distribute',
  States: {
    distribute: {
      Type: 'Map',
      ItemsPath: '$.clusters',
      ItemSelector: { 'cluster.$': '$$.Map.Item.Value', 'mode.$': '$.mode' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'distribute-in-cluster',
        States: {
          'distribute-in-cluster': {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:distribute',
            ResultPath: '$',
            End: true,
          },
        },
      },
      ResultPath: '$.distributed',
      End: true,
    },
  },
};

describe('forLocalEngine', () => {
  it("gives a Map the answers of its Tasks, as Step Functions does, not each item with its answer under '$'", async () => {
    // Prepare: the engine calls Promise.withResolvers (Node >= 22), as the rehearsal polyfills it
    polyfillPromiseWithResolvers();
    const machine = new StateMachine(forLocalEngine(definition) as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });

    // Act
    const output = (await machine.run({ clusters: ['lab-1', 'lab-2'], mode: 'scheduled' } as never, {
      overrides: {
        taskResourceLocalHandlers: {
          'distribute-in-cluster': async (input: Json) => ({ cluster: input.cluster, changed: true }),
        } as never,
      },
    }).result) as Json;

    // Assess
    expect(output.distributed).toEqual([
      { cluster: 'lab-1', changed: true },
      { cluster: 'lab-2', changed: true },
    ]);
  });

  it('lets a Task without a timeout of its own run as long as it runs, and keeps every other field', () => {
    // Act
    const local = forLocalEngine(definition);

    // Assess
    const map = (local.States as Record<string, Json>).distribute as Json;
    const task = ((map.ItemProcessor as Json).States as Record<string, Json>)[
      'distribute-in-cluster'
    ] as Json;
    expect(task).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:distribute',
      TimeoutSeconds: LOCAL_TASK_TIMEOUT_SECONDS,
      End: true,
    });
    expect(map.ResultPath).toBe('$.distributed');
    expect(definition.States).not.toBe(local.States);
    expect(
      (
        (((definition.States as Record<string, Json>).distribute as Json).ItemProcessor as Json)
          .States as Record<string, Json>
      )['distribute-in-cluster'],
    ).toMatchObject({ ResultPath: '$' });
  });

  it('keeps the timeout a Task sets', () => {
    // Prepare
    const gate: Json = {
      StartAt: 'approve',
      States: { approve: { Type: 'Task', Resource: 'arn:x', TimeoutSeconds: 3600, End: true } },
    };
    // Act, Assess
    expect(((forLocalEngine(gate).States as Record<string, Json>).approve as Json).TimeoutSeconds).toBe(3600);
  });
});
