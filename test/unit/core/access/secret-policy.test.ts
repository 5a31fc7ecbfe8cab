import type { CaSecretPolicyPrincipals } from '../../../../lambdas/contract/ca-store.js';
import { caSecretPolicy, type SecretPolicy } from '../../../../lambdas/core/access/secret-policy.js';

const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

/** One role per grant, named after it, so that a role in the wrong statement shows by its name. */
const PRINCIPALS: CaSecretPolicyPrincipals = {
  rootRead: [role('preflight'), role('check-expiry')],
  rootWrite: [role('stage-root')],
  intermediatesRead: [role('restart-workloads')],
  intermediatesWrite: [role('reissue-intermediate')],
  backupsRead: [role('rollback')],
  backupsWrite: [role('distribute-bundle'), role('reissue-intermediate')],
  backupsDelete: [role('promote-root'), role('rollback'), role('release-lock')],
  importedRootKeysRead: [role('reissue-intermediate')],
  importedRootKeysDelete: [role('promote-root')],
};

/** The statement that denies `action`, and the roles it exempts (null: denied to everyone). */
function denialOf(policy: SecretPolicy, action: string): string[] | null | undefined {
  const statements = policy.Statement.filter((s) => s.Action.includes(action));
  expect(statements.length).toBeLessThanOrEqual(1);
  const [statement] = statements;
  if (statement === undefined) return undefined;
  expect(statement).toMatchObject({ Effect: 'Deny', Principal: '*', Resource: '*' });
  return statement.Condition === undefined ? null : [...statement.Condition.ArnNotEquals['aws:PrincipalArn']];
}

describe('caSecretPolicy', () => {
  describe('a secret that holds a private key (an intermediate)', () => {
    it('denies reading its value to all but its readers and writers, writing to all but its writers', () => {
      // Prepare / Act
      const policy = caSecretPolicy('intermediates', PRINCIPALS);

      // Assess
      expect(denialOf(policy, 'secretsmanager:GetSecretValue')).toEqual([
        role('reissue-intermediate'),
        role('restart-workloads'),
      ]);
      for (const write of [
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecret',
        'secretsmanager:UpdateSecretVersionStage',
        'secretsmanager:RotateSecret',
      ]) {
        expect({ write, exempt: denialOf(policy, write) }).toEqual({
          write,
          exempt: [role('reissue-intermediate')],
        });
      }
    });

    it('denies deleting it to everyone when no function deletes intermediates', () => {
      expect(denialOf(caSecretPolicy('intermediates', PRINCIPALS), 'secretsmanager:DeleteSecret')).toBeNull();
    });

    it('names no role of another kind of secret', () => {
      // Prepare
      const policy = JSON.stringify(caSecretPolicy('intermediates', PRINCIPALS));

      // Assess
      for (const other of ['preflight', 'check-expiry', 'stage-root', 'rollback', 'distribute-bundle']) {
        expect({ other, named: policy.includes(role(other)) }).toEqual({ other, named: false });
      }
    });
  });

  describe('the cacerts backups', () => {
    it('lets the steps that delete backups delete them, and only the restoring step read them besides their writers', () => {
      // Prepare / Act
      const policy = caSecretPolicy('backups', PRINCIPALS);

      // Assess
      expect(denialOf(policy, 'secretsmanager:DeleteSecret')).toEqual([
        role('promote-root'),
        role('release-lock'),
        role('rollback'),
      ]);
      expect(denialOf(policy, 'secretsmanager:GetSecretValue')).toEqual([
        role('distribute-bundle'),
        role('reissue-intermediate'),
        role('rollback'),
      ]);
      expect(denialOf(policy, 'secretsmanager:PutSecretValue')).toEqual([
        role('distribute-bundle'),
        role('reissue-intermediate'),
      ]);
    });
  });

  describe("an imported root's key", () => {
    it('is read by the signer alone, written by no function, deleted by the retirer alone', () => {
      const policy = caSecretPolicy('importedRootKeys', PRINCIPALS);
      expect(denialOf(policy, 'secretsmanager:GetSecretValue')).toEqual([role('reissue-intermediate')]);
      expect(denialOf(policy, 'secretsmanager:PutSecretValue')).toBeNull();
      expect(denialOf(policy, 'secretsmanager:DeleteSecret')).toEqual([role('promote-root')]);
    });
  });

  describe('the root secret (certificates only)', () => {
    it('leaves reading to IAM but denies writing to all but its writers and deleting to everyone', () => {
      const policy = caSecretPolicy('root', PRINCIPALS);
      expect(denialOf(policy, 'secretsmanager:GetSecretValue')).toBeUndefined();
      expect(denialOf(policy, 'secretsmanager:UpdateSecretVersionStage')).toEqual([role('stage-root')]);
      expect(denialOf(policy, 'secretsmanager:DeleteSecret')).toBeNull();
    });
  });

  it('never allows anything, and never denies managing the policy itself (an administrator can repair it)', () => {
    for (const kind of ['root', 'intermediates', 'backups', 'importedRootKeys'] as const) {
      const policy = caSecretPolicy(kind, PRINCIPALS);
      expect(policy.Version).toBe('2012-10-17');
      expect(policy.Statement.every((s) => s.Effect === 'Deny')).toBe(true);
      const denied = policy.Statement.flatMap((s) => s.Action);
      expect(denied).not.toContain('secretsmanager:PutResourcePolicy');
      expect(denied).not.toContain('secretsmanager:DeleteResourcePolicy');
      expect(denied).not.toContain('secretsmanager:RestoreSecret');
    }
  });

  it('exempts by aws:PrincipalArn, which a role session carries as its role ARN, not by NotPrincipal', () => {
    const [statement] = caSecretPolicy('intermediates', PRINCIPALS).Statement;
    expect(Object.keys(statement ?? {})).not.toContain('NotPrincipal');
    expect(statement?.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': [role('reissue-intermediate'), role('restart-workloads')] },
    });
  });

  it('refuses a principal that is not a role, or roles of two accounts', () => {
    // A session ARN would exempt one session only; a user is never a function.
    const session = 'arn:aws:sts::123456789012:assumed-role/reissue/meshtrust';
    expect(() => caSecretPolicy('intermediates', { ...PRINCIPALS, intermediatesWrite: [session] })).toThrow(
      /not an IAM role ARN/,
    );
    expect(() =>
      caSecretPolicy('intermediates', {
        ...PRINCIPALS,
        intermediatesRead: ['arn:aws:iam::210987654321:role/restart-workloads'],
      }),
    ).toThrow(/one account/);
  });
});
