// A function in moto under a meshtrust function's name, with the environment the stack would give it, so a
// CLI command that reads a deployed function's configuration (GetFunctionConfiguration) can be tested.
// moto's Lambda needs the function's role to exist in its IAM, and this project has no IAM client: one
// CloudFormation stack makes both. moto never runs the code (no Invoke here).
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { motoClientConfig } from './moto-endpoint.js';

/**
 * Creates function `functionName` with `environment` (in moto's default account, in `region`, by default
 * the tests' region); returns a function that deletes it again.
 */
export async function deployFunctionToMoto(
  functionName: string,
  environment: Readonly<Record<string, string>>,
  region = motoClientConfig().region,
): Promise<() => Promise<void>> {
  const client = new CloudFormationClient({ ...motoClientConfig(), region });
  const stackName = `fn-${randomUUID().slice(0, 8)}`;
  const template = {
    Resources: {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
        },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: functionName,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          Code: { ZipFile: 'exports.handler = async () => ({});' },
          Environment: { Variables: environment },
        },
      },
    },
  };
  try {
    await client.send(
      new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template) }),
    );
  } finally {
    client.destroy();
  }
  return async () => {
    const cleanup = new CloudFormationClient({ ...motoClientConfig(), region });
    try {
      await cleanup.send(new DeleteStackCommand({ StackName: stackName }));
    } finally {
      cleanup.destroy();
    }
  };
}
