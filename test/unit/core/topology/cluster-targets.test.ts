import {
  clusterAccountRoleName,
  clusterReferencesProblem,
  formatClusterAccountRoles,
  parseClusterReference,
} from '../../../../lambdas/contract/cluster-reference.js';
import {
  clusterTargetOf,
  clusterTargetsOf,
  parseClusterAccountRoles,
  parseClusterReferences,
} from '../../../../lambdas/core/topology/cluster-targets.js';

const HOME = { region: 'eu-west-1', accountId: '111111111111' };
const FAR_ROLE = 'arn:aws:iam::222222222222:role/meshtrust-payments-rotator';
const ROLES = new Map([['222222222222', FAR_ROLE]]);

describe('parseClusterReference', () => {
  it('reads a plain name as a cluster of the stack’s own account and region', () => {
    // Act, Assess
    expect(parseClusterReference('eu-prod')).toEqual({ name: 'eu-prod' });
  });

  it('reads a cluster ARN into its name, region, account and partition', () => {
    // Act, Assess
    expect(parseClusterReference('arn:aws:eks:us-east-1:222222222222:cluster/us-prod')).toEqual({
      name: 'us-prod',
      region: 'us-east-1',
      accountId: '222222222222',
      partition: 'aws',
    });
    expect(parseClusterReference('arn:aws-cn:eks:cn-north-1:222222222222:cluster/cn_1')).toMatchObject({
      partition: 'aws-cn',
      region: 'cn-north-1',
    });
  });

  it.each([
    [
      'an account id of 11 digits',
      'arn:aws:eks:us-east-1:22222222222:cluster/us-prod',
      /account id must be 12 digits/,
    ],
    ['a region that is no region', 'arn:aws:eks:useast1:222222222222:cluster/us-prod', /is not a region/],
    [
      'another service’s ARN',
      'arn:aws:ecs:us-east-1:222222222222:cluster/us-prod',
      /is not an EKS cluster ARN/,
    ],
    [
      'a nodegroup ARN',
      'arn:aws:eks:us-east-1:222222222222:nodegroup/us-prod/ng/1',
      /is not an EKS cluster ARN/,
    ],
    ['a name with a space', 'us prod', /neither an EKS cluster name .* nor a cluster ARN/],
    [
      'a name in an ARN with a slash',
      'arn:aws:eks:us-east-1:222222222222:cluster/a/b',
      /is not an EKS cluster name/,
    ],
    ['an empty entry', '', /neither an EKS cluster name/],
  ])('refuses %s, naming the entry', (_what, entry, problem) => {
    // Act
    const parsed = parseClusterReference(entry);
    // Assess
    expect(parsed).toEqual(expect.stringMatching(problem));
    expect(parsed).toContain(JSON.stringify(entry));
  });
});

describe('entries that discover by tag', () => {
  it('reads `*` as discovery in the stack’s account and region, and an ARN ending in cluster/* as discovery there', () => {
    // Act, Assess
    expect(parseClusterReference('*')).toEqual({ name: '*' });
    expect(parseClusterReference('arn:aws:eks:us-east-1:222222222222:cluster/*')).toEqual({
      name: '*',
      region: 'us-east-1',
      accountId: '222222222222',
      partition: 'aws',
    });
    expect(parseClusterReference('arn:aws:eks:us-east-1:222222222222:cluster/pro*')).toEqual(
      expect.stringContaining('is not an EKS cluster name'),
    );
  });

  it('lets several places be discovered beside named clusters, each once', () => {
    // Act, Assess
    expect(clusterReferencesProblem(['*', 'eu-prod', 'arn:aws:eks:us-east-1:222222222222:cluster/*'])).toBe(
      undefined,
    );
    expect(
      clusterReferencesProblem([
        'arn:aws:eks:us-east-1:222222222222:cluster/*',
        'a',
        'arn:aws:eks:us-east-1:222222222222:cluster/*',
      ]),
    ).toBe('"arn:aws:eks:us-east-1:222222222222:cluster/*" is listed twice');
  });

  it('gives discovery in another account that account’s role and region', () => {
    // Act
    const [home, far] = clusterTargetsOf(['*', 'arn:aws:eks:us-east-1:222222222222:cluster/*'], HOME, ROLES);
    // Assess
    expect(home).toEqual({ name: '*', region: 'eu-west-1', entry: '*', discover: true });
    expect(far).toEqual({
      name: '*',
      region: 'us-east-1',
      accountId: '222222222222',
      roleArn: FAR_ROLE,
      entry: 'arn:aws:eks:us-east-1:222222222222:cluster/*',
      discover: true,
    });
  });
});

describe('clusterReferencesProblem', () => {
  it('accepts names and ARNs with distinct names', () => {
    // Act, Assess
    expect(clusterReferencesProblem(['eu-prod', 'arn:aws:eks:us-east-1:222222222222:cluster/us-prod'])).toBe(
      undefined,
    );
  });

  it('refuses one name in two accounts: the name is the cluster’s identity (secrets, audit)', () => {
    // Act
    const problem = clusterReferencesProblem(['prod', 'arn:aws:eks:us-east-1:222222222222:cluster/prod']);
    // Assess
    expect(problem).toMatch(
      /"prod" and "arn:aws:eks:us-east-1:222222222222:cluster\/prod" are both named prod/,
    );
  });

  it('refuses an entry listed twice and names the first bad entry of a list', () => {
    // Act, Assess
    expect(clusterReferencesProblem(['a', 'a'])).toBe('"a" is listed twice');
    expect(clusterReferencesProblem(['a', 'arn:aws:eks:x:1:cluster/b', 'c d'])).toContain(
      'arn:aws:eks:x:1:cluster/b',
    );
  });
});

describe('parseClusterReferences', () => {
  it('throws PreconditionFailed naming the source and the bad entry', () => {
    // Act, Assess
    expect(() => parseClusterReferences(['eu-prod', 'arn:aws:eks:eu-west-1:1234:cluster/x'])).toThrow(
      expect.objectContaining({
        name: 'PreconditionFailed',
        message: expect.stringMatching(/^CLUSTERS: "arn:aws:eks:eu-west-1:1234:cluster\/x": the account id/),
      }),
    );
  });
});

describe('clusterTargetOf', () => {
  it('gives a plain name the mesh’s region and no role to assume', () => {
    // Act, Assess
    expect(clusterTargetOf({ name: 'eu-prod' }, HOME, ROLES)).toEqual({
      name: 'eu-prod',
      region: 'eu-west-1',
      entry: 'eu-prod',
    });
  });

  it('gives a cluster of the mesh’s account in another region that region, still no role', () => {
    // Act
    const target = clusterTargetOf(
      { name: 'us-prod', region: 'us-east-1', accountId: '111111111111' },
      HOME,
      ROLES,
    );
    // Assess
    expect(target).toEqual({ name: 'us-prod', region: 'us-east-1', entry: 'us-prod' });
  });

  it('gives a cluster of another account its region and that account’s role', () => {
    // Act
    const target = clusterTargetOf(
      { name: 'far', region: 'ap-south-1', accountId: '222222222222' },
      HOME,
      ROLES,
    );
    // Assess
    expect(target).toEqual({
      name: 'far',
      region: 'ap-south-1',
      accountId: '222222222222',
      roleArn: FAR_ROLE,
      entry: 'far',
    });
  });

  it('refuses a cluster of an account that has no role (a mistyped account id), naming the entry', () => {
    // Act, Assess
    expect(() => clusterTargetsOf(['arn:aws:eks:us-east-1:333333333333:cluster/far'], HOME, ROLES)).toThrow(
      expect.objectContaining({
        name: 'PreconditionFailed',
        cluster: 'far',
        message: expect.stringContaining(
          '"arn:aws:eks:us-east-1:333333333333:cluster/far" is in account 333333333333, which is not the mesh\'s (111111111111)',
        ),
      }),
    );
  });

  it('outside a stack (no mesh account), takes an account without a role for the caller’s own', () => {
    // Act, Assess
    expect(
      clusterTargetOf(
        { name: 'x', region: 'us-east-1', accountId: '333333333333' },
        { region: 'eu-west-1' },
        ROLES,
      ),
    ).toEqual({ name: 'x', region: 'us-east-1', entry: 'x' });
  });
});

describe('CLUSTER_ACCOUNT_ROLES', () => {
  it('reads back what the stack formats, with the convention’s role names', () => {
    // Prepare
    const roles = new Map([
      ['222222222222', `arn:aws:iam::222222222222:role/${clusterAccountRoleName('payments', 'rotator')}`],
      ['333333333333', `arn:aws:iam::333333333333:role/${clusterAccountRoleName('payments', 'verifier')}`],
    ]);
    // Act
    const parsed = parseClusterAccountRoles(formatClusterAccountRoles(roles));
    // Assess
    expect(parsed).toEqual(roles);
    expect(parseClusterAccountRoles('')).toEqual(new Map());
  });

  it.each([
    ['a role of another account', '222222222222=arn:aws:iam::333333333333:role/r'],
    ['no role ARN', '222222222222=meshtrust-payments-rotator'],
    ['no separator', 'arn:aws:iam::222222222222:role/r'],
    [
      'an account twice',
      '222222222222=arn:aws:iam::222222222222:role/a,222222222222=arn:aws:iam::222222222222:role/b',
    ],
  ])('refuses %s', (_what, text) => {
    // Act, Assess
    expect(() => parseClusterAccountRoles(text)).toThrow(
      /CLUSTER_ACCOUNT_ROLES: .* is not <account>=<role ARN/,
    );
  });
});
