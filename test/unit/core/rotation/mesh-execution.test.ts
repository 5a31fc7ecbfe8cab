import { meshExecutionArn } from '../../../../lambdas/core/rotation/mesh-execution.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:meshtrust-payments-rotation';
const PREFIX = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:';

describe('meshExecutionArn', () => {
  it("gives the ARN of an execution named by its name, in the mesh's state machine", () => {
    // Act, Assess
    expect(meshExecutionArn(STATE_MACHINE, 'scheduled-1')).toBe(`${PREFIX}scheduled-1`);
  });

  it("takes an execution ARN of the mesh's state machine as it is", () => {
    // Act, Assess
    expect(meshExecutionArn(STATE_MACHINE, `${PREFIX}scheduled-1`)).toBe(`${PREFIX}scheduled-1`);
  });

  it('refuses an execution of another state machine, account or partition', () => {
    // Act, Assess
    expect(
      meshExecutionArn(STATE_MACHINE, 'arn:aws:states:eu-west-1:123456789012:execution:other-rotation:run-1'),
    ).toBeUndefined();
    expect(
      meshExecutionArn(
        STATE_MACHINE,
        'arn:aws:states:eu-west-1:999999999999:execution:meshtrust-payments-rotation:run-1',
      ),
    ).toBeUndefined();
    expect(
      meshExecutionArn(
        STATE_MACHINE,
        'arn:aws-cn:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:run-1',
      ),
    ).toBeUndefined();
  });

  it('refuses an ARN without a name, or with more segments than an execution has', () => {
    // Act, Assess
    expect(meshExecutionArn(STATE_MACHINE, PREFIX)).toBeUndefined();
    expect(meshExecutionArn(STATE_MACHINE, `${PREFIX}run-1:extra`)).toBeUndefined();
  });

  it('refuses a name Step Functions would not give an execution', () => {
    // Act, Assess
    expect(meshExecutionArn(STATE_MACHINE, 'run 1')).toBeUndefined();
    expect(meshExecutionArn(STATE_MACHINE, 'x'.repeat(81))).toBeUndefined();
  });

  it('answers nothing for a state machine ARN that is no such ARN', () => {
    // Act, Assess
    expect(meshExecutionArn('', 'scheduled-1')).toBeUndefined();
  });
});
