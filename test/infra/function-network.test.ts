// The functions in a VPC, for clusters whose API endpoint is private: the template's VpcConfig and
// security group, from the ids cdk.json context gives.

import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { MeshTrustConfigError } from '../../lib/mesh-trust-config-error.js';
import { MeshTrustRotation } from '../../lib/mesh-trust-rotation.js';
import { resourcesOfType, synthMeshTrustStack, TEST_ENV } from './synth-mesh-trust-stack.js';

const SUBNETS = ['subnet-0a1', 'subnet-0b2'];

describe('functions in a VPC', () => {
  it('runs every rotation function in the given subnets, behind one group that only speaks HTTPS out', () => {
    // GIVEN
    const { template } = synthMeshTrustStack({}, { network: { vpcId: 'vpc-0a1b2c3d', subnetIds: SUBNETS } });
    const groups = resourcesOfType(template, 'AWS::EC2::SecurityGroup');
    const functions = resourcesOfType(template, 'AWS::Lambda::Function').filter(([, props]) =>
      String(props.FunctionName).startsWith('meshtrust-payments-'),
    );

    // THEN
    expect(groups).toHaveLength(1);
    const [groupId, group] = groups[0] as [string, Record<string, unknown>];
    expect(group.VpcId).toBe('vpc-0a1b2c3d');
    expect(group.SecurityGroupIngress).toBeUndefined();
    expect(group.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: expect.any(String), FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    expect(functions.length).toBeGreaterThan(10);
    for (const [, props] of functions) {
      expect(props.VpcConfig).toEqual({
        SubnetIds: SUBNETS,
        SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }],
      });
    }
    template.hasOutput('FunctionsSecurityGroupId', { Value: { 'Fn::GetAtt': [groupId, 'GroupId'] } });
    // Lambda needs the role to manage the function's network interfaces (CDK adds nothing to a given role).
    for (const [, props] of functions) {
      const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = resourcesOfType(template, 'AWS::IAM::Policy')
        .filter(([, policy]) => (policy.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
        .flatMap(([, policy]) => (policy.PolicyDocument as { Statement: { Sid?: string }[] }).Statement);
      expect(statements.find((statement) => statement.Sid === 'AttachToVpc')).toMatchObject({
        Action: expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface']),
        Resource: '*',
      });
    }
  });

  it("uses the operator's security groups when given, and makes none", () => {
    // GIVEN
    const { template } = synthMeshTrustStack(
      {},
      { network: { vpcId: 'vpc-0a1b2c3d', subnetIds: SUBNETS, securityGroupIds: ['sg-0c3d4e5f60718293a'] } },
    );

    // THEN
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-preflight',
      VpcConfig: { SubnetIds: SUBNETS, SecurityGroupIds: ['sg-0c3d4e5f60718293a'] },
    });
    expect(Object.keys(template.findOutputs('FunctionsSecurityGroupId'))).toEqual([]);
  });

  it('puts no function in a VPC unless asked', () => {
    // GIVEN
    const { template } = synthMeshTrustStack();

    // THEN
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.allResourcesProperties('AWS::Lambda::Function', { VpcConfig: Match.absent() });
  });

  it('refuses subnets or security groups without a VPC, naming the property', () => {
    // GIVEN
    const stack = new Stack(undefined, 'Refuse', { env: TEST_ENV });
    const vpc = new Vpc(stack, 'Vpc');

    // WHEN
    let error: unknown;
    try {
      new MeshTrustRotation(stack, 'Rotation', {
        meshId: 'payments',
        vpcSubnets: { subnets: vpc.privateSubnets },
      });
    } catch (caught) {
      error = caught;
    }

    // THEN
    expect(error).toBeInstanceOf(MeshTrustConfigError);
    expect((error as Error).message).toMatch(
      /vpcSubnets and securityGroups place the functions in a VPC: give vpc too/,
    );
  });
});
