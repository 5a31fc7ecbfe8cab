// `meshtrust status [EXECUTION]`: an execution (default: the newest) as its history tells it: status,
// input (mode, reason, who), the phase it is in, each cluster Map's progress (a Distributed Map's from its
// Map Run and child executions, bin/cli/map-runs.ts), and the approval it waits for.
import type { Command } from 'commander';
import type { CliContext } from '../cli/cli-context.js';
import {
  currentState,
  findPendingApproval,
  type MapProgress,
  mapProgress,
} from '../cli/execution-history.js';
import {
  distributedMapProgress,
  type FailedChild,
  failedChildLine,
  failedChildren,
  mapRunLine,
} from '../cli/map-runs.js';
import {
  addStateMachineOptions,
  asCliError,
  executionArnOf,
  newestExecutionArn,
  openStateMachine,
  type StateMachineOptions,
} from '../cli/state-machine.js';

export interface StatusCommandOptions extends StateMachineOptions {
  readonly json?: boolean;
}

/** What `status --json` prints; never the approval's task token. */
export interface StatusReport {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly input: Record<string, unknown>;
  /** The state entered last (the phase, while it runs). */
  readonly currentState?: string;
  readonly maps: readonly MapProgress[];
  /** The child executions of Distributed Maps that failed, were aborted or timed out. */
  readonly failedChildren?: readonly FailedChild[];
  readonly pendingApproval?: { readonly state: string; readonly gate?: string; readonly since?: string };
  readonly error?: string;
  readonly cause?: string;
}

export function registerStatusCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('status')
    .argument('[execution]', 'execution name or ARN (default: the newest execution)')
    .description(
      'Show a rotation execution: status, mode, reason and who started it, the phase it is in, per-cluster ' +
        'progress of each Map, and the approval gate it waits at.',
    )
    .option('--json', 'print the report as JSON');
  return addStateMachineOptions(command)
    .addHelpText('after', '\nExit codes: 0 shown, 2 usage, 3 AWS access, no stack or no such execution.')
    .action(async (execution: string | undefined, options: StatusCommandOptions) => {
      const access = await openStateMachine(options, context.env);
      try {
        const executionArn =
          execution === undefined
            ? await newestExecutionArn(access)
            : executionArnOf(access.stateMachineArn, execution);
        const report = await statusReport(access.executions, executionArn).catch((error: unknown) => {
          throw asCliError(error, `read execution ${execution ?? executionArn}`);
        });
        if (options.json) context.terminal.out(JSON.stringify(report, null, 2));
        else printStatus(report, context);
      } finally {
        access.close();
      }
    });
}

async function statusReport(
  executions: Awaited<ReturnType<typeof openStateMachine>>['executions'],
  executionArn: string,
): Promise<StatusReport> {
  const [execution, events] = await Promise.all([
    executions.describe(executionArn),
    executions.history(executionArn),
  ]);
  const pending = execution.status === 'RUNNING' ? findPendingApproval(events) : undefined;
  const state = currentState(events);
  const maps = [...mapProgress(events), ...(await distributedMapProgress(executions, events))];
  const failed = failedChildren(maps);
  return {
    executionArn,
    name: execution.name,
    status: execution.status,
    ...(execution.startDate !== undefined && { startDate: execution.startDate.toISOString() }),
    ...(execution.stopDate !== undefined && { stopDate: execution.stopDate.toISOString() }),
    input: parseInput(execution.input),
    ...(state !== undefined && { currentState: state }),
    maps,
    ...(failed.length > 0 && { failedChildren: failed }),
    ...(pending !== undefined && {
      pendingApproval: {
        state: pending.state,
        ...(pending.gate !== undefined && { gate: pending.gate }),
        ...(pending.since !== undefined && { since: new Date(pending.since).toISOString() }),
      },
    }),
    ...(execution.error !== undefined && { error: execution.error }),
    ...(execution.cause !== undefined && { cause: execution.cause }),
  };
}

function printStatus(report: StatusReport, context: CliContext): void {
  const { out, styleOut } = context.terminal;
  const colour = report.status === 'SUCCEEDED' ? 'green' : report.status === 'RUNNING' ? 'cyan' : 'red';
  out(`${styleOut('bold', report.name)}  ${styleOut(colour, report.status)}`);
  out(`  started   ${report.startDate ?? '?'}${report.stopDate ? `, stopped ${report.stopDate}` : ''}`);
  const { mode, cluster, reason, requestedBy } = report.input;
  out(`  mode      ${String(mode ?? '?')}${cluster ? ` (cluster ${String(cluster)})` : ''}`);
  if (reason !== undefined) out(`  reason    ${String(reason)}`);
  if (requestedBy !== undefined) out(`  by        ${String(requestedBy)}`);
  if (report.currentState !== undefined) {
    out(`  ${report.status === 'RUNNING' ? 'phase    ' : 'last     '} ${report.currentState}`);
  }
  for (const map of report.maps) {
    const clusters =
      map.mapRun === undefined
        ? map.iterations.map((i) => `${i.cluster ?? `#${i.index}`} ${i.status}`).join(', ')
        : mapRunLine(map);
    out(`  ${map.state}: ${clusters}`);
  }
  if (report.pendingApproval !== undefined) {
    out(
      styleOut(
        'yellow',
        `  waiting for approval at ${report.pendingApproval.state}: meshtrust approve ${report.name} (or meshtrust reject ${report.name} --reason TEXT)`,
      ),
    );
  }
  if (report.error !== undefined) out(styleOut('red', `  ${report.error}: ${report.cause ?? ''}`));
  for (const child of report.failedChildren ?? []) out(styleOut('red', `  ${failedChildLine(child)}`));
}

function parseInput(text: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text ?? '{}');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
