// Which rotation state machine the execution commands talk to: --state-machine-arn, or the output
// StateMachineArn of the mesh's stack (--stack-name, default meshtrust-<mesh id>), and the clients for it.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { LAB_MESH_ID_ENV } from '../../lab/lab-files.js';
import { RotationExecutions } from '../../lambdas/adapters/stepfunctions/rotation-executions.js';
import {
  meshStackName,
  readStackOutput,
  STATE_MACHINE_ARN_OUTPUT,
} from '../../lambdas/adapters/stepfunctions/stack-outputs.js';
import {
  ExecutionAlreadyRunningError,
  StepFunctionsError,
} from '../../lambdas/adapters/stepfunctions/stepfunctions-errors.js';
import { MESH_ID_ENV } from '../../lambdas/contract/function-environment.js';
import { type AwsOptions, addAwsOptions, applyAwsOptions, meshIdOf } from './aws-options.js';
import { CliError, EnvironmentError, EXIT_CODES, UsageError } from './cli-errors.js';
import { integerBetween, matching } from './option-parsers.js';

export interface StateMachineOptions extends AwsOptions {
  readonly stateMachineArn?: string;
  readonly stackName?: string;
  readonly meshId?: string;
}

/** --no-wait and --poll-seconds, for the commands that start an execution and follow it. */
export function addFollowOptions(command: Command): Command {
  return command
    .option('--no-wait', 'return once the execution has started')
    .option(
      '--poll-seconds <n>',
      'how often to check the execution while following it',
      integerBetween(1, 300),
      10,
    );
}

export function addStateMachineOptions(command: Command): Command {
  return addAwsOptions(command)
    .option(
      '--state-machine-arn <arn>',
      'the rotation state machine (default: output StateMachineArn of the stack)',
      matching(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/, 'a state machine ARN'),
    )
    .option('--stack-name <name>', 'the meshtrust stack (default: meshtrust-<mesh id>)')
    .option(
      '--mesh-id <id>',
      `mesh id, for the default stack name (default: $${MESH_ID_ENV}, $${LAB_MESH_ID_ENV})`,
    );
}

export interface StateMachineAccess {
  readonly region: string;
  readonly stateMachineArn: string;
  readonly executions: RotationExecutions;
  close(): void;
}

/** Resolves the state machine ARN and opens the Step Functions client. */
export async function openStateMachine(
  options: StateMachineOptions,
  env: NodeJS.ProcessEnv,
): Promise<StateMachineAccess> {
  const region = applyAwsOptions(options, env);
  const sfn = new SFNClient({ region });
  try {
    const stateMachineArn = options.stateMachineArn ?? (await arnFromStack(options, env, region));
    return {
      region,
      stateMachineArn,
      executions: new RotationExecutions({ client: sfn }),
      close: () => sfn.destroy(),
    };
  } catch (error) {
    sfn.destroy();
    throw error;
  }
}

async function arnFromStack(
  options: StateMachineOptions,
  env: NodeJS.ProcessEnv,
  region: string,
): Promise<string> {
  const meshId = meshIdOf(options, env);
  const stackName = options.stackName ?? (meshId ? meshStackName(meshId) : undefined);
  if (stackName === undefined) {
    throw new UsageError(
      'say which state machine: --state-machine-arn ARN, --stack-name NAME or --mesh-id ID (stack meshtrust-<id>)',
    );
  }
  const cloudFormation = new CloudFormationClient({ region });
  try {
    return await readStackOutput(cloudFormation, stackName, STATE_MACHINE_ARN_OUTPUT);
  } catch (error) {
    throw asCliError(error, `read the outputs of stack ${stackName}`);
  } finally {
    cloudFormation.destroy();
  }
}

/**
 * Starts an execution named `name`: a rotation already running is a failed check (exit 1) that says
 * which, any other failure an environment error.
 */
export async function startExecution(
  access: StateMachineAccess,
  name: string,
  input: object,
): Promise<{ readonly executionArn: string }> {
  try {
    return await access.executions.start({
      stateMachineArn: access.stateMachineArn,
      name,
      input: { ...input },
    });
  } catch (error) {
    if (error instanceof ExecutionAlreadyRunningError) {
      throw new CliError(error.message, EXIT_CODES.checkFailed, { cause: error });
    }
    throw asCliError(error, `start an execution of ${access.stateMachineArn}`);
  }
}

/** AWS failures become environment errors (exit 3) that say what could not be done. */
export function asCliError(error: unknown, what: string): Error {
  if (error instanceof CliError) return error;
  if (error instanceof StepFunctionsError) return new EnvironmentError(error.message, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return new EnvironmentError(
    `could not ${what}: ${reason}. Check the credentials (--profile), the region (--region) and the ARN or stack name`,
    { cause: error },
  );
}

/** An execution named by its ARN, or by its name within the state machine. */
export function executionArnOf(stateMachineArn: string, execution: string): string {
  if (execution.startsWith('arn:')) return execution;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${execution}`;
}

/** The execution to show when none is named: the newest one. */
export async function newestExecutionArn(access: StateMachineAccess): Promise<string> {
  const [newest] = await access.executions.list(access.stateMachineArn, { max: 1 });
  if (newest === undefined) {
    throw new EnvironmentError(
      `state machine ${access.stateMachineArn} has no executions yet; start one with meshtrust rotate`,
    );
  }
  return newest.executionArn;
}
