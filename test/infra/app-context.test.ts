import { Duration } from 'aws-cdk-lib';
import { meshTrustStackPropsFromContext } from '../../lib/app-context.js';
import { MeshTrustConfigError } from '../../lib/mesh-trust-config-error.js';

const reader = (context: Record<string, unknown>) => (key: string) => context[key];

describe('meshTrustStackPropsFromContext', () => {
  it('reads typed cdk.json values', () => {
    // WHEN
    const props = meshTrustStackPropsFromContext(
      reader({
        meshId: 'payments',
        clusters: ['eu-1', 'us-1'],
        region: 'eu-west-1',
        schedule: 'rate(365 days)',
        approval: true,
        soakHours: 12,
        maxConcurrency: 2,
        alarmEmail: 'oncall@example.com',
      }),
      {},
    );

    // THEN
    expect(props.stackName).toBe('meshtrust-payments');
    expect(props.env).toEqual({ account: undefined, region: 'eu-west-1' });
    expect(props.rotation).toEqual({
      meshId: 'payments',
      clusters: ['eu-1', 'us-1'],
      schedule: 'rate(365 days)',
      approval: true,
      soak: Duration.hours(12),
      maxConcurrency: 2,
      alarmEmail: 'oncall@example.com',
    });
  });

  it('reads the strings that `-c key=value` passes', () => {
    // WHEN
    const props = meshTrustStackPropsFromContext(
      reader({
        meshId: 'm',
        clusters: 'a, b',
        clusterTag: 'team=mesh-a',
        approval: 'false',
        distributedMaps: 'true',
        soakHours: '1.5',
        maxConcurrency: '8',
      }),
      { CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-east-1' },
    );

    // THEN
    expect(props.env).toEqual({ account: '123456789012', region: 'us-east-1' });
    expect(props.rotation).toMatchObject({
      clusters: ['a', 'b'],
      clusterTag: { key: 'team', value: 'mesh-a' },
      approval: false,
      distributedMaps: true,
      soak: Duration.hours(1.5),
      maxConcurrency: 8,
    });
  });

  it('reads the VPC to run the functions in, as a list or as `-c` strings', () => {
    // WHEN
    const typed = meshTrustStackPropsFromContext(
      reader({ meshId: 'payments', vpcId: 'vpc-1', subnetIds: ['subnet-a', 'subnet-b'] }),
      {},
    );
    const strings = meshTrustStackPropsFromContext(
      reader({
        meshId: 'payments',
        vpcId: 'vpc-1',
        subnetIds: 'subnet-a, subnet-b',
        securityGroupIds: 'sg-1',
      }),
      {},
    );

    // THEN
    expect(typed.network).toEqual({ vpcId: 'vpc-1', subnetIds: ['subnet-a', 'subnet-b'] });
    expect(strings.network).toEqual({
      vpcId: 'vpc-1',
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroupIds: ['sg-1'],
    });
  });

  it.each([
    ['vpcId without subnetIds', { vpcId: 'vpc-1' }, 'subnetIds'],
    ['subnetIds without vpcId', { subnetIds: 'subnet-a' }, 'vpcId'],
    ['securityGroupIds alone', { securityGroupIds: 'sg-1' }, 'securityGroupIds'],
  ])('refuses %s, naming the missing key', (_name, context, key) => {
    // WHEN
    const act = () => meshTrustStackPropsFromContext(reader({ meshId: 'payments', ...context }), {});

    // THEN
    expect(act).toThrow(/context (vpcId and subnetIds go together|securityGroupIds needs vpcId)/);
    expect(() => {
      try {
        act();
      } catch (error) {
        throw new Error(`property ${(error as MeshTrustConfigError).property}`);
      }
    }).toThrow(`property ${key}`);
  });

  it('leaves unset and null keys to the construct defaults and the stack environment-agnostic', () => {
    // WHEN
    const props = meshTrustStackPropsFromContext(
      reader({ meshId: 'm', clusters: [], clusterTag: null, alarmEmail: null }),
      {},
    );

    // THEN
    expect(props.env).toBeUndefined();
    expect(props.rotation).toEqual({ meshId: 'm' });
  });

  it.each([
    ['no meshId', {}, /meshId is required/],
    [
      'approval that is not a boolean',
      { meshId: 'm', approval: 'yes' },
      /approval must be true or false, got "yes"/,
    ],
    [
      'soakHours that is not a number',
      { meshId: 'm', soakHours: 'a day' },
      /soakHours must be a number, got "a day"/,
    ],
    ['a clusterTag without a value', { meshId: 'm', clusterTag: 'team' }, /clusterTag must be .* got "team"/],
  ])('rejects %s, naming the key and value', (_case, context, message) => {
    // WHEN / THEN
    expect(() => meshTrustStackPropsFromContext(reader(context), {})).toThrow(MeshTrustConfigError);
    expect(() => meshTrustStackPropsFromContext(reader(context), {})).toThrow(message);
  });
});
