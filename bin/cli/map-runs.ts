// A Distributed Map's clusters, read where Step Functions keeps them: the parent's history names each
// Map Run (MapRunStarted), DescribeMapRun counts its items, ListExecutions by mapRunArn lists its child
// executions, and DescribeExecution of a child gives its input (the cluster) and its error. The parent
// holds none of that: its Map fails with `States.ExceedToleratedFailureThreshold`, which names neither
// the cluster nor the error (docs/workflow.md, "Distributed Maps").
import type {
  ExecutionSummary,
  RotationExecutions,
} from '../../lambdas/adapters/stepfunctions/rotation-executions.js';
import type { CliContext } from './cli-context.js';
import {
  type HistoryEventLike,
  type IterationStatus,
  type MapIteration,
  type MapProgress,
  parseJson,
  startedMapRuns,
} from './execution-history.js';

/** What these reads need of the Step Functions client. */
export type MapRunReader = Pick<RotationExecutions, 'describe' | 'describeMapRun' | 'mapRunChildren'>;
export type ExecutionReader = MapRunReader & Pick<RotationExecutions, 'history'>;

/** A child that failed, named by its Map state and cluster. */
export interface FailedChild {
  readonly state: string;
  readonly cluster?: string;
  readonly executionArn: string;
  readonly status: IterationStatus;
  readonly error?: string;
  readonly cause?: string;
}

/** The children described one by one: a Map Run's running ones are at most its MaxConcurrency. */
const DESCRIBED = new Set(['RUNNING', 'FAILED', 'ABORTED', 'TIMED_OUT']);

/**
 * Each Distributed Map's progress (the newest Map Run of each cluster Map), in the order they started:
 * its counts, and every child that has not succeeded with its cluster (and error). Empty for an execution
 * whose Maps are inline.
 */
export async function distributedMapProgress(
  reader: MapRunReader,
  events: readonly HistoryEventLike[],
): Promise<MapProgress[]> {
  return Promise.all(
    startedMapRuns(events).map(async ({ state, mapRunArn }) => {
      const [run, children] = await Promise.all([
        reader.describeMapRun(mapRunArn),
        reader.mapRunChildren(mapRunArn),
      ]);
      const iterations: MapIteration[] = [];
      for (const child of children.filter((c) => DESCRIBED.has(c.status))) {
        iterations.push(await childIteration(reader, child));
      }
      const { pending, running, succeeded, failed, aborted, timedOut } = run.itemCounts;
      return {
        state,
        iterations,
        mapRun: {
          arn: mapRunArn,
          status: run.status,
          counts: { pending, running, succeeded, failed, aborted, timedOut },
        },
      };
    }),
  );
}

/** The children that failed, were aborted or timed out, in every Distributed Map of the execution. */
export function failedChildren(maps: readonly MapProgress[]): FailedChild[] {
  return maps.flatMap((map) =>
    map.mapRun === undefined
      ? []
      : map.iterations
          .filter((iteration) => iteration.status !== 'running' && iteration.executionArn !== undefined)
          .map((iteration) => ({
            state: map.state,
            ...(iteration.cluster !== undefined && { cluster: iteration.cluster }),
            executionArn: iteration.executionArn as string,
            status: iteration.status,
            ...(iteration.error !== undefined && { error: iteration.error }),
            ...(iteration.cause !== undefined && { cause: iteration.cause }),
          })),
  );
}

/**
 * The failed children of an ended execution, read from its history: what its own error
 * (`States.ExceedToleratedFailureThreshold`, after a rollback `RotationRolledBack`) does not say.
 */
export async function failedChildrenOf(
  reader: ExecutionReader,
  executionArn: string,
): Promise<FailedChild[]> {
  return failedChildren(await distributedMapProgress(reader, await reader.history(executionArn)));
}

/**
 * Prints a line per failed child of an ended execution; a read that fails is said, not hidden (an
 * operator's role may lack states:DescribeMapRun).
 */
export async function printFailedChildren(
  access: { readonly executions: ExecutionReader },
  executionArn: string,
  context: CliContext,
  print: (line: string) => void = context.terminal.out,
): Promise<void> {
  const { terminal } = context;
  try {
    for (const child of await failedChildrenOf(access.executions, executionArn)) {
      print(`  ${failedChildLine(child)}`);
    }
  } catch (error) {
    terminal.note(
      `could not read its Distributed Maps' child executions (${error instanceof Error ? error.message : String(error)}): ` +
        'the failed cluster is in the Step Functions console, under the Map Run',
    );
  }
}

/** `failed in reissue-intermediate lab-2: PreconditionFailed: ...`, one line per child. */
export function failedChildLine(child: FailedChild): string {
  const where = `${child.state} ${child.cluster ?? child.executionArn}`;
  const what = child.error === undefined ? '' : `: ${child.error}${child.cause ? `: ${child.cause}` : ''}`;
  return `${child.status} in ${where}${what}`;
}

/** One Map Run's clusters on a line: `98 succeeded, lab-2 failed, lab-7 aborted, 1 pending`. */
export function mapRunLine(map: MapProgress): string {
  const counts = map.mapRun?.counts;
  const named = map.iterations.map((i) => `${i.cluster ?? i.executionArn ?? '?'} ${i.status}`);
  const parts = [
    ...(counts !== undefined && counts.succeeded > 0 ? [`${counts.succeeded} succeeded`] : []),
    ...named,
    ...(counts !== undefined && counts.pending > 0 ? [`${counts.pending} pending`] : []),
  ];
  return parts.length === 0 ? 'no item started' : parts.join(', ');
}

async function childIteration(reader: MapRunReader, child: ExecutionSummary): Promise<MapIteration> {
  const described = await reader.describe(child.executionArn);
  const cluster = clusterOf(described.input);
  return {
    ...(cluster !== undefined && { cluster }),
    status: iterationStatus(child.status),
    executionArn: child.executionArn,
    ...(described.error !== undefined && { error: described.error }),
    ...(described.cause !== undefined && { cause: readableCause(described.cause) }),
  };
}

/**
 * A failed Lambda Task's cause is the function's error as JSON (`errorType`, `errorMessage`, `trace`):
 * its message is what a reader needs; any other cause is kept as it is.
 */
function readableCause(cause: string): string {
  const message = parseJson(cause).errorMessage;
  return typeof message === 'string' ? message : cause;
}

function iterationStatus(status: string): IterationStatus {
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'SUCCEEDED':
      return 'succeeded';
    case 'ABORTED':
      return 'aborted';
    case 'TIMED_OUT':
      return 'timed out';
    default:
      return 'failed';
  }
}

/** A child's input is its item: `{ executionId, mode, cluster, ... }`. */
function clusterOf(input: string | undefined): string | undefined {
  const cluster = parseJson(input).cluster;
  return typeof cluster === 'string' ? cluster : undefined;
}
