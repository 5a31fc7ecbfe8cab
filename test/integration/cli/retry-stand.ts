// What the tests of meshtrust retry-rollback and retry-promotion run the command on: a stand-in of the
// state machine access that answers for the stopped run and records the executions started, and a CLI
// context that keeps what the command printed.
import type { CliContext } from '../../../bin/cli/cli-context.js';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { HistoryEventLike } from '../../../bin/cli/execution-history.js';
import type { StateMachineAccess } from '../../../bin/cli/state-machine.js';
import { createTerminal } from '../../../bin/cli/terminal.js';

export const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:meshtrust-payments-rotation';
/** The run the tests retry: `scheduled-20260310T090000Z` of MACHINE. */
export const STOPPED = `${MACHINE.replace(':stateMachine:', ':execution:')}:scheduled-20260310T090000Z`;

/** A child execution of one of the stopped run's Map Runs. */
export interface FakeChild {
  readonly executionArn: string;
  readonly status: string;
  readonly input: Record<string, unknown>;
  readonly error?: string;
  readonly cause?: string;
}

export interface FakeStateMachine {
  readonly access: StateMachineAccess;
  readonly started: { name: string; input: Record<string, unknown> }[];
}

/**
 * A state machine whose STOPPED execution ended as `stopped` (its `events` answer both history and,
 * newest first as the test gives them unless `eventsOldestFirst`, latestHistory), and whose new
 * executions DescribeExecution describes as `resumed`.
 */
export function fakeStateMachine(options: {
  readonly stopped: { status: string; error?: string; stopDate?: Date; events?: HistoryEventLike[] };
  readonly resumed: { readonly status: string; readonly error?: string; readonly cause?: string };
  readonly eventsOldestFirst?: boolean;
  /** The stopped run's Distributed Map Runs (its events name them), by ARN, with their children. */
  readonly mapRuns?: Readonly<
    Record<string, { readonly status: string; readonly children: readonly FakeChild[] }>
  >;
}): FakeStateMachine {
  const { stopped, resumed } = options;
  const events = stopped.events ?? [];
  const started: { name: string; input: Record<string, unknown> }[] = [];
  const mapRuns = options.mapRuns ?? {};
  const children = Object.values(mapRuns).flatMap((run) => run.children);
  const executions = {
    describe: async (arn: string) => {
      const child = children.find((candidate) => candidate.executionArn === arn);
      if (child !== undefined)
        return { ...child, name: arn.split(':').pop(), input: JSON.stringify(child.input) };
      return arn === STOPPED
        ? { executionArn: arn, name: 'scheduled-20260310T090000Z', ...stopped }
        : { executionArn: arn, name: arn.split(':').pop(), ...resumed };
    },
    describeMapRun: async (arn: string) => {
      const run = mapRuns[arn];
      if (run === undefined)
        throw Object.assign(new Error(`Resource not found: '${arn}'`), { name: 'ResourceNotFound' });
      const count = (status: string) => run.children.filter((child) => child.status === status).length;
      return {
        mapRunArn: arn,
        status: run.status,
        itemCounts: {
          pending: 0,
          running: count('RUNNING'),
          succeeded: count('SUCCEEDED'),
          failed: count('FAILED'),
          timedOut: count('TIMED_OUT'),
          aborted: count('ABORTED'),
          total: run.children.length,
        },
      };
    },
    mapRunChildren: async (arn: string) =>
      (mapRuns[arn]?.children ?? []).map((child) => ({
        executionArn: child.executionArn,
        name: child.executionArn.split(':').pop(),
        status: child.status,
      })),
    latestHistory: async () => (options.eventsOldestFirst === true ? [...events].reverse() : events),
    history: async () => events,
    start: async (request: { name: string; input: Record<string, unknown> }) => {
      started.push({ name: request.name, input: request.input });
      return { executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:${request.name}` };
    },
  };
  return {
    access: {
      region: 'eu-west-1',
      stateMachineArn: MACHINE,
      executions: executions as never,
      close: () => undefined,
    },
    started,
  };
}

/** A CLI context whose terminal keeps what was written to stdout and stderr. */
export function recordingContext(): CliContext & { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    terminal: createTerminal(
      { write: (t: string) => (stdout += t) },
      { write: (t: string) => (stderr += t) },
      {},
    ),
    env: { ...process.env },
    exitCode: EXIT_CODES.ok,
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
