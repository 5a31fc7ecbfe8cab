// The key policy stage-root writes on each new root key: who may do what with it, by use.
import { describe, expect, it } from '@jest/globals';
import { rootKeyPolicy } from '../../../../lambdas/adapters/kms/root-key-policy.js';

const role = (name: string, account = '111122223333') => `arn:aws:iam::${account}:role/${name}`;

interface Statement {
  Sid: string;
  Principal: { AWS: string | string[] };
  Action: string | string[];
}

describe('root key policy', () => {
  it('lets the account manage the key and each use only its own actions', () => {
    // Act
    const policy = JSON.parse(
      rootKeyPolicy({
        create: [role('StageRoot')],
        sign: [role('StageRoot'), role('Reissue')],
        retire: [role('Promote'), role('Rollback')],
        find: [role('StageRoot'), role('Rollback')],
      }),
    ) as { Statement: Statement[] };

    // Assess
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(bySid.AccountManagesThroughIam).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::111122223333:root' },
      Action: 'kms:*',
    });
    expect(bySid.CreatorNamesThisRootKey).toMatchObject({
      Principal: { AWS: role('StageRoot') },
      Action: ['kms:DescribeKey', 'kms:CreateAlias', 'kms:PutKeyPolicy'],
    });
    expect(bySid.SignersSignWithThisRootKey).toMatchObject({
      Principal: { AWS: [role('StageRoot'), role('Reissue')] },
      Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Sign'],
    });
    expect(bySid.RetirersRetireThisRootKey).toMatchObject({
      Principal: { AWS: [role('Promote'), role('Rollback')] },
      Action: ['kms:DescribeKey', 'kms:DisableKey', 'kms:ScheduleKeyDeletion'],
    });
    // The finders read the key's tags (its root version) and nothing else of it.
    expect(bySid.FindersReadTheTagsOfThisRootKey).toMatchObject({
      Principal: { AWS: [role('StageRoot'), role('Rollback')] },
      Action: ['kms:ListResourceTags'],
    });
    // No signer may retire, no retirer sign, and only the finders read tags.
    expect(
      policy.Statement.filter((s) => JSON.stringify(s.Action).includes('kms:ListResourceTags')).map(
        (s) => s.Sid,
      ),
    ).toEqual(['FindersReadTheTagsOfThisRootKey']);
    expect(JSON.stringify(bySid.SignersSignWithThisRootKey)).not.toContain('DisableKey');
    expect(JSON.stringify(bySid.RetirersRetireThisRootKey)).not.toContain('kms:Sign');
  });

  it('leaves out a use no role has, and refuses a policy KMS would refuse or that spans accounts', () => {
    // Act
    const signOnly = JSON.parse(
      rootKeyPolicy({ create: [role('StageRoot')], sign: [], retire: [], find: [] }),
    ) as {
      Statement: Statement[];
    };

    // Assess
    expect(signOnly.Statement.map((s) => s.Sid)).toEqual([
      'AccountManagesThroughIam',
      'CreatorNamesThisRootKey',
    ]);
    expect(() => rootKeyPolicy({ create: [], sign: [role('Reissue')], retire: [], find: [] })).toThrow(
      /creator/,
    );
    expect(() =>
      rootKeyPolicy({
        create: [role('StageRoot')],
        sign: [role('Reissue', '444455556666')],
        retire: [],
        find: [],
      }),
    ).toThrow(/one account/);
    expect(() =>
      rootKeyPolicy({
        create: ['arn:aws:sts::111122223333:assumed-role/x/y'],
        sign: [],
        retire: [],
        find: [],
      }),
    ).toThrow(/not an IAM role ARN/);
  });
});
