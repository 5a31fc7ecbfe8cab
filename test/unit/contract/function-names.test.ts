import {
  rotationFunctionArnOf,
  rotationFunctionName,
  rotationStateMachineName,
} from '../../../lambdas/contract/function-names.js';

describe('rotationFunctionArnOf', () => {
  it("names the mesh's function in the state machine's partition, region and account", () => {
    // Prepare
    const stateMachineArn = `arn:aws-cn:states:cn-north-1:210987654321:stateMachine:${rotationStateMachineName('pay-ments')}`;
    // Act
    const arn = rotationFunctionArnOf(stateMachineArn, 'acquire-lock');
    // Assess
    expect(arn).toBe(
      `arn:aws-cn:lambda:cn-north-1:210987654321:function:${rotationFunctionName('pay-ments', 'acquire-lock')}`,
    );
    expect(arn).toBe('arn:aws-cn:lambda:cn-north-1:210987654321:function:meshtrust-pay-ments-acquire-lock');
  });

  it('is undefined for a state machine the stack did not name', () => {
    // Act
    const renamed = rotationFunctionArnOf(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:rotation',
      'acquire-lock',
    );
    const notAStateMachine = rotationFunctionArnOf('meshtrust-prod-rotation', 'acquire-lock');
    // Assess
    expect([renamed, notAStateMachine]).toEqual([undefined, undefined]);
  });
});
