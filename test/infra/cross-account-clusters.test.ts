// Clusters named by ARN in another region and in other accounts (issue 13): what the synthesized
// template lets each role do about them, read from the template itself.

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CLUSTER_ACCOUNT_ROLES_ENV, MESH_ACCOUNT_ID_ENV } from '../../lambdas/contract/cluster-reference.js';
import { CLUSTERS_ENV } from '../../lambdas/contract/function-environment.js';
import { MeshTrustStack } from '../../lib/mesh-trust-stack.js';
import { roleReach } from './role-reach.js';
import {
  resourcesOfType,
  type SynthesizedMeshTrustStack,
  synthMeshTrustStack,
  TEST_ENV,
} from './synth-mesh-trust-stack.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The stack's own account (TEST_ENV) in another region, and two other accounts. */
const CLUSTERS = [
  'eu-1',
  `arn:aws:eks:us-east-1:${TEST_ENV.account}:cluster/us-1`,
  'arn:aws:eks:ap-south-1:222222222222:cluster/far-1',
  'arn:aws:eks:eu-west-1:333333333333:cluster/far-2',
  'arn:aws:eks:us-west-2:222222222222:cluster/far-3',
];

/** An ARN of the template with its partition resolved: `arn:aws:...`. */
function flat(node: unknown): string {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(flat).join('');
  const record = node as Record<string, unknown>;
  const join = record['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(flat).join(join[0]);
  if (record.Ref === 'AWS::Partition') return 'aws';
  if (typeof record.Ref === 'string') return `<${record.Ref}>`;
  const getAtt = record['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}>`;
  return JSON.stringify(node);
}

function statementsOf(synthesized: SynthesizedMeshTrustStack, roleId: string): Statement[] {
  return resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
    .filter(([, props]) => (props.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap(([, props]) => (props.PolicyDocument as { Statement: Statement[] }).Statement);
}

function roleIdOf(synthesized: SynthesizedMeshTrustStack, prefix: string): string {
  const found = resourcesOfType(synthesized.template, 'AWS::IAM::Role').find(([id]) => id.startsWith(prefix));
  if (found === undefined) throw new Error(`no role ${prefix} in the template`);
  return found[0];
}

function environmentOf(synthesized: SynthesizedMeshTrustStack, name: string): Record<string, unknown> {
  const fn = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === `meshtrust-payments-${name}`,
  );
  if (fn === undefined) throw new Error(`no function meshtrust-payments-${name} in the template`);
  return (fn[1].Environment as { Variables: Record<string, unknown> }).Variables;
}

/** The clusters preflight's own role may describe (its DescribeMeshClusters statement), flattened, sorted. */
function describedClusters(synthesized: SynthesizedMeshTrustStack): string[] {
  const [, preflight] = resourcesOfType(synthesized.template, 'AWS::Lambda::Function').find(
    ([, props]) => props.FunctionName === 'meshtrust-payments-preflight',
  ) ?? ['', {} as Record<string, unknown>];
  const roleId = (preflight.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const describe = statementsOf(synthesized, roleId).find((s) => s.Sid === 'DescribeMeshClusters');
  return [describe?.Resource].flat().map(flat).sort();
}

/** Every resource an Allow of sts:AssumeRole names in the role's policies, flattened. */
function assumable(synthesized: SynthesizedMeshTrustStack, roleId: string): string[] {
  return statementsOf(synthesized, roleId)
    .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes('sts:AssumeRole'))
    .flatMap((s) => [s.Resource].flat().map(flat))
    .sort();
}

const roleIn = (account: string, kind: string) => `arn:aws:iam::${account}:role/meshtrust-payments-${kind}`;

describe('clusters in other regions and accounts', () => {
  let synthesized: SynthesizedMeshTrustStack;

  beforeAll(() => {
    synthesized = synthMeshTrustStack({ clusters: CLUSTERS });
  });

  it("lets each cluster role assume exactly its kind's role in each other account, nothing wider", () => {
    // THEN
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsRotatorRole'))).toEqual([
      roleIn('222222222222', 'rotator'),
      roleIn('333333333333', 'rotator'),
    ]);
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsVerifierRole'))).toEqual([
      roleIn('222222222222', 'verifier'),
      roleIn('333333333333', 'verifier'),
    ]);
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsExpiryCheckRole'))).toEqual([
      roleIn('222222222222', 'expiry-check'),
      roleIn('333333333333', 'expiry-check'),
    ]);
    // No role anywhere may assume a wildcard, or a role of the stack's own account by convention.
    for (const [roleId] of resourcesOfType(synthesized.template, 'AWS::IAM::Role')) {
      for (const resource of assumable(synthesized, roleId)) {
        expect(resource).not.toContain('*');
        expect(resource).not.toContain(`::${TEST_ENV.account}:role/meshtrust-payments-`);
      }
    }
  });

  it('shows the roles of other accounts in the per-role reach (docs/security.md)', () => {
    // WHEN
    const rows = roleReach(synthesized).filter((row) => /sts:AssumeRole/.test(row.actions));

    // THEN
    expect(rows).toContainEqual({
      role: 'cluster role (assumed by preflight, distribute-bundle, reissue-intermediate, restart-workloads, retire-root, rollback)',
      reaches: roleIn('222222222222', 'rotator'),
      actions: 'sts:AssumeRole',
    });
    expect(rows).toContainEqual({
      role: 'cluster role (assumed by verify-trust, verify-workloads)',
      reaches: roleIn('333333333333', 'verifier'),
      actions: 'sts:AssumeRole',
    });
    expect(rows).toContainEqual({
      role: 'check-expiry',
      reaches: roleIn('222222222222', 'expiry-check'),
      actions: 'sts:AssumeRole',
    });
  });

  it("describes only its own account's clusters as the function's role, each in its region", () => {
    // THEN
    expect(describedClusters(synthesized)).toEqual([
      `arn:aws:eks:eu-west-1:${TEST_ENV.account}:cluster/eu-1`,
      `arn:aws:eks:us-east-1:${TEST_ENV.account}:cluster/us-1`,
    ]);
  });

  it("tells each function the list, the mesh's account and the one role per other account it assumes", () => {
    // GIVEN
    const rolesOf = (name: string) => flat(environmentOf(synthesized, name)[CLUSTER_ACCOUNT_ROLES_ENV]);

    // THEN
    expect(environmentOf(synthesized, 'preflight')[CLUSTERS_ENV]).toBe(CLUSTERS.join(','));
    expect(environmentOf(synthesized, 'preflight')[MESH_ACCOUNT_ID_ENV]).toEqual({ Ref: 'AWS::AccountId' });
    expect(rolesOf('preflight')).toBe(
      `222222222222=${roleIn('222222222222', 'rotator')},333333333333=${roleIn('333333333333', 'rotator')}`,
    );
    expect(rolesOf('verify-trust')).toBe(
      `222222222222=${roleIn('222222222222', 'verifier')},333333333333=${roleIn('333333333333', 'verifier')}`,
    );
    expect(rolesOf('check-expiry')).toContain(`222222222222=${roleIn('222222222222', 'expiry-check')}`);
    expect(rolesOf('stage-root')).toBe('');
  });

  it('creates EKS access entries only in the clusters of its own account and region', () => {
    // THEN
    synthesized.template.resourceCountIs('AWS::EKS::AccessEntry', 3);
    for (const [, props] of resourcesOfType(synthesized.template, 'AWS::EKS::AccessEntry')) {
      expect(props.ClusterName).toBe('eu-1');
    }
  });

  it('grants no sts:AssumeRole beyond the cluster roles when every cluster is in its own account', () => {
    // GIVEN
    const home = synthMeshTrustStack({
      clusters: ['eu-1', `arn:aws:eks:us-east-1:${TEST_ENV.account}:cluster/us-1`],
    });

    // THEN
    expect(assumable(home, roleIdOf(home, 'RotationFunctionsRotatorRole'))).toEqual([]);
    expect(assumable(home, roleIdOf(home, 'RotationFunctionsExpiryCheckRole'))).toEqual([]);
    expect(flat(environmentOf(home, 'preflight')[CLUSTER_ACCOUNT_ROLES_ENV])).toBe('');
  });
});

describe('clusters discovered by tag in other regions and accounts', () => {
  let synthesized: SynthesizedMeshTrustStack;

  beforeAll(() => {
    synthesized = synthMeshTrustStack({
      clusters: [
        '*',
        `arn:aws:eks:us-west-2:${TEST_ENV.account}:cluster/*`,
        'arn:aws:eks:ap-south-1:222222222222:cluster/*',
        'arn:aws:eks:ap-south-1:222222222222:cluster/named-1',
      ],
      clusterTag: { key: 'team/mesh', value: 'payments' },
    });
  });

  it("describes every cluster of each of its own account's regions that discovers, and assumes the other account's role", () => {
    // THEN
    expect(describedClusters(synthesized)).toEqual([
      `arn:aws:eks:eu-west-1:${TEST_ENV.account}:cluster/*`,
      `arn:aws:eks:us-west-2:${TEST_ENV.account}:cluster/*`,
    ]);
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsRotatorRole'))).toEqual([
      roleIn('222222222222', 'rotator'),
    ]);
    expect(environmentOf(synthesized, 'preflight').CLUSTER_TAG_KEY).toBe('team/mesh');
    synthesized.template.resourceCountIs('AWS::EKS::AccessEntry', 0);
  });

  it('refuses a tag with a list that discovers nowhere', () => {
    // WHEN / THEN
    expect(() => synthMeshTrustStack({ clusters: ['eu-1'], clusterTag: { key: 'k', value: 'v' } })).toThrow(
      /give either clusters \(explicit names\) or clusterTag/,
    );
  });
});

describe('an environment-agnostic stack (no account known at synth)', () => {
  it("takes every cluster ARN for another account's, and a plain name for its own", () => {
    // GIVEN
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MeshTrustStack(app, 'Agnostic', {
      rotation: { meshId: 'payments', clusters: ['eu-1', 'arn:aws:eks:us-east-1:444444444444:cluster/us-1'] },
    });
    const synthesized = { app, stack, template: Template.fromStack(stack) };

    // THEN: at run time MESH_ACCOUNT_ID tells the functions whether that account is in fact their own
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsRotatorRole'))).toEqual([
      roleIn('444444444444', 'rotator'),
    ]);
    synthesized.template.resourceCountIs('AWS::EKS::AccessEntry', 3);
    // ... and lets its functions describe that cluster as written, in case it is its own
    const describes = resourcesOfType(synthesized.template, 'AWS::IAM::Policy')
      .flatMap(([, props]) => (props.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((statement) => statement.Sid === 'DescribeMeshClusters')
      .map((statement) => [statement.Resource].flat().map(flat).join(' '));
    expect(describes[0]).toContain('arn:aws:eks:us-east-1:444444444444:cluster/us-1');
  });
});

describe('roles of another account given by ARN (clusterAccountRoles)', () => {
  const far = 'arn:aws:eks:ap-south-1:222222222222:cluster/far-1';
  const given = {
    rotator: 'arn:aws:iam::222222222222:role/platform/mesh-ca-writer',
    verifier: 'arn:aws:iam::222222222222:role/platform/mesh-ca-reader',
    expiryCheck: 'arn:aws:iam::222222222222:role/platform/mesh-ca-expiry',
  };

  it('assumes those instead of the convention, and tells each function its own', () => {
    // GIVEN
    const synthesized = synthMeshTrustStack({
      clusters: ['eu-1', far, 'arn:aws:eks:eu-west-1:333333333333:cluster/far-2'],
      clusterAccountRoles: { '222222222222': given },
    });

    // THEN
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsRotatorRole'))).toEqual([
      given.rotator,
      roleIn('333333333333', 'rotator'),
    ]);
    expect(assumable(synthesized, roleIdOf(synthesized, 'RotationFunctionsVerifierRole'))).toEqual([
      given.verifier,
      roleIn('333333333333', 'verifier'),
    ]);
    expect(flat(environmentOf(synthesized, 'check-expiry')[CLUSTER_ACCOUNT_ROLES_ENV])).toContain(
      `222222222222=${given.expiryCheck}`,
    );
  });

  it.each([
    ['an account no cluster is in', { '444444444444': given }, 'no cluster ARN of another account'],
    [
      'a role of another account',
      { '222222222222': { ...given, verifier: 'arn:aws:iam::333333333333:role/r' } },
      'clusterAccountRoles.222222222222.verifier must be a role ARN of account 222222222222',
    ],
    [
      'the same role for the rotator and the verifier',
      { '222222222222': { ...given, verifier: given.rotator } },
      'the gates must not get the rotator',
    ],
  ])('refuses %s', (_what, clusterAccountRoles, message) => {
    // WHEN / THEN
    expect(() => synthMeshTrustStack({ clusters: [far], clusterAccountRoles })).toThrow(message);
  });
});
