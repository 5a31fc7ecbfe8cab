// The approval endpoint: meshtrust approve/reject answer a gate through a function URL with AWS_IAM
// auth, so the approver the run records is the IAM identity Lambda verified, not a name the client sends.
import type { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { User } from 'aws-cdk-lib/aws-iam';
import { APPROVAL_STATE_MACHINE_ARN_ENV, APPROVAL_URL_OUTPUT } from '../../lambdas/contract/approval.js';
import { LOCK_TABLE_NAME_ENV } from '../../lambdas/contract/rotation-lock.js';
import {
  aslOf,
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

describe('the approval endpoint', () => {
  let withApproval: SynthesizedMeshTrustStack;
  let withoutApproval: SynthesizedMeshTrustStack;

  beforeAll(() => {
    withApproval = synthMeshTrustStack(
      { approval: true },
      {
        prepareApp: (app) => {
          // An approver, granted as docs/deploy.md says.
          const stack = app.node.findChild('MeshTrustTest') as Stack;
          const rotation = stack.node.findChild('Rotation') as {
            approvalEndpoint?: { grantApprove(g: User): void };
          };
          rotation.approvalEndpoint?.grantApprove(new User(stack, 'Approver', { userName: 'approver' }));
        },
      },
    );
    withoutApproval = synthMeshTrustStack({ approval: false });
  });

  it('is a function URL with AWS_IAM auth on answer-approval, and the stack outputs its address', () => {
    // GIVEN
    const { template } = withApproval;
    const [[functionId]] = resourcesOfType(template, 'AWS::Lambda::Function').filter(
      ([, fn]) => fn.FunctionName === 'meshtrust-payments-answer-approval',
    ) as unknown as [[string]];

    // THEN
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [functionId, 'Arn'] },
    });
    expect(resourcesOfType(template, 'AWS::Lambda::Url')).toHaveLength(1);
    template.hasOutput(APPROVAL_URL_OUTPUT, { Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-answer-approval',
      Environment: {
        Variables: Match.objectLike({
          [APPROVAL_STATE_MACHINE_ARN_ENV]: {
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp(':stateMachine:meshtrust-payments-rotation$')]),
            ],
          },
        }),
      },
    });
  });

  it('runs as a role that reads the mesh executions, answers their tokens and records approvals, and reaches no secret or key', () => {
    // GIVEN
    const { template } = withApproval;
    const policies = resourcesOfType(template, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy.Roles ?? []).includes('ApprovalEndpointRole'),
    );
    const statements = policies.flatMap(
      ([, policy]) => (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const actions = statements.flatMap((statement) => [statement.Action].flat() as string[]);

    // THEN
    expect(actions.filter((action) => !/^(logs|xray):/.test(action)).sort()).toEqual(
      [
        'dynamodb:DeleteItem',
        'dynamodb:PutItem',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'states:SendTaskFailure',
        'states:SendTaskSuccess',
      ].sort(),
    );
    const answer = statements.find((statement) => statement.Sid === 'AnswerRotationTaskTokens');
    expect(JSON.stringify(answer?.Resource)).toMatch(/:stateMachine:meshtrust-payments-rotation"/);
    const read = statements.find((statement) => statement.Sid === 'ReadRotationExecutions');
    expect(JSON.stringify(read?.Resource)).toMatch(/:execution:meshtrust-payments-rotation:\*"/);
    const records = statements.find((statement) => statement.Sid === 'RecordApprovals');
    expect(records?.Resource).toEqual({ 'Fn::GetAtt': [lockTableId(template), 'Arn'] });
    expect(records?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['approval/*'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-answer-approval',
      Environment: {
        Variables: Match.objectLike({ [LOCK_TABLE_NAME_ENV]: { Ref: lockTableId(template) } }),
      },
    });
  });

  it('is the only role that may write an approval record: every other write to the lock table is held to the lock item', () => {
    // GIVEN
    const { template } = withApproval;
    const table = lockTableId(template);
    const writes = resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([id, policy]) =>
      (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.filter(
        (statement) =>
          JSON.stringify(statement.Resource).includes(table) &&
          [statement.Action]
            .flat()
            .some((action) =>
              /^dynamodb:(PutItem|DeleteItem|UpdateItem|BatchWriteItem|\*)$/.test(String(action)),
            ),
      ).map((statement) => ({ id, statement })),
    );

    // THEN: the endpoint's statement under approval/*, all the others under rotation/*
    expect(writes.length).toBeGreaterThan(2);
    const keysOf = (statement: Record<string, unknown>) =>
      (statement.Condition as Record<string, Record<string, unknown>> | undefined)?.[
        'ForAllValues:StringLike'
      ]?.['dynamodb:LeadingKeys'];
    const approvalWriters = writes.filter(
      ({ statement }) => JSON.stringify(keysOf(statement)) !== '["rotation/*"]',
    );
    expect(
      approvalWriters.map(({ id, statement }) => [id.replace(/[0-9A-F]{8}$/, ''), statement.Sid]),
    ).toEqual([['RotationApprovalEndpointRoleDefaultPolicy', 'RecordApprovals']]);
    expect(keysOf(approvalWriters[0]?.statement ?? {})).toEqual(['approval/*']);
  });

  it("hands each gate's result to the step after it, which checks it: reissue-intermediate and retire-root", () => {
    // GIVEN
    const states = aslOf(withApproval).States as Record<string, { ItemSelector?: Record<string, unknown> }>;
    const without = aslOf(withoutApproval).States as Record<
      string,
      { ItemSelector?: Record<string, unknown> }
    >;

    // THEN
    expect(states['reissue-intermediate']?.ItemSelector).toMatchObject({
      'approval.$': '$.approvals.reissue',
    });
    expect(states['retire-root']?.ItemSelector).toMatchObject({ 'approval.$': '$.approvals.retire' });
    const withApprovalField = Object.entries(states)
      .filter(([, state]) => state.ItemSelector?.['approval.$'] !== undefined)
      .map(([name]) => name);
    expect(withApprovalField.sort()).toEqual(['reissue-intermediate', 'retire-root']);
    expect(Object.values(without).some((state) => state.ItemSelector?.['approval.$'] !== undefined)).toBe(
      false,
    );
  });

  it('lets an approver invoke it through the URL only, never by a plain Invoke that could forge the identity', () => {
    // GIVEN
    const approverPolicy = resourcesOfType(withApproval.template, 'AWS::IAM::Policy').find(([, policy]) =>
      JSON.stringify(policy.Users ?? []).includes('Approver'),
    )?.[1];
    const statements =
      (approverPolicy?.PolicyDocument as { Statement: Record<string, unknown>[] } | undefined)?.Statement ??
      [];

    // THEN
    const invoke = statements.filter((statement) =>
      [statement.Action].flat().includes('lambda:InvokeFunction'),
    );
    expect(invoke.length).toBeGreaterThan(0);
    for (const statement of invoke) {
      expect(statement.Condition).toEqual({ Bool: { 'lambda:InvokedViaFunctionUrl': true } });
    }
    expect(statements.flatMap((statement) => [statement.Action].flat())).toContain(
      'lambda:InvokeFunctionUrl',
    );
  });

  it('does not exist without approval gates', () => {
    // THEN
    expect(resourcesOfType(withoutApproval.template, 'AWS::Lambda::Url')).toEqual([]);
    expect(Object.keys(withoutApproval.template.findOutputs(APPROVAL_URL_OUTPUT))).toEqual([]);
  });
});

/** The logical id of the rotation lock's table (the approval records live there too). */
function lockTableId(template: SynthesizedMeshTrustStack['template']): string {
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  expect(tables).toHaveLength(1);
  return (tables[0] as [string, unknown])[0];
}
