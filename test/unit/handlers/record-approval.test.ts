// record-approval receives the approval gate's task token, a capability to approve or reject the run:
// it writes that a token was issued, never the token, in its log lines, its output and its errors.
import { handler as recordApproval } from '../../../lambdas/handlers/record-approval.js';
import { captureLogLines } from '../../support/capture-output.js';

const EXECUTION_ID = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-unit-rotation:run-1';
// Shaped like a real token (base64 text); only its absence from every output matters.
const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAb3Vy+Y2FwYWJpbGl0eQ/token/value==';

let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = {
    MESH_ID: process.env.MESH_ID,
    AWS_REGION: process.env.AWS_REGION,
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED,
  };
  Object.assign(process.env, {
    MESH_ID: 'unit',
    AWS_REGION: 'eu-west-1',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('record-approval', () => {
  it('writes one audit event saying a token was issued, and the token nowhere', async () => {
    // Prepare
    const event = { executionId: EXECUTION_ID, gate: 'retire', mode: 'scheduled', taskToken: TASK_TOKEN };

    // Act
    const { result, lines } = await captureLogLines(() => recordApproval(event));

    // Assess
    expect(result).toEqual({ gate: 'retire', requestedAt: expect.any(String) });
    const audit = lines.map((line) => JSON.parse(line)).filter((line) => line.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        phase: 'retire-root',
        action: 'approval-requested',
        executionId: EXECUTION_ID,
        detail: { gate: 'retire', mode: 'scheduled', taskTokenIssued: true },
      }),
    ]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TASK_TOKEN);
    expect(JSON.stringify(result)).not.toContain(TASK_TOKEN);
  });

  it("carries the Lambda context's request id on each of its log lines", async () => {
    // Prepare
    const event = { executionId: EXECUTION_ID, gate: 'reissue', mode: 'scheduled', taskToken: TASK_TOKEN };
    const context = {
      awsRequestId: '5f1b8c2e-approval-request',
      functionName: 'meshtrust-unit-record-approval',
    };

    // Act
    const { lines } = await captureLogLines(() => recordApproval(event, context));

    // Assess: the audit event among them
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.some((line) => line.audit === true)).toBe(true);
    for (const line of parsed) expect(line.function_request_id).toBe(context.awsRequestId);
  });

  it('refuses an invalid event without the token in its error or its log lines', async () => {
    // Prepare: a wrong gate next to a real-looking token
    const event = { executionId: EXECUTION_ID, gate: 'promote', taskToken: TASK_TOKEN };

    // Act
    const { result: error, lines } = await captureLogLines(() =>
      recordApproval(event).then(
        () => undefined,
        (thrown: unknown) => thrown as Error,
      ),
    );

    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed' });
    expect(error?.message).toContain('gate');
    expect(`${error?.message} ${error?.stack} ${JSON.stringify(error)}`).not.toContain(TASK_TOKEN);
    expect(lines.join('\n')).not.toContain(TASK_TOKEN);
  });
});
