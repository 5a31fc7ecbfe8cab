import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { StackOutputNotFoundError } from './stepfunctions-errors.js';

/** The output of the meshtrust stack (lib/mesh-trust-stack.ts) that names the rotation state machine. */
export const STATE_MACHINE_ARN_OUTPUT = 'StateMachineArn';

/** The stack name the CDK app gives mesh `meshId` (lib/app-context.ts). */
export function meshStackName(meshId: string): string {
  return `meshtrust-${meshId}`;
}

/** Reads one output value of a deployed stack; StackOutputNotFoundError when the stack or output is missing. */
export async function readStackOutput(
  client: CloudFormationClient,
  stackName: string,
  outputKey: string,
): Promise<string> {
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = answer.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message)) {
      throw new StackOutputNotFoundError(
        `stack ${stackName} does not exist in this account and region; deploy meshtrust (docs/deploy.md), or check ` +
          'the region, the mesh id and the stack name',
        { stackName, outputKey },
        { cause: error },
      );
    }
    throw error;
  }
  const value = outputs.find((output) => output.OutputKey === outputKey)?.OutputValue;
  if (value === undefined || value === '') {
    throw new StackOutputNotFoundError(
      `stack ${stackName} has no output ${outputKey}; is it a meshtrust stack? Redeploy it, or pass the ARN directly`,
      { stackName, outputKey },
    );
  }
  return value;
}
