// The lab's Distributed Map (rehearsal/distributed-map-emulation.ts) on a small definition: each rule
// cites the Step Functions page it follows, and each case also runs the definition on the plain local
// engine, which runs every Map inline, to show the difference (so a case fails if the emulation goes).
import { describe, expect, it } from '@jest/globals';
import { StateMachine } from 'aws-local-stepfunctions';
import { awsHistoryEvents, type LocalHistoryEvent } from '../../../rehearsal/aws-history-events.js';
import { childTaskName, distributedMapsOf } from '../../../rehearsal/distributed-map-definition.js';
import {
  type ChildExecution,
  childArnOf,
  EXCEED_TOLERATED_FAILURE_THRESHOLD,
  EXCEEDED_CAUSE,
  emulateDistributedMaps,
  mapRunArnOf,
} from '../../../rehearsal/distributed-map-emulation.js';
import { forLocalEngine } from '../../../rehearsal/local-engine-definition.js';
import { polyfillPromiseWithResolvers } from '../../../rehearsal/promise-with-resolvers.js';
import { runDefinitionLocally } from '../../support/local-state-machine.js';

type Json = Record<string, unknown>;
type Work = (input: Json) => Promise<unknown>;

const PARENT_ARN = 'arn:aws:states:us-east-1:123456789012:execution:rotation:run-1';
const CHILD_ARN = /^arn:aws:states:us-east-1:123456789012:execution:rotation\/fan-out:[0-9a-f-]{36}$/;

/** A Distributed Map over `$.clusters` whose child runs one Task, caught two ways. */
function definition(maxConcurrency = 2): Json {
  return {
    StartAt: 'fan-out',
    States: {
      'fan-out': {
        Type: 'Map',
        ItemsPath: '$.clusters',
        MaxConcurrency: maxConcurrency,
        Label: 'fan-out',
        ItemSelector: { 'cluster.$': '$$.Map.Item.Value', 'parent.$': '$$.Execution.Id' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'work',
          States: {
            work: {
              Type: 'Task',
              Resource: 'arn:aws:lambda:us-east-1:123456789012:function:work',
              Parameters: { 'cluster.$': '$.cluster', 'parent.$': '$.parent', 'self.$': '$$.Execution.Id' },
              End: true,
            },
          },
        },
        ResultPath: '$.results',
        Catch: [
          { ErrorEquals: ['VerificationFailed'], ResultPath: '$.failure', Next: 'caught-own' },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'caught-any' },
        ],
        End: true,
      },
      'caught-own': { Type: 'Pass', Result: 'own', ResultPath: '$.caughtBy', End: true },
      'caught-any': { Type: 'Pass', Result: 'any', ResultPath: '$.caughtBy', End: true },
    },
  };
}

function verificationFailed(cluster: string): Error {
  const error = new Error(`${cluster} does not trust root B yet`);
  error.name = 'VerificationFailed';
  return error;
}

interface Ran {
  readonly output: Json;
  readonly children: ChildExecution[];
  readonly parentEvents: Json[];
}

/** The definition run as the rehearsal runs it (emulated) or as aws-local-stepfunctions alone would. */
async function run(
  how: 'emulated' | 'plain',
  def: Json,
  clusters: string[],
  work: Work,
  during?: (emulation: ReturnType<typeof emulateDistributedMaps>) => void,
): Promise<Ran> {
  polyfillPromiseWithResolvers();
  const children: ChildExecution[] = [];
  const handlers = { work: (input: unknown) => work(input as Json) };
  const emulation = emulateDistributedMaps({
    definition: def,
    forLocalEngine,
    handlers,
    onChild: (child) => children.push(child),
  });
  const machine =
    how === 'emulated'
      ? new StateMachine(forLocalEngine(def) as never)
      : new StateMachine(def as never, { validationOptions: { noValidate: true } });
  const execution = machine.run({ clusters } as never, {
    overrides: {
      taskResourceLocalHandlers: (how === 'emulated'
        ? { ...handlers, ...emulation.handlers }
        : handlers) as never,
    },
    context: { Execution: { Id: PARENT_ARN, Name: 'run-1' } } as never,
  });
  const parentEvents: Json[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) parentEvents.push(event as unknown as Json);
  })();
  during?.(emulation);
  const output = (await execution.result) as Json;
  await collect;
  return { output, children, parentEvents };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a Distributed Map in the lab', () => {
  it("fails with States.ExceedToleratedFailureThreshold, not the child's error, so a Catch on that error does not match", async () => {
    // Prepare: lab-2's child fails VerificationFailed ("Setting failure thresholds for Distributed Map
    // states": the Map Run fails with States.ExceedToleratedFailureThreshold once the threshold, 0 here, is passed)
    const work: Work = async (input) => {
      if (input.cluster === 'lab-2') throw verificationFailed('lab-2');
      return { cluster: input.cluster };
    };

    // Act
    const emulated = await run('emulated', definition(), ['lab-1', 'lab-2'], work);
    const plain = await run('plain', definition(), ['lab-1', 'lab-2'], work);

    // Assess
    expect(emulated.output.caughtBy).toBe('any');
    const failure = emulated.output.failure as { Error: string; Cause: string };
    expect(failure.Error).toBe(EXCEED_TOLERATED_FAILURE_THRESHOLD);
    // AWS's cause, word for word: the child's error is only in the child's own record
    expect(failure.Cause).toBe(EXCEEDED_CAUSE);
    const failed = emulated.children.find((child) => child.status === 'FAILED');
    expect(failed).toMatchObject({
      map: 'fan-out',
      error: 'VerificationFailed',
      cause: 'lab-2 does not trust root B yet',
      parentArn: PARENT_ARN,
    });
    expect(plain.output.caughtBy).toBe('own');
    expect((plain.output.failure as { Error: string }).Error).toBe('VerificationFailed');
  });

  it("gives a child's Task its own $$.Execution.Id, while its item carries the parent's", async () => {
    // Prepare ("Viewing a Distributed Map Run execution": children run under <state machine>/<label>)
    const work: Work = async (input) => ({ parent: input.parent, self: input.self });

    // Act
    const emulated = await run('emulated', definition(), ['lab-1', 'lab-2'], work);
    const plain = await run('plain', definition(), ['lab-1', 'lab-2'], work);

    // Assess
    const results = emulated.output.results as { parent: string; self: string }[];
    expect(results.map((result) => result.parent)).toEqual([PARENT_ARN, PARENT_ARN]);
    for (const result of results) expect(result.self).toMatch(CHILD_ARN);
    expect(new Set(results.map((result) => result.self)).size).toBe(2);
    expect(emulated.children.map((child) => child.executionArn).sort()).toEqual(
      results.map((result) => result.self).sort(),
    );
    expect(new Set(emulated.children.map((child) => child.mapRunArn)).size).toBe(1);
    expect(emulated.children[0]?.stateMachineArn).toBe(
      'arn:aws:states:us-east-1:123456789012:stateMachine:rotation/fan-out',
    );
    const plainResults = plain.output.results as { self: string }[];
    expect(plainResults.map((result) => result.self)).toEqual([PARENT_ARN, PARENT_ARN]);
  });

  it("keeps each child's states in the child's own events, none in the parent's", async () => {
    // Prepare
    const work: Work = async (input) => ({ cluster: input.cluster });

    // Act
    const emulated = await run('emulated', definition(), ['lab-1', 'lab-2', 'lab-3'], work);
    const plain = await run('plain', definition(), ['lab-1', 'lab-2', 'lab-3'], work);

    // Assess
    const entered = (events: readonly unknown[]) =>
      (events as Json[])
        .filter((event) => event.type === 'StateEntered')
        .map((event) => (event.state as { name: string }).name);
    expect(entered(emulated.parentEvents)).not.toContain('work');
    expect(emulated.children).toHaveLength(3);
    for (const child of emulated.children) expect(entered(child.events)).toEqual(['work']);
    expect(entered(plain.parentEvents).filter((name) => name === 'work')).toHaveLength(3);
  });

  it('starts no more children once its Map Run failed', async () => {
    // Prepare: one child at a time; lab-2's fails
    const invoked: string[] = [];
    const work: Work = async (input) => {
      invoked.push(String(input.cluster));
      if (input.cluster === 'lab-2') throw verificationFailed('lab-2');
      return {};
    };

    // Act
    const emulated = await run('emulated', definition(1), ['lab-1', 'lab-2', 'lab-3', 'lab-4'], work);
    await settle(100);
    const emulatedInvoked = [...invoked];
    invoked.length = 0;
    await run('plain', definition(1), ['lab-1', 'lab-2', 'lab-3', 'lab-4'], work);
    await settle(100);

    // Assess
    expect(emulated.output.caughtBy).toBe('any');
    expect(emulatedInvoked).toEqual(['lab-1', 'lab-2']);
    expect(emulated.children.map((child) => child.status)).toEqual(['SUCCEEDED', 'FAILED']);
    // The inline engine goes on with the queued items after its Map failed.
    expect(invoked).toEqual(['lab-1', 'lab-2', 'lab-3', 'lab-4']);
  });

  it('lets a child already running run to its end after a sibling failed the Map Run', async () => {
    // Prepare: lab-1 takes 300 ms; lab-2 fails at once, so the Map is caught while lab-1 still works
    // (the threshold page: children may keep running after the threshold is crossed)
    let lab1Ended: number | undefined;
    const work: Work = async (input) => {
      if (input.cluster === 'lab-2') throw verificationFailed('lab-2');
      await settle(300);
      lab1Ended = Date.now();
      return {};
    };

    // Act
    const emulated = await run('emulated', definition(2), ['lab-1', 'lab-2'], work);
    const caughtAt = Date.now();
    await settle(500);

    // Assess
    expect(emulated.output.caughtBy).toBe('any');
    expect(lab1Ended).toBeGreaterThan(caughtAt);
    expect(emulated.children.map((child) => [child.index, child.status]).sort()).toEqual([
      [0, 'SUCCEEDED'],
      [1, 'FAILED'],
    ]);
  });

  it("aborts a parent's running children when the parent stops", async () => {
    // Prepare ("MapRunExecutionCounts": children of a stopped parent are aborted)
    const work: Work = async () => {
      // Left to run after the test: its timer keeps no process alive.
      await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
      return {};
    };

    // Act
    const emulated = await run('emulated', definition(2), ['lab-1'], work, (emulation) => {
      setTimeout(() => emulation.abortChildrenOf(PARENT_ARN), 100);
    });

    // Assess
    expect(emulated.output.caughtBy).toBe('any');
    expect(emulated.children.map((child) => child.status)).toEqual(['ABORTED']);
  });
});

describe("a Distributed Map's history, counted as Step Functions records it", () => {
  const asLocal = (events: readonly unknown[]) => events as LocalHistoryEvent[];

  it('gives the parent the Map and its Map Run, and each child its own execution', async () => {
    // Prepare: AWS's record of a Distributed Map that succeeded (LocalStack's snapshot
    // test_base_scenarios.snapshot.json, test_map_state_label)
    const work: Work = async (input) => ({ cluster: input.cluster });

    // Act
    const emulated = await run('emulated', definition(), ['lab-1', 'lab-2', 'lab-3'], work);
    const parent = awsHistoryEvents(asLocal(emulated.parentEvents), new Set(), new Set(['fan-out']));
    const inline = awsHistoryEvents(asLocal(emulated.parentEvents));

    // Assess
    expect(parent).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
    // Counted as an inline Map, the parent would hold every item's events
    expect(inline.filter((type) => type.startsWith('MapIteration'))).toHaveLength(6);
    for (const child of emulated.children) {
      expect(awsHistoryEvents(asLocal(child.events))).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'ExecutionSucceeded',
      ]);
    }
  });

  it("records a failed Map Run in the parent and the child's failure in the child", async () => {
    // Prepare: AWS's record of a failed Map Run: MapRunStarted, MapRunFailed, MapStateFailed (LocalStack's
    // snapshot, test_map_item_reader_json_no_json_list_object); caught here, so the Map then exits
    const work: Work = async (input) => {
      if (input.cluster === 'lab-2') throw verificationFailed('lab-2');
      return {};
    };

    // Act
    const emulated = await run('emulated', definition(1), ['lab-1', 'lab-2'], work);
    const parent = awsHistoryEvents(asLocal(emulated.parentEvents), new Set(), new Set(['fan-out']));
    const failed = emulated.children.find((child) => child.status === 'FAILED');

    // Assess
    expect(parent).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapRunStarted',
      'MapRunFailed',
      'MapStateFailed',
      'MapStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(awsHistoryEvents(asLocal(failed?.events ?? []))).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'ExecutionFailed',
    ]);
  });
});

describe("the tests' local runner (test/support/local-state-machine.ts)", () => {
  it("runs a Distributed Map's items as children too: a child's error reaches the Map as the threshold error", async () => {
    // Act
    const run = await runDefinitionLocally({
      definition: definition(),
      input: { clusters: ['lab-1', 'lab-2'] },
      handlers: {
        work: async (input: Json) => {
          if (input.cluster === 'lab-2') throw verificationFailed('lab-2');
          return { self: input.self };
        },
      },
      executionId: PARENT_ARN,
      taskToken: 'token',
    });

    // Assess
    expect(run.entered).toEqual(['fan-out', 'caught-any']);
    expect(run.output?.failure).toMatchObject({ Error: EXCEED_TOLERATED_FAILURE_THRESHOLD });
  });
});

describe("the tests' local runner's Wait overrides", () => {
  it("shorten a Wait inside a child as they do the parent's (an hour's Wait would outlast the test)", async () => {
    // Prepare: the child waits an hour before its Task
    const def = definition();
    const fanOut = (def.States as Record<string, Json>)['fan-out'] as Json;
    const processor = fanOut.ItemProcessor as { StartAt: string; States: Record<string, Json> };
    processor.States.pause = { Type: 'Wait', Seconds: 3600, Next: 'work' };
    processor.StartAt = 'pause';

    // Act
    const run = await runDefinitionLocally({
      definition: def,
      input: { clusters: ['lab-1'] },
      handlers: { work: async (input: Json) => ({ self: input.self }) },
      executionId: PARENT_ARN,
      taskToken: 'token',
      waitTimeOverrides: { pause: 0 },
    });

    // Assess
    expect(run.entered).toEqual(['fan-out']);
    const results = (run.output?.results ?? []) as { self: string }[];
    expect(results[0]?.self).toMatch(CHILD_ARN);
  });
});

describe('the local definition of a Distributed Map', () => {
  it('replaces its ItemProcessor by the stand-in Task and keeps the Map state otherwise', () => {
    // Act
    const local = forLocalEngine(definition(3)).States as Record<string, Json>;
    const map = local['fan-out'] as Json;

    // Assess
    const processor = map.ItemProcessor as { StartAt: string; States: Record<string, Json> };
    expect(processor.StartAt).toBe(childTaskName('fan-out'));
    expect(Object.keys(processor.States)).toEqual(['fan-out-child']);
    expect(map).toMatchObject({ MaxConcurrency: 3, ItemsPath: '$.clusters', ResultPath: '$.results' });
    expect(map.Catch).toEqual((definition().States as Record<string, Json>)['fan-out']?.Catch);
    expect(map.ItemSelector).toEqual({
      item: { 'cluster.$': '$$.Map.Item.Value', 'parent.$': '$$.Execution.Id' },
      'index.$': '$$.Map.Item.Index',
      'parent.$': '$$.Execution.Id',
    });
  });

  it('takes a legacy Parameters as the ItemSelector, and refuses a tolerance it would not emulate', () => {
    // Prepare
    const def = definition();
    const fanOut = (def.States as Record<string, Json>)['fan-out'] as Json;
    fanOut.Parameters = fanOut.ItemSelector;
    delete fanOut.ItemSelector;
    const tolerant = definition();
    ((tolerant.States as Record<string, Json>)['fan-out'] as Json).ToleratedFailureCount = 1;

    // Act
    const map = (forLocalEngine(def).States as Record<string, Json>)['fan-out'] as Json;

    // Assess
    expect(map.Parameters).toBeUndefined();
    expect((map.ItemSelector as Json).item).toEqual({
      'cluster.$': '$$.Map.Item.Value',
      'parent.$': '$$.Execution.Id',
    });
    expect(() => forLocalEngine(tolerant)).toThrow(
      /sets ToleratedFailureCount: the rehearsal fails a Map Run/,
    );
  });

  it('finds a Distributed Map nested in another Map, and leaves an inline Map inline', () => {
    // Prepare
    const nested: Json = {
      StartAt: 'outer',
      States: {
        outer: {
          Type: 'Map',
          ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...definition() },
          End: true,
        },
      },
    };

    // Act
    const maps = distributedMapsOf(nested);
    const outer = (forLocalEngine(nested).States as Record<string, Json>).outer as Json;

    // Assess
    expect(maps.map((found) => [found.map, found.label])).toEqual([['fan-out', 'fan-out']]);
    const inner = (outer.ItemProcessor as { States: Record<string, Json> }).States['fan-out'] as Json;
    expect(Object.keys((inner.ItemProcessor as { States: Json }).States)).toEqual(['fan-out-child']);
    expect((outer.ItemProcessor as Json).ProcessorConfig).toEqual({ Mode: 'INLINE' });
  });
});

describe('Map Run and child ARNs', () => {
  it('name the state machine and the label, as Step Functions does', () => {
    // Act
    const mapRun = mapRunArnOf(PARENT_ARN, 'distribute-bundle');
    const child = childArnOf(mapRun, 'c0ffee');

    // Assess
    expect(mapRun).toMatch(
      /^arn:aws:states:us-east-1:123456789012:mapRun:rotation\/distribute-bundle:[0-9a-f-]{36}$/,
    );
    expect(child).toBe('arn:aws:states:us-east-1:123456789012:execution:rotation/distribute-bundle:c0ffee');
    expect(() => mapRunArnOf('arn:aws:lambda:us-east-1:123456789012:function:x', 'l')).toThrow(
      /not an execution ARN/,
    );
  });
});
