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
}): FakeStateMachine {
  const { stopped, resumed } = options;
  const events = stopped.events ?? [];
  const started: { name: string; input: Record<string, unknown> }[] = [];
  const executions = {
    describe: async (arn: string) =>
      arn === STOPPED
        ? { executionArn: arn, name: 'scheduled-20260310T090000Z', ...stopped }
        : { executionArn: arn, name: arn.split(':').pop(), ...resumed },
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
