// `meshtrust rotate` against moto's Step Functions and CloudFormation: it starts an execution whose input
// says mode, reason and who (STS GetCallerIdentity), named after mode and time; refuses while one runs;
// follows the execution until it ends; finds the state machine through the stack's outputs.
import { randomUUID } from 'node:crypto';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

let sfn: SFNClient;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
beforeAll(() => {
  // The CLI builds its own clients from the environment, as after `source DIR/env` of a lab.
  process.env.AWS_ENDPOINT_URL = motoEndpoint();
  sfn = new SFNClient(motoClientConfig());
});
afterAll(() => {
  sfn.destroy();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

async function meshtrust(...args: string[]): Promise<CliRun> {
  return runMeshtrustInProcess(args);
}

async function createStateMachine(name = `meshtrust-${randomUUID().slice(0, 8)}`): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      roleArn: 'arn:aws:iam::123456789012:role/meshtrust-states',
      definition: JSON.stringify({
        StartAt: 'preflight',
        States: { preflight: { Type: 'Pass', End: true } },
      }),
    }),
  );
  return created.stateMachineArn as string;
}

async function executionsOf(stateMachineArn: string) {
  return (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
}

describe('meshtrust rotate', () => {
  it('starts an execution named after mode and time, with mode, reason and the caller in its input', async () => {
    // Prepare
    const arn = await createStateMachine();
    // Act
    const result = await meshtrust(
      'rotate',
      '--mode',
      'emergency',
      '--reason',
      'INC-42: key leak',
      '--state-machine-arn',
      arn,
      '--no-wait',
    );
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    const [execution] = await executionsOf(arn);
    expect(execution?.name).toMatch(/^emergency-\d{8}T\d{6}Z$/);
    expect(result.stdout).toBe(`started ${execution?.name}: ${execution?.executionArn}\n`);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution?.executionArn }));
    expect(JSON.parse(described.input ?? '{}')).toEqual({
      mode: 'emergency',
      reason: 'INC-42: key leak',
      // moto's STS answers GetCallerIdentity for the test credentials
      requestedBy: expect.stringMatching(/^arn:aws:(iam|sts)::\d{12}:/),
    });
  });

  it('refuses with exit 1 while another execution runs, and starts nothing', async () => {
    // Prepare
    const arn = await createStateMachine();
    await meshtrust('rotate', '--mode', 'scheduled', '--state-machine-arn', arn, '--no-wait');
    // Act
    const result = await meshtrust('rotate', '--mode', 'emergency', '--state-machine-arn', arn, '--no-wait');
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stderr).toMatch(/error: execution scheduled-\d{8}T\d{6}Z of the rotation is still running/);
    expect(await executionsOf(arn)).toHaveLength(1);
  });

  it('follows the execution until it ends and exits 1 when it did not succeed', async () => {
    // Prepare
    const arn = await createStateMachine();
    const following = meshtrust(
      'rotate',
      '--mode',
      'scheduled',
      '--state-machine-arn',
      arn,
      '--poll-seconds',
      '1',
    );
    let executions = await executionsOf(arn);
    while (executions.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      executions = await executionsOf(arn);
    }
    // Act
    await sfn.send(new StopExecutionCommand({ executionArn: executions[0]?.executionArn }));
    const result = await following;
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.checkFailed);
    expect(result.stdout).toContain(`${executions[0]?.name}: ABORTED`);
  });

  it('finds the state machine through the output StateMachineArn of stack meshtrust-<mesh id>', async () => {
    // Prepare
    const meshId = `m${randomUUID().slice(0, 8)}`;
    const arn = await createStateMachine(`meshtrust-${meshId}`);
    const cloudFormation = new CloudFormationClient(motoClientConfig());
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: `meshtrust-${meshId}`,
        TemplateBody: JSON.stringify({
          Resources: { Alarms: { Type: 'AWS::SNS::Topic' } },
          Outputs: { StateMachineArn: { Value: arn } },
        }),
      }),
    );
    cloudFormation.destroy();
    // Act
    const result = await meshtrust('rotate', '--mode', 'scheduled', '--mesh-id', meshId, '--no-wait');
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.ok);
    expect(await executionsOf(arn)).toHaveLength(1);
  });

  it('says to deploy, exit 3, when the stack does not exist', async () => {
    // Prepare, Act
    const result = await meshtrust(
      'rotate',
      '--mode',
      'scheduled',
      '--stack-name',
      'meshtrust-absent',
      '--no-wait',
    );
    // Assess
    expect(result.exitCode).toBe(EXIT_CODES.environment);
    expect(result.stderr).toContain('stack meshtrust-absent does not exist');
  });

  it('is a usage error without --mode, or with --mode intermediate and no --cluster', async () => {
    // Prepare, Act
    const noMode = await meshtrust('rotate', '--state-machine-arn', await createStateMachine());
    const noCluster = await meshtrust(
      'rotate',
      '--mode',
      'intermediate',
      '--state-machine-arn',
      await createStateMachine(),
    );
    // Assess
    expect(noMode.exitCode).toBe(EXIT_CODES.usage);
    expect(noMode.stderr).toContain("required option '--mode <mode>' not specified");
    expect(noCluster.exitCode).toBe(EXIT_CODES.usage);
    expect(noCluster.stderr).toContain('name it with --cluster NAME');
  });

  it('refuses a --reason longer than the audit trail keeps, before starting anything', async () => {
    // Prepare
    const stateMachineArn = await createStateMachine();
    // Act
    const long = await meshtrust(
      'rotate',
      '--mode',
      'scheduled',
      '--reason',
      'x'.repeat(513),
      '--state-machine-arn',
      stateMachineArn,
    );
    const longest = await meshtrust(
      'rotate',
      '--mode',
      'scheduled',
      '--reason',
      'x'.repeat(512),
      '--state-machine-arn',
      stateMachineArn,
      '--no-wait',
    );
    // Assess
    expect(long.exitCode).toBe(EXIT_CODES.usage);
    expect(long.stderr).toContain('--reason is 513 characters; the audit trail keeps at most 512');
    expect(longest.exitCode).toBe(EXIT_CODES.ok);
    expect(longest.stdout).toMatch(/^started scheduled-/m);
  });

  it('documents its options in --help', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('rotate', '--help');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    for (const option of [
      '--mode',
      '--cluster',
      '--reason',
      '--no-wait',
      '--state-machine-arn',
      '--stack-name',
      '--region',
      '--profile',
    ]) {
      expect(stdout).toContain(option);
    }
  });
});
