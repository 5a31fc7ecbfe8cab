import { Match } from 'aws-cdk-lib/assertions';
import {
  LOCK_TABLE_NAME_ENV,
  LOCK_TABLE_PARTITION_KEY,
  LOCK_TABLE_TTL_ATTRIBUTE,
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

const actionsOf = (statement: PolicyStatementJson) => [statement.Action].flat();

/** The logical id of the role function `meshtrust-payments-<name>` runs as. */
function roleOf(synthesized: SynthesizedMeshTrustStack, name: string): string {
  const fn = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === `meshtrust-payments-${name}`,
  );
  if (fn === undefined) throw new Error(`no function meshtrust-payments-${name} in the template`);
  return (fn[1].Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** The statements of every policy attached to the role with that exact logical id. */
function statementsOfRole(synthesized: SynthesizedMeshTrustStack, roleId: string): PolicyStatementJson[] {
  return resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
    .filter(([, props]) => (props.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap(([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement);
}

/** The functions whose role has an Allow statement with one of `actions` on a resource matching `on`. */
function functionsAllowed(synthesized: SynthesizedMeshTrustStack, actions: string[], on = /./): string[] {
  return HANDLER_NAMES.filter((name) =>
    statementsOfRole(synthesized, roleOf(synthesized, name)).some(
      (statement) =>
        statement.Effect !== 'Deny' &&
        actionsOf(statement).some((action) => actions.includes(action)) &&
        on.test(JSON.stringify(statement.Resource)),
    ),
  ).sort();
}

describe('MeshTrustStack', () => {
  let byTag: SynthesizedMeshTrustStack;
  let explicit: SynthesizedMeshTrustStack;

  beforeAll(() => {
    byTag = synthMeshTrustStack({ alarmEmail: 'oncall@example.com' });
    explicit = synthMeshTrustStack({
      clusters: ['eu-1', 'us-1'],
      remoteClusters: [{ name: 'us-1', primary: 'eu-1' }],
      schedule: 'rate(365 days)',
    });
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
          // No source map is deployed, so node has none to read (docs/architecture.md, "Lambda bundles").
          NODE_OPTIONS: Match.absent(),
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
          REMOTE_CLUSTERS: '',
        }),
      },
    });
    explicit.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLUSTERS: 'eu-1,us-1', REMOTE_CLUSTERS: 'us-1=eu-1' }) },
    });
  });

  it("scopes each role's secrets to a part of meshtrust/<mesh>/, and the CA key to Secrets Manager only", () => {
    // GIVEN
    const statements = resourcesOfType(byTag.template, 'AWS::IAM::Policy').flatMap(
      ([, props]) => (props.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );
    const secrets = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
    const caKey = statements.filter((s) => JSON.stringify(s.Resource).includes('CaStoreKey'));

    // THEN
    expect(secrets.length).toBeGreaterThan(0);
    for (const statement of secrets) {
      expect(JSON.stringify(statement.Resource)).toMatch(
        /:secret:meshtrust\/payments\/(root-\?\?\?\?\?\?|intermediate\/\*|backup\/\*|root-key\/\*)"/,
      );
      expect(actionsOf(statement)).not.toContain('secretsmanager:*');
    }
    expect(caKey.length).toBeGreaterThan(0);
    for (const statement of caKey) expect(JSON.stringify(statement.Condition)).toContain('kms:ViaService');
  });

  it('uses Resource "*" only for actions that have no resource-level permission', () => {
    // GIVEN
    const allowedOnStar = new Set([
      'eks:ListClusters',
      'kms:CreateKey',
      'kms:ListAliases',
      'kms:ListKeys',
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

  it('lets stage-root alone create and name root keys, no role use or re-police a key through IAM', () => {
    // GIVEN
    const create = statementsOfRole(byTag, roleOf(byTag, 'stage-root')).find(
      (s) => s.Sid === 'CreateRootKeys',
    );
    const stageRootEnv = resourcesOfType(byTag.template, 'AWS::Lambda::Function').find(
      ([, props]) => props.FunctionName === 'meshtrust-payments-stage-root',
    )?.[1].Environment as { Variables: Record<string, unknown> };
    const named = (key: string) =>
      (
        JSON.stringify(stageRootEnv.Variables[key]).match(/RotationFunctions\w+Role[0-9A-F]{8}/g) ?? []
      ).sort();
    const denies = (name: string) =>
      statementsOfRole(byTag, roleOf(byTag, name)).some(
        (s) => s.Effect === 'Deny' && s.Action === 'kms:PutKeyPolicy' && s.Resource === '*',
      );

    // THEN
    expect(functionsAllowed(byTag, ['kms:CreateKey'])).toEqual(['stage-root']);
    expect(functionsAllowed(byTag, ['kms:CreateAlias'])).toEqual(['stage-root']);
    // To find the keys of a root version no alias names (stage-root: one an earlier attempt made before
    // naming it; rollback: every key of the root it drops): ids of keys and aliases, nothing of a key.
    expect(functionsAllowed(byTag, ['kms:ListKeys'])).toEqual(['rollback', 'stage-root']);
    expect(functionsAllowed(byTag, ['kms:ListAliases'])).toEqual(['rollback', 'stage-root']);
    expect(functionsAllowed(byTag, ['kms:ListResourceTags'])).toEqual([]);
    expect(create?.Condition).toEqual({
      StringEquals: {
        'kms:KeyUsage': 'SIGN_VERIFY',
        'kms:KeySpec': ['ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'],
      },
      Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'false' },
    });
    // Sign, DisableKey and the rest come from each key's own policy (root-key-policy.ts), not from IAM.
    expect(
      functionsAllowed(byTag, [
        'kms:Sign',
        'kms:GetPublicKey',
        'kms:DisableKey',
        'kms:ScheduleKeyDeletion',
        'kms:*',
      ]),
    ).toEqual([]);
    // The key policy's roles, from stage-root's environment; each is denied kms:PutKeyPolicy in IAM.
    expect(named('ROOT_KEY_CREATOR_ARNS')).toEqual([roleOf(byTag, 'stage-root')]);
    expect(named('ROOT_KEY_SIGNER_ARNS')).toEqual(
      [roleOf(byTag, 'reissue-intermediate'), roleOf(byTag, 'stage-root')].sort(),
    );
    expect(named('ROOT_KEY_RETIRER_ARNS')).toEqual(
      [roleOf(byTag, 'promote-root'), roleOf(byTag, 'rollback')].sort(),
    );
    // Their tags, which the finders read, from the key policy alone: promote-root retires by the alias.
    expect(named('ROOT_KEY_FINDER_ARNS')).toEqual(
      [roleOf(byTag, 'rollback'), roleOf(byTag, 'stage-root')].sort(),
    );
    for (const name of ['stage-root', 'reissue-intermediate', 'promote-root', 'rollback']) {
      expect({ name, deniesPutKeyPolicy: denies(name) }).toEqual({ name, deniesPutKeyPolicy: true });
    }
    expect(stageRootEnv.Variables.ROOT_KEY_DELETION_WINDOW_DAYS).toBe('30');
  });

  it('runs each function as a role of its own', () => {
    // GIVEN
    const roles = HANDLER_NAMES.map((name) => roleOf(byTag, name));

    // THEN
    expect(new Set(roles).size).toBe(HANDLER_NAMES.length);
    expect(roles).not.toContain(expect.stringMatching(/^RotationFunctionsRotatorRole/));
  });

  it('reaches the clusters through cluster roles with no permission: the rotator for the phases that write, the verifier for the gates', () => {
    // GIVEN
    const writingPhases = [
      'distribute-bundle',
      'preflight',
      'reissue-intermediate',
      'restart-workloads',
      'retire-root',
      'rollback',
    ];
    const gates = ['verify-trust', 'verify-workloads'];
    const clusterRoleOf = (prefix: string) => {
      const [id, props] = resourcesOfType(byTag.template, 'AWS::IAM::Role').find(([logicalId]) =>
        logicalId.startsWith(prefix),
      ) as [string, Record<string, unknown>];
      const trusted = (
        JSON.stringify(props.AssumeRolePolicyDocument).match(/RotationFunctions\w+Role[0-9A-F]{8}/g) ?? []
      ).sort();
      return { id, trusted };
    };
    const rotator = clusterRoleOf('RotationFunctionsRotatorRole');
    const verifier = clusterRoleOf('RotationFunctionsVerifierRole');

    // THEN
    for (const [role, phases] of [
      [rotator, writingPhases],
      [verifier, gates],
    ] as const) {
      expect(statementsOfRole(byTag, role.id)).toEqual([]);
      expect(role.trusted).toEqual(phases.map((name) => roleOf(byTag, name)).sort());
      expect(functionsAllowed(byTag, ['sts:AssumeRole'], new RegExp(role.id))).toEqual([...phases].sort());
    }
    expect(functionsAllowed(byTag, ['sts:AssumeRole'])).toEqual([...writingPhases, ...gates].sort());
    expect(functionsAllowed(byTag, ['eks:DescribeCluster'])).toEqual(
      [...writingPhases, ...gates, 'check-expiry'].sort(),
    );
    for (const [, fn] of resourcesOfType(byTag.template, 'AWS::Lambda::Function')) {
      const variables = (fn.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      if (variables?.MESH_ID === undefined) continue;
      const name = String(fn.FunctionName).replace('meshtrust-payments-', '');
      // check-expiry signs its EKS tokens as its own role, mapped to group meshtrust-expiry-check.
      const expected = writingPhases.includes(name)
        ? rotator.id
        : gates.includes(name)
          ? verifier.id
          : undefined;
      expect({ name, clusterRole: variables.CLUSTER_ROLE_ARN }).toEqual({
        name,
        clusterRole: expected === undefined ? '' : { 'Fn::GetAtt': [expected, 'Arn'] },
      });
    }
  });

  it('keeps the rotation lock in an on-demand table with point-in-time recovery, one item per mesh, approvals expiring', () => {
    // GIVEN
    const tables = resourcesOfType(byTag.template, 'AWS::DynamoDB::Table');

    // THEN
    expect(tables).toHaveLength(1);
    expect(tables[0]?.[1]).toMatchObject({
      KeySchema: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: LOCK_TABLE_PARTITION_KEY, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // The approval records carry their expiry there; DynamoDB deletes them after it.
      TimeToLiveSpecification: { AttributeName: LOCK_TABLE_TTL_ATTRIBUTE, Enabled: true },
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

  it('lets only the lock functions release the lock, the writing phases hold it, and no other function touch it', () => {
    // GIVEN
    const lockFunctions = ['acquire-lock', 'release-lock'];
    const holders = [
      'distribute-bundle',
      'promote-root',
      'reissue-intermediate',
      'restart-workloads',
      'retire-root',
      'rollback',
      'stage-root',
    ];
    const dynamodb = (name: string) =>
      statementsOfRole(byTag, roleOf(byTag, name))
        .flatMap(actionsOf)
        .filter((action) => action.startsWith('dynamodb:'))
        .sort();

    // THEN
    expect(functionsAllowed(byTag, ['dynamodb:DeleteItem'])).toEqual(lockFunctions);
    expect(functionsAllowed(byTag, ['dynamodb:PutItem'])).toEqual([...lockFunctions, ...holders].sort());
    for (const name of lockFunctions) {
      expect(dynamodb(name)).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
      // The lock functions touch neither the CA nor the clusters; release-lock, at the end of a
      // succeeded rekey, only schedules the run's cacerts backups for deletion (it reads none).
      expect(
        statementsOfRole(byTag, roleOf(byTag, name))
          .flatMap(actionsOf)
          .filter((action) => /^(secretsmanager|kms|eks|sts):/.test(action))
          .sort(),
      ).toEqual(
        name === 'release-lock' ? ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'] : [],
      );
    }
    for (const name of holders) expect(dynamodb(name)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    for (const statement of HANDLER_NAMES.flatMap((name) =>
      statementsOfRole(byTag, roleOf(byTag, name)),
    ).filter((s) => actionsOf(s)[0]?.startsWith('dynamodb:'))) {
      expect(statement.Resource).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^RotationRotationLockTable/), 'Arn'],
      });
    }
    const describeExecutions = statementsOfRole(byTag, roleOf(byTag, 'acquire-lock')).find(
      (s) => s.Sid === 'DescribeRotationExecutions',
    );
    expect(actionsOf(describeExecutions as PolicyStatementJson)).toEqual(['states:DescribeExecution']);
    expect(JSON.stringify(describeExecutions?.Resource)).toContain(
      ':execution:meshtrust-payments-rotation:*',
    );
    // Only acquire-lock reads histories: a resumed rollback's check of the run it resumes, on this
    // state machine's executions.
    expect(functionsAllowed(byTag, ['states:GetExecutionHistory'])).toEqual(['acquire-lock']);
    const readHistory = statementsOfRole(byTag, roleOf(byTag, 'acquire-lock')).find(
      (s) => s.Sid === 'ReadResumedRotationExecutions',
    );
    expect(actionsOf(readHistory as PolicyStatementJson)).toEqual(['states:GetExecutionHistory']);
    expect(JSON.stringify(readHistory?.Resource)).toContain(':execution:meshtrust-payments-rotation:*');
  });

  it('limits cluster access to the named clusters when clusters are explicit', () => {
    // GIVEN
    const describe = statementsOfRole(explicit, roleOf(explicit, 'preflight')).find(
      (s) => s.Sid === 'DescribeMeshClusters',
    );

    // THEN
    const resources = JSON.stringify(describe?.Resource);
    expect(resources).toContain(':cluster/eu-1');
    expect(resources).toContain(':cluster/us-1');
    expect(resources).not.toContain(':cluster/*');
  });

  it('maps the rotator, verifier and expiry check roles to their groups in each explicit cluster, and creates none by tag', () => {
    // THEN
    explicit.template.resourceCountIs('AWS::EKS::AccessEntry', 6);
    for (const clusterName of ['eu-1', 'us-1']) {
      for (const [role, group] of [
        ['RotatorRole', 'meshtrust-rotator'],
        ['VerifierRole', 'meshtrust-verifier'],
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
