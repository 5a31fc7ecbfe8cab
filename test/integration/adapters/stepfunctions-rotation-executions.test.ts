// RotationExecutions and readStackOutput against moto's Step Functions and CloudFormation: start refuses
// while an execution runs, list and describe see what was started, and the state machine ARN is read
// from the stack's outputs, with errors that name the stack and output when they are missing.
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { CreateStateMachineCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { RotationExecutions } from '../../../lambdas/adapters/stepfunctions/rotation-executions.js';
import {
  readStackOutput,
  STATE_MACHINE_ARN_OUTPUT,
} from '../../../lambdas/adapters/stepfunctions/stack-outputs.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';

let sfn: SFNClient;
let cloudFormation: CloudFormationClient;
beforeAll(() => {
  sfn = new SFNClient(motoClientConfig());
  cloudFormation = new CloudFormationClient(motoClientConfig());
});
afterAll(() => {
  sfn.destroy();
  cloudFormation.destroy();
});

async function createStateMachine(): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `meshtrust-${randomUUID().slice(0, 8)}`,
      roleArn: 'arn:aws:iam::123456789012:role/meshtrust-states',
      definition: JSON.stringify({
        StartAt: 'preflight',
        States: { preflight: { Type: 'Pass', End: true } },
      }),
    }),
  );
  return created.stateMachineArn as string;
}

describe('RotationExecutions', () => {
  it('starts an execution with its input, and lists and describes it as running', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine();
    const executions = new RotationExecutions({ client: sfn });
    // Act
    const started = await executions.start({
      stateMachineArn,
      name: 'scheduled-20261125T120000Z',
      input: { mode: 'scheduled', reason: 'annual rotation', requestedBy: 'alice' },
    });
    // Assess
    const described = await executions.describe(started.executionArn);
    expect(described).toMatchObject({ name: 'scheduled-20261125T120000Z', status: 'RUNNING' });
    expect(JSON.parse(described.input ?? '{}')).toEqual({
      mode: 'scheduled',
      reason: 'annual rotation',
      requestedBy: 'alice',
    });
    const running = await executions.list(stateMachineArn, { status: 'RUNNING' });
    expect(running.map((e) => e.executionArn)).toEqual([started.executionArn]);
  });

  it('refuses to start a second execution while one runs, naming the running one', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine();
    const executions = new RotationExecutions({ client: sfn });
    const first = await executions.start({ stateMachineArn, name: 'first', input: { mode: 'scheduled' } });
    // Act
    const error = await executions
      .start({ stateMachineArn, name: 'second', input: { mode: 'emergency' } })
      .catch((e: Error) => e);
    // Assess
    expect(error).toMatchObject({
      name: 'ExecutionAlreadyRunningError',
      runningExecutionArn: first.executionArn,
    });
    expect((error as Error).message).toContain('execution first of the rotation is still running');
    expect(await executions.list(stateMachineArn)).toHaveLength(1);
  });

  it('starts again once the running execution has stopped, and lists both with their status', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine();
    const executions = new RotationExecutions({ client: sfn });
    const first = await executions.start({ stateMachineArn, name: 'first', input: { mode: 'scheduled' } });
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    // Act
    await executions.start({ stateMachineArn, name: 'second', input: { mode: 'scheduled' } });
    // Assess
    const all = await executions.list(stateMachineArn);
    expect(all.map((e) => [e.name, e.status]).sort()).toEqual([
      ['first', 'ABORTED'],
      ['second', 'RUNNING'],
    ]);
  });

  it('reads the execution history as Step Functions returns it', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine();
    const executions = new RotationExecutions({ client: sfn });
    const started = await executions.start({ stateMachineArn, name: 'h', input: { mode: 'scheduled' } });
    // Act
    const events = await executions.history(started.executionArn);
    // Assess: moto returns a fixed sample history; what matters is the shape the CLI reads.
    expect(events[0]?.type).toBe('ExecutionStarted');
    expect(events.every((event) => typeof event.id === 'number')).toBe(true);
  });
});

describe('readStackOutput', () => {
  it("reads the state machine ARN from the stack's outputs", async () => {
    // Prepare
    const stackName = `meshtrust-${randomUUID().slice(0, 8)}`;
    const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:meshtrust-prod';
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({
          Resources: { Alarms: { Type: 'AWS::SNS::Topic' } },
          Outputs: { [STATE_MACHINE_ARN_OUTPUT]: { Value: arn } },
        }),
      }),
    );
    // Act
    const value = await readStackOutput(cloudFormation, stackName, STATE_MACHINE_ARN_OUTPUT);
    // Assess
    expect(value).toBe(arn);
  });

  it('names the stack and says to deploy when the stack does not exist', async () => {
    // Prepare, Act
    const error = await readStackOutput(cloudFormation, 'meshtrust-nowhere', STATE_MACHINE_ARN_OUTPUT).catch(
      (e: Error) => e,
    );
    // Assess
    expect(error).toMatchObject({ name: 'StackOutputNotFoundError', stackName: 'meshtrust-nowhere' });
    expect((error as Error).message).toContain('stack meshtrust-nowhere does not exist');
  });

  it('names the output when the stack has no such output', async () => {
    // Prepare
    const stackName = `other-${randomUUID().slice(0, 8)}`;
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({ Resources: { Alarms: { Type: 'AWS::SNS::Topic' } } }),
      }),
    );
    // Act
    const error = await readStackOutput(cloudFormation, stackName, STATE_MACHINE_ARN_OUTPUT).catch(
      (e: Error) => e,
    );
    // Assess
    expect(error).toMatchObject({ name: 'StackOutputNotFoundError', outputKey: 'StateMachineArn' });
    expect((error as Error).message).toContain(`stack ${stackName} has no output StateMachineArn`);
  });
});
