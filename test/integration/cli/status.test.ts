// `meshtrust status`, `history`, `approve` and `reject` against moto's Step Functions: status shows the
// newest (or the named) execution with its input, history lists executions, and approve refuses with
// exit 1 an execution that waits at no gate (moto's histories never hold a task token; finding one is
// specified in status-execution-history.test.ts).
import { randomUUID } from 'node:crypto';
import { CreateStateMachineCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { StatusReport } from '../../../bin/commands/status.js';
import { RotationExecutions } from '../../../lambdas/adapters/stepfunctions/rotation-executions.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';
import { type CliRun, runMeshtrustInProcess } from './in-process-cli.js';

let sfn: SFNClient;
let stateMachineArn: string;
const savedEndpoint = process.env.AWS_ENDPOINT_URL;
beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL = motoEndpoint();
  sfn = new SFNClient(motoClientConfig());
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
  stateMachineArn = created.stateMachineArn as string;
  const executions = new RotationExecutions({ client: sfn });
  const first = await executions.start({
    stateMachineArn,
    name: 'scheduled-20251125T090000Z',
    input: { mode: 'scheduled', reason: 'annual rotation', requestedBy: 'schedule' },
  });
  await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  await executions.start({
    stateMachineArn,
    name: 'intermediate-20261125T090000Z',
    input: { mode: 'intermediate', cluster: 'prod-eu-1', reason: 'rekey', requestedBy: 'alice' },
  });
});
afterAll(() => {
  sfn.destroy();
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

async function meshtrust(...args: string[]): Promise<CliRun> {
  return runMeshtrustInProcess([...args, '--state-machine-arn', stateMachineArn]);
}

describe('meshtrust status', () => {
  it('shows the newest execution with its mode, cluster, reason and who started it', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('status');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/^intermediate-20261125T090000Z {2}RUNNING$/m);
    expect(stdout).toContain('mode      intermediate (cluster prod-eu-1)');
    expect(stdout).toContain('reason    rekey');
    expect(stdout).toContain('by        alice');
  });

  it('shows a named execution as JSON, without any task token', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('status', 'scheduled-20251125T090000Z', '--json');
    // Assess
    const report = JSON.parse(stdout) as StatusReport;
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(report).toMatchObject({
      name: 'scheduled-20251125T090000Z',
      status: 'ABORTED',
      input: { mode: 'scheduled' },
    });
    expect(report.pendingApproval).toBeUndefined();
    expect(stdout).not.toContain('taskToken');
  });

  it('says exit 3 for an execution that does not exist', async () => {
    // Prepare, Act
    const { exitCode, stderr } = await meshtrust('status', 'nothing-like-it');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.environment);
    expect(stderr).toContain('could not read execution nothing-like-it');
  });
});

describe('meshtrust history', () => {
  it('lists every execution with its status', async () => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust('history');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toMatch(/^intermediate-20261125T090000Z {2}RUNNING {2}\S+$/m);
    expect(stdout).toMatch(/^scheduled-20251125T090000Z {2}ABORTED {2}\S+ {2}\S+$/m);
  });
});

describe('meshtrust approve and reject', () => {
  it('refuses, exit 1, to approve an execution that waits at no approval gate', async () => {
    // Prepare, Act
    const { exitCode, stderr } = await meshtrust('approve', 'intermediate-20261125T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.checkFailed);
    expect(stderr).toContain('execution intermediate-20261125T090000Z (RUNNING) waits at no approval gate');
  });

  it('requires a reason to reject', async () => {
    // Prepare, Act
    const { exitCode, stderr } = await meshtrust('reject', 'intermediate-20261125T090000Z');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.usage);
    expect(stderr).toContain("required option '--reason <text>' not specified");
  });

  it.each(['status', 'history', 'approve', 'reject'])('documents %s in --help', async (command) => {
    // Prepare, Act
    const { exitCode, stdout } = await meshtrust(command, '--help');
    // Assess
    expect(exitCode).toBe(EXIT_CODES.ok);
    expect(stdout).toContain(`Usage: meshtrust ${command}`);
    expect(stdout).toContain('--state-machine-arn');
  });
});
