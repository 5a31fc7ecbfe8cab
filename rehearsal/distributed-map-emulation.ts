// A Distributed Map as Step Functions runs it, which aws-local-stepfunctions does not: that engine runs
// every Map's ItemProcessor inline (MapStateAction, build/main.node.cjs), with the parent's context and
// its iterations' errors reaching the Map as they are. Step Functions starts a Map Run whose iterations
// are child executions of their own (docs/workflow.md, "The rehearsal: as strict as AWS"):
// - each child has its own context: `$$.Execution.Id` is a child ARN
//   `arn:aws:states:R:A:execution:<state machine>/<label>:<uuid>`, its own name and start time, and
//   `$$.StateMachine.Id` `...:stateMachine:<state machine>/<label>` (Step Functions Developer Guide,
//   "Viewing a Distributed Map Run execution"); the item is built in the parent (ItemSelector), so
//   `$$.Map.Item` and the parent's `$$.Execution` are read there;
// - a child that fails fails the Map Run, and the Map state fails with
//   `States.ExceedToleratedFailureThreshold` ("Setting failure thresholds for Distributed Map states"),
//   whose cause names neither the child nor its error, which stay in the child's history;
// - a Map Run that failed starts no more children; children already running run on to their end (the
//   same page: children may keep running after the threshold is crossed), so the rollback after the Map
//   meets their late writes, as on AWS;
// - a stopped parent aborts its Map Runs' running children ("MapRunExecutionCounts").
// The local definition replaces a DISTRIBUTED ItemProcessor by one Task `<map>-child`
// (distributed-map-definition.ts), whose item carries the built item, its index and the parent's ARN;
// the handlers here run the original ItemProcessor for it as its own execution. The rules are stated here,
// from AWS's documentation, not taken from the product.
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, StateMachine } from 'aws-local-stepfunctions';
import { type ChildTaskInput, childTaskName, distributedMapsOf } from './distributed-map-definition.js';

type Json = Record<string, unknown>;
type TaskHandler = (input: unknown) => Promise<unknown>;

/** The error a Distributed Map fails with when a child fails (no failure is tolerated). */
export const EXCEED_TOLERATED_FAILURE_THRESHOLD = 'States.ExceedToleratedFailureThreshold';

/** A child execution as it ended, recorded apart from its parent. */
export interface ChildExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly mapRunArn: string;
  readonly parentArn: string;
  readonly map: string;
  readonly index: number;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate: Date;
  /** The child's own event log, as the engine gave it. */
  readonly events: readonly unknown[];
}

interface MapRun {
  readonly arn: string;
  /** The items' indexes it started. */
  readonly indices: Set<number>;
  /** A child of it failed: it starts no more. */
  failed: boolean;
}

export interface DistributedMapEmulation {
  /** The stand-in Tasks' handlers, by state name (`<map>-child`), to add to the run's overrides. */
  readonly handlers: Record<string, TaskHandler>;
  /** Aborts every running child of a parent: its Map Runs stop with it. */
  abortChildrenOf(parentArn: string): void;
}

/**
 * Runs each Distributed Map's children as executions of their own, their Tasks overridden by the same
 * handlers as the parent's (the ItemProcessor's states keep their names).
 */
export function emulateDistributedMaps(input: {
  readonly definition: Json;
  /** The original ItemProcessors are given to the engine as forLocalEngine makes them. */
  readonly forLocalEngine: (definition: Json) => Json;
  readonly handlers: Record<string, TaskHandler>;
  readonly retryIntervalOverrides?: Record<string, number>;
  /** Wait states' lengths by name, as the parent's run is given them (tests shorten a child's Waits too). */
  readonly waitTimeOverrides?: Record<string, number>;
  /** `$$.Task.Token` in a child, as the parent's runner gives its own. */
  readonly taskToken?: string;
  readonly onChild?: (child: ChildExecution) => void;
}): DistributedMapEmulation {
  const runs = new Map<string, MapRun>();
  const running = new Map<string, Set<() => void>>();
  const handlers: Record<string, TaskHandler> = {};
  for (const { map, label, processor } of distributedMapsOf(input.definition)) {
    const machine = new StateMachine(input.forLocalEngine(processor) as never, {
      validationOptions: { noValidate: true },
    });
    handlers[childTaskName(map)] = async (raw) => {
      const { item, index, parent } = raw as ChildTaskInput;
      const key = `${parent}|${map}`;
      // A Map state entered again (a loop, a redrive) starts a new Map Run: an index its run already had.
      let run = runs.get(key);
      if (run === undefined || run.indices.has(index)) {
        run = { arn: mapRunArnOf(parent, label), indices: new Set(), failed: false };
        runs.set(key, run);
      }
      run.indices.add(index);
      if (run.failed) throw thresholdError();
      const name = randomUUID();
      const executionArn = childArnOf(run.arn, name);
      const stateMachineArn = childStateMachineArnOf(parent, label);
      const startDate = new Date();
      const execution = machine.run(item as never, {
        overrides: {
          taskResourceLocalHandlers: input.handlers as never,
          ...(input.retryIntervalOverrides === undefined
            ? {}
            : { retryIntervalOverrides: input.retryIntervalOverrides }),
          ...(input.waitTimeOverrides === undefined ? {} : { waitTimeOverrides: input.waitTimeOverrides }),
        },
        context: {
          Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString(), Input: item },
          StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
          ...(input.taskToken === undefined ? {} : { Task: { Token: input.taskToken } }),
        } as never,
      });
      const aborts = running.get(parent) ?? new Set();
      running.set(parent, aborts);
      aborts.add(execution.abort);
      const events: unknown[] = [];
      const collect = (async () => {
        for await (const event of execution.eventLogs) events.push(event);
      })();
      const record = (status: ChildExecution['status'], failure?: { error: string; cause: string }) =>
        input.onChild?.({
          executionArn,
          name,
          stateMachineArn,
          mapRunArn: run.arn,
          parentArn: parent,
          map,
          index,
          status,
          ...(failure === undefined ? {} : { error: failure.error, cause: failure.cause }),
          startDate,
          stopDate: new Date(),
          events,
        });
      try {
        const output = await execution.result;
        await collect;
        record('SUCCEEDED');
        return output;
      } catch (thrown) {
        await collect;
        const aborted = thrown instanceof ExecutionAbortedError;
        const cause = (thrown as { cause?: unknown }).cause ?? thrown;
        const failure = aborted
          ? { error: 'States.Aborted', cause: 'the parent execution stopped' }
          : {
              error: cause instanceof Error ? cause.name : 'Error',
              cause: cause instanceof Error ? cause.message : String(cause),
            };
        record(aborted ? 'ABORTED' : 'FAILED', failure);
        run.failed = true;
        throw thresholdError();
      } finally {
        aborts.delete(execution.abort);
      }
    };
  }
  return {
    handlers,
    abortChildrenOf(parentArn) {
      for (const abort of running.get(parentArn) ?? []) abort();
    },
  };
}

/**
 * The cause Step Functions gives the Map's error, word for word (recorded against AWS in LocalStack's
 * tests/aws/services/stepfunctions/v2/test_state/test_state_configuration.snapshot.json,
 * test_map_state_failure_count): it names neither the child nor its error, so neither does the lab's.
 * What failed is in the child's own record (ListExecutions by mapRunArn, then DescribeExecution).
 */
export const EXCEEDED_CAUSE = 'The specified tolerated failure threshold was exceeded';

/** The Map state's error once its Map Run failed. */
function thresholdError(): Error {
  const error = new Error(EXCEEDED_CAUSE);
  error.name = EXCEED_TOLERATED_FAILURE_THRESHOLD;
  return error;
}

/** `arn:...:execution:SM:name` -> `arn:...:mapRun:SM/label:<uuid>`. */
export function mapRunArnOf(parentArn: string, label: string): string {
  const { prefix, stateMachine } = splitExecutionArn(parentArn);
  return `${prefix}:mapRun:${stateMachine}/${label}:${randomUUID()}`;
}

/** `arn:...:mapRun:SM/label:<run id>` -> `arn:...:execution:SM/label:<name>`. */
export function childArnOf(mapRunArn: string, name: string): string {
  const at = mapRunArn.lastIndexOf(':');
  return `${mapRunArn.slice(0, at).replace(':mapRun:', ':execution:')}:${name}`;
}

/** `arn:...:execution:SM:name` -> `arn:...:stateMachine:SM/label`. */
export function childStateMachineArnOf(parentArn: string, label: string): string {
  const { prefix, stateMachine } = splitExecutionArn(parentArn);
  return `${prefix}:stateMachine:${stateMachine}/${label}`;
}

function splitExecutionArn(arn: string): { prefix: string; stateMachine: string } {
  const parts = arn.split(':');
  if (parts.length < 8 || parts[5] !== 'execution') {
    throw new Error(`not an execution ARN: ${arn}`);
  }
  return { prefix: parts.slice(0, 5).join(':'), stateMachine: parts[6] };
}
