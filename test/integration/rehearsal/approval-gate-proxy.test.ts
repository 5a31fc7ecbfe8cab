// An approval gate of a rehearsal as the AWS SDK sees it through the execution-history proxy: the
// Step Functions adapter answer-approval uses (RotationExecutions, SFNClient over HTTP) reads the
// waiting execution as RUNNING, finds the gate and its token in its history, and answers it; every
// other answer is refused with the error Step Functions names, which the SDK raises by that name.
// Anything else goes on to moto, as before.
import { SFNClient } from '@aws-sdk/client-sfn';
import { RotationExecutions } from '../../../lambdas/adapters/stepfunctions/rotation-executions.js';
import { pendingApprovalGate } from '../../../lambdas/core/rotation/pending-approval.js';
import { ApprovalGates, type GateHandle, mintTaskToken } from '../../../rehearsal/approval-gates.js';
import {
  type ExecutionHistoryProxy,
  startExecutionHistoryProxy,
} from '../../../rehearsal/execution-history-proxy.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';

const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:meshtrust-gate-rotation:rehearsal-1';

let proxy: ExecutionHistoryProxy;
let client: SFNClient;
let executions: RotationExecutions;
let gates: ApprovalGates;

beforeAll(async () => {
  gates = new ApprovalGates();
  const moto = motoClientConfig();
  proxy = await startExecutionHistoryProxy({ target: moto.endpoint, recorded: () => undefined, gates });
  client = new SFNClient({ ...moto, endpoint: proxy.endpoint, maxAttempts: 1 });
  executions = new RotationExecutions({ client });
});

afterAll(async () => {
  client?.destroy();
  await proxy?.stop();
});

function openGate(taskToken: string): GateHandle {
  return gates.open({
    executionArn: EXECUTION,
    state: 'approve-retire',
    resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    parameters: JSON.stringify({
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:meshtrust-gate-record-approval',
      Payload: { executionId: EXECUTION, gate: 'retire', mode: 'emergency', taskToken },
    }),
    taskToken,
    scheduledAt: new Date(),
  });
}

describe('an approval gate through the execution-history proxy, as the SDK sees it', () => {
  it('is found and answered once by its token; the SDK raises each refusal by its name', async () => {
    // Prepare
    const token = mintTaskToken();
    gates.executionStarted(EXECUTION, new Date());
    const gate = openGate(token);

    // Act
    const described = await executions.describe(EXECUTION);
    const pending = pendingApprovalGate(await executions.history(EXECUTION));
    await executions.approve(pending?.taskToken ?? '', { approvalId: 'a-1' });
    const again = await executions.approve(token, {}).catch((error: Error) => error.name);
    const unissued = await executions
      .reject(mintTaskToken(), 'ApprovalRejected', 'no')
      .catch((error: Error) => error.name);
    const malformed = await executions.approve('not-a-token', {}).catch((error: Error) => error.name);

    // Assess
    expect(described.status).toBe('RUNNING');
    expect(described.name).toBe('rehearsal-1');
    expect(pending).toEqual({ gate: 'retire', taskToken: token });
    expect(gate.answer()).toEqual({ kind: 'success', output: '{"approvalId":"a-1"}' });
    expect([again, unissued, malformed]).toEqual(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
    gate.close();
  });

  it('hands a SendTaskFailure to the gate', async () => {
    // Prepare
    const token = mintTaskToken();
    const gate = openGate(token);

    // Act
    await executions.reject(token, 'ApprovalRejected', 'rejected by the operator');

    // Assess
    expect(gate.answer()).toEqual({
      kind: 'failure',
      error: 'ApprovalRejected',
      cause: 'rejected by the operator',
    });
    gate.close();
  });

  it('leaves an execution waiting at no gate to moto', async () => {
    // Act
    const failure = await executions
      .describe('arn:aws:states:us-east-1:123456789012:execution:meshtrust-gate-rotation:unknown')
      .catch((error: Error) => error.name);

    // Assess
    expect(failure).toBe('ExecutionDoesNotExist');
  });
});
