import { Match } from 'aws-cdk-lib/assertions';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TAKEOVER_GRACE_SECONDS_ENV,
} from '../../lambdas/contract/rotation-lock.js';
import { HANDLER_NAMES } from '../../lib/handler-entries.js';
import {
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
} from './synth-mesh-trust-stack.js';

interface PolicyStatementJson {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statementsOf(synthesized: SynthesizedMeshTrustStack, roleIdPrefix: string): PolicyStatementJson[] {
  return resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
    .filter(([, props]) => JSON.stringify(props.Roles).includes(roleIdPrefix))
    .flatMap(([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
}

const actionsOf = (statement: PolicyStatementJson) => [statement.Action].flat();

describe('MeshTrustStack', () => {
  let byTag: SynthesizedMeshTrustStack;
  let explicit: SynthesizedMeshTrustStack;

  beforeAll(() => {
    byTag = synthMeshTrustStack({ alarmEmail: 'oncall@example.com' });
    explicit = synthMeshTrustStack({ clusters: ['eu-1', 'us-1'], schedule: 'rate(365 days)' });
  });

  it('keeps the CA key with yearly key rotation and creates no secret', () => {
    // THEN
    byTag.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('CA secrets of mesh payments'),
    });
    byTag.template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    byTag.template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/meshtrust/payments/ca' });
    byTag.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('deploys one arm64 Node.js 24 function per handler, traced, with its own encrypted log group', () => {
    // GIVEN
    const functions = resourcesOfType(byTag.template, 'AWS::Lambda::Function');

    // THEN
    expect(functions.map(([, props]) => props.FunctionName).sort()).toEqual(
      HANDLER_NAMES.map((name) => `meshtrust-payments-${name}`).sort(),
    );
    for (const [, props] of functions) {
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: expect.anything() },
      });
    }
    for (const name of HANDLER_NAMES) {
      byTag.template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/lambda/meshtrust-payments-${name}`,
        KmsKeyId: Match.anyValue(),
        RetentionInDays: 3653,
      });
    }
  });

  it('gives the long phases 15 minutes and the others 5', () => {
    // THEN
    byTag.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-restart-workloads',
      Timeout: 900,
    });
    byTag.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-stage-root',
      Timeout: 300,
    });
  });

  it('hands every function the mesh, cluster selection, key and Powertools settings', () => {
    // THEN
    byTag.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-preflight',
      Environment: {
        Variables: Match.objectLike({
          MESH_ID: 'payments',
          CLUSTER_TAG_KEY: 'meshtrust.io/mesh',
          CLUSTER_TAG_VALUE: 'payments',
          CLUSTERS: '',
          KMS_KEY_ID: Match.anyValue(),
          // The secret names follow from MESH_ID (lambdas/adapters/secrets/secret-names.ts).
          SECRET_PREFIX: Match.absent(),
          POWERTOOLS_SERVICE_NAME: 'meshtrust',
          POWERTOOLS_METRICS_NAMESPACE: 'MeshTrust',
          NODE_OPTIONS: '--enable-source-maps',
          ROLLOUT_TIMEOUT_SECONDS: '600',
          RESTART_WAVE_SIZE: '5',
          INTERMEDIATE_VALIDITY_DAYS: '730',
          ROOT_VALIDITY_DAYS: '1825',
          KEY_ALGORITHM: 'ecdsa-p256',
          EXPIRY_WARNING_DAYS: '90',
          VERIFY_TIMEOUT_SECONDS: '60',
          MIN_INTERMEDIATE_HEADROOM_DAYS: '7',
          MIN_ROOT_HEADROOM_DAYS: '7',
          ROTATION_STRATEGY: 'auto',
        }),
      },
    });
    explicit.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLUSTERS: 'eu-1,us-1' }) },
    });
  });

  it('scopes Secrets Manager to meshtrust/<mesh>/* and the CA key to use through Secrets Manager only', () => {
    // GIVEN
    const statements = statementsOf(byTag, 'RotatorRole');
    const secrets = statements.find((s) => s.Sid === 'ManageMeshCaSecrets');
    const key = statements.find((s) => s.Sid === 'UseCaKeyViaSecretsManager');

    // THEN
    expect(JSON.stringify(secrets?.Resource)).toContain(':secret:meshtrust/payments/*');
    expect(actionsOf(secrets as PolicyStatementJson)).not.toContain('secretsmanager:*');
    expect(JSON.stringify(key?.Resource)).toContain('CaStoreKey');
    expect(JSON.stringify(key?.Condition)).toContain('kms:ViaService');
  });

  it('uses Resource "*" only for actions that have no resource-level permission', () => {
    // GIVEN
    const allowedOnStar = new Set([
      'eks:ListClusters',
      'kms:CreateKey',
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const statements = [byTag, explicit].flatMap((s) =>
      resourcesOfType(s.template, 'AWS::IAM::Policy').flatMap(
        ([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
      ),
    );

    // WHEN
    const onStar = statements
      .filter((s) => s.Effect !== 'Deny' && [s.Resource].flat().includes('*'))
      .flatMap(actionsOf);

    // THEN
    expect(onStar.length).toBeGreaterThan(0);
    expect(onStar.filter((action) => !allowedOnStar.has(action))).toEqual([]);
  });

  it('lets the rotator create root keys and name them, never use or re-police a key through IAM', () => {
    // GIVEN
    const rotator = statementsOf(byTag, 'RotatorRole');
    const expiry = statementsOf(byTag, 'ExpiryCheckRole');
    const create = rotator.find((s) => s.Sid === 'CreateRootKeys');
    const name = rotator.find((s) => s.Sid === 'NameRootKeys');
    const deny = rotator.find((s) => s.Sid === 'NeverWidenAKeyPolicy');
    const kmsAllowed = rotator
      .filter((s) => s.Effect !== 'Deny')
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('kms:'));

    // THEN
    expect(create?.Condition).toEqual({
      StringEquals: {
        'kms:KeyUsage': 'SIGN_VERIFY',
        'kms:KeySpec': ['ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'],
      },
      Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
    });
    expect(JSON.stringify(name?.Resource)).toContain(':alias/meshtrust/payments/root/*');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: 'kms:PutKeyPolicy', Resource: '*' });
    // Sign, DisableKey and the rest come from each key's own policy (root-key-policy.ts), not from IAM.
    expect(
      kmsAllowed.filter((a) => !['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'].includes(a)).sort(),
    ).toEqual(['kms:CreateAlias', 'kms:CreateKey']);
    expect(expiry.flatMap(actionsOf).filter((a) => a === 'kms:CreateKey' || a === 'kms:Sign')).toEqual([]);
    byTag.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'meshtrust-payments-stage-root',
      Environment: {
        Variables: Match.objectLike({
          ROOT_KEY_DELETION_WINDOW_DAYS: '30',
          ROOT_KEY_USER_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotatorRole'), 'Arn'] },
        }),
      },
    });
  });

  it('keeps the rotation lock in an on-demand table with point-in-time recovery, one item per mesh', () => {
    // GIVEN
    const tables = resourcesOfType(byTag.template, 'AWS::DynamoDB::Table');

    // THEN
    expect(tables).toHaveLength(1);
    expect(tables[0]?.[1]).toMatchObject({
      KeySchema: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    byTag.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('tells every phase where the lock is and how long a stopped run keeps it (the longest function timeout)', () => {
    // GIVEN
    const functions = resourcesOfType(byTag.template, 'AWS::Lambda::Function').map(([, props]) => props);
    const longest = Math.max(...functions.map((fn) => fn.Timeout as number));

    // THEN
    for (const fn of functions.filter((f) => f.FunctionName !== 'meshtrust-payments-check-expiry')) {
      expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        [LOCK_TABLE_NAME_ENV]: { Ref: expect.stringMatching(/^RotationRotationLockTable/) },
        [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: String(longest),
      });
    }
  });

  it('lets only the lock functions release the lock, the writing phases hold it, and the expiry check neither', () => {
    // GIVEN
    const lockRole = statementsOf(byTag, 'LockRole');
    const rotator = statementsOf(byTag, 'RotatorRole');
    const expiry = statementsOf(byTag, 'ExpiryCheckRole');
    const dynamodb = (statements: PolicyStatementJson[]) =>
      statements.flatMap(actionsOf).filter((action) => action.startsWith('dynamodb:'));
    const describeExecutions = lockRole.find((s) => s.Sid === 'DescribeRotationExecutions');

    // THEN
    expect(dynamodb(lockRole).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);
    expect(dynamodb(rotator).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(dynamodb(expiry)).toEqual([]);
    for (const statement of [...lockRole, ...rotator].filter((s) =>
      actionsOf(s)[0]?.startsWith('dynamodb:'),
    )) {
      expect(statement.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^RotationRotationLockTable/), 'Arn'],
      });
    }
    expect(actionsOf(describeExecutions as PolicyStatementJson)).toEqual(['states:DescribeExecution']);
    expect(JSON.stringify(describeExecutions?.Resource)).toContain(
      ':execution:meshtrust-payments-rotation:*',
    );
    // The lock role touches neither the CA nor the clusters.
    expect(lockRole.flatMap(actionsOf).filter((action) => /^(secretsmanager|kms|eks):/.test(action))).toEqual(
      [],
    );
    for (const name of ['acquire-lock', 'release-lock']) {
      byTag.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `meshtrust-payments-${name}`,
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('LockRole'), 'Arn'] },
      });
    }
  });

  it('limits cluster access to the named clusters when clusters are explicit', () => {
    // GIVEN
    const describe = statementsOf(explicit, 'RotatorRole').find((s) => s.Sid === 'DescribeMeshClusters');

    // THEN
    const resources = JSON.stringify(describe?.Resource);
    expect(resources).toContain(':cluster/eu-1');
    expect(resources).toContain(':cluster/us-1');
    expect(resources).not.toContain(':cluster/*');
  });

  it('maps the rotator and expiry check roles to their groups in each explicit cluster, and creates none by tag', () => {
    // THEN
    explicit.template.resourceCountIs('AWS::EKS::AccessEntry', 4);
    for (const clusterName of ['eu-1', 'us-1']) {
      for (const [role, group] of [
        ['RotatorRole', 'meshtrust-rotator'],
        ['ExpiryCheckRole', 'meshtrust-expiry-check'],
      ]) {
        explicit.template.hasResourceProperties('AWS::EKS::AccessEntry', {
          ClusterName: clusterName,
          KubernetesGroups: [group],
          PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(role), 'Arn'] },
          Type: 'STANDARD',
        });
      }
    }
    byTag.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
  });

  it('starts a scheduled rotation once a year through EventBridge Scheduler, and checks expiry daily', () => {
    // THEN
    byTag.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'meshtrust-payments-rotation',
      ScheduleExpression: 'cron(0 9 ? 3 TUE#2 *)',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('Workflow') },
        Input: JSON.stringify({ mode: 'scheduled', reason: 'annual rotation', requestedBy: 'schedule' }),
      }),
    });
    explicit.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'meshtrust-payments-rotation',
      ScheduleExpression: 'rate(365 days)',
    });
    byTag.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'meshtrust-payments-expiry-check',
      ScheduleExpression: 'rate(1 day)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('checkexpiry'), 'Arn'] } }),
    });
  });

  it('alarms on failed, timed-out and aborted runs and on CA expiry within 90 days, to an encrypted topic', () => {
    // GIVEN
    const alarms = resourcesOfType(byTag.template, 'AWS::CloudWatch::Alarm').map(([, props]) => props);

    // THEN
    expect(alarms.map((alarm) => alarm.AlarmName).sort()).toEqual(
      ['CaExpiresSoon', 'ExecutionAborted', 'ExecutionFailed', 'ExecutionTimedOut', 'ExpiryCheckFailing']
        .map((id) => `meshtrust-payments-${id}`)
        .sort(),
    );
    for (const alarm of alarms)
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/AlarmTopic/) }]);
    byTag.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'meshtrust-payments-CaExpiresSoon',
      Namespace: 'MeshTrust',
      MetricName: 'CaExpiryHeadroomDays',
      Dimensions: Match.arrayWith([{ Name: 'mesh', Value: 'payments' }]),
      Threshold: 90,
      ComparisonOperator: 'LessThanThreshold',
    });
    byTag.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'meshtrust-payments-ExecutionFailed',
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
    });
    byTag.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    byTag.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    explicit.template.resourceCountIs('AWS::SNS::Subscription', 0);
    byTag.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('outputs the state machine ARN, CA key ARN, audit log group name, lock table and both mapped role ARNs', () => {
    // THEN
    for (const output of [
      'StateMachineArn',
      'CaKeyArn',
      'AuditLogGroupName',
      'LockTableName',
      'RotatorRoleArn',
      'ExpiryCheckRoleArn',
    ]) {
      byTag.template.hasOutput(output, { Value: Match.anyValue() });
    }
  });
});
