// `meshtrust history`: past rotations of the state machine, newest first.
import type { Command } from 'commander';
import type { CliContext } from '../cli/cli-context.js';
import { integerBetween } from '../cli/option-parsers.js';
import {
  addStateMachineOptions,
  asCliError,
  openStateMachine,
  type StateMachineOptions,
} from '../cli/state-machine.js';

export interface HistoryCommandOptions extends StateMachineOptions {
  readonly limit: number;
  readonly json?: boolean;
}

export function registerHistoryCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('history')
    .description('List the rotation executions, newest first: name, status, start and stop.')
    .option('--limit <n>', 'how many executions to list', integerBetween(1, 1000), 20)
    .option('--json', 'print the list as JSON');
  return addStateMachineOptions(command)
    .addHelpText('after', '\nExit codes: 0 listed, 2 usage, 3 AWS access or no stack.')
    .action(async (options: HistoryCommandOptions) => {
      const access = await openStateMachine(options, context.env);
      try {
        const executions = await access.executions
          .list(access.stateMachineArn, { max: options.limit })
          .catch((error: unknown) => {
            throw asCliError(error, `list the executions of ${access.stateMachineArn}`);
          });
        const { out, note } = context.terminal;
        if (options.json) {
          out(JSON.stringify(executions, null, 2));
          return;
        }
        if (executions.length === 0) note('no rotation has run yet');
        for (const execution of executions) {
          const stopped = execution.stopDate ? `  ${execution.stopDate.toISOString()}` : '';
          out(
            `${execution.name}  ${execution.status}  ${execution.startDate?.toISOString() ?? '?'}${stopped}`,
          );
        }
      } finally {
        access.close();
      }
    });
}
