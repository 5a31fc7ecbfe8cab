import {
  DefinitionResolveError,
  referencedLogicalIds,
  resolveDefinition,
  stateMachineLogicalIds,
} from '../../rehearsal/resolve-definition.js';

// A template shaped like CDK's output: the definition is a Fn::Join of text, GetAtt and Ref pieces.
const template = {
  Resources: {
    Fn1: { Type: 'AWS::Lambda::Function', Properties: {} },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"a","States":{"a":{"Type":"Task","Resource":"',
              { 'Fn::GetAtt': ['Fn1', 'Arn'] },
              '","End":true,"Comment":"',
              { Ref: 'AWS::Partition' },
              ':',
              { Ref: 'AWS::Region' },
              '"}}}',
            ],
          ],
        },
      },
    },
  },
};

describe('resolveDefinition', () => {
  it('replaces GetAtt Arn with the given ARN and pseudo parameters with their defaults', () => {
    // GIVEN
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:one';

    // WHEN
    const asl = resolveDefinition(template, { arns: { Fn1: arn } });

    // THEN
    expect(asl).toEqual({
      StartAt: 'a',
      States: { a: { Type: 'Task', Resource: arn, End: true, Comment: 'aws:us-east-1' } },
    });
  });

  it('uses the pseudo parameter values it is given', () => {
    // GIVEN
    const pseudo = { 'AWS::Partition': 'aws-cn', 'AWS::Region': 'cn-north-1' };

    // WHEN
    const asl = resolveDefinition(template, { arns: { Fn1: 'x' }, pseudo }) as {
      States: { a: { Comment: string } };
    };

    // THEN
    expect(asl.States.a.Comment).toBe('aws-cn:cn-north-1');
  });

  it('names the logical id whose ARN is missing', () => {
    // WHEN / THEN
    expect(() => resolveDefinition(template, { arns: {} })).toThrow(DefinitionResolveError);
    expect(() => resolveDefinition(template, { arns: {} })).toThrow(/references Fn1; pass its ARN/);
  });

  it('lists the logical ids the definition references, pseudo parameters excluded', () => {
    // WHEN
    const ids = referencedLogicalIds(template);

    // THEN
    expect(ids).toEqual(['Fn1']);
    expect(stateMachineLogicalIds(template)).toEqual(['Machine']);
  });

  it('refuses to guess between several state machines', () => {
    // GIVEN
    const two = { Resources: { ...template.Resources, Other: template.Resources.Machine } };

    // WHEN / THEN
    expect(() => resolveDefinition(two, { arns: { Fn1: 'x' } })).toThrow(/cannot pick a state machine/);
    expect(resolveDefinition(two, { arns: { Fn1: 'x' }, stateMachineLogicalId: 'Other' })).toHaveProperty(
      'StartAt',
      'a',
    );
  });
});
