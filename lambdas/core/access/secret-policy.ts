import {
  CA_SECRET_GRANTS,
  CA_SECRET_HOLDS_PRIVATE_KEY,
  type CaSecretKind,
  type CaSecretPolicyPrincipals,
} from '../../contract/ca-store.js';

/** Reading a secret's value. */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
/** Changing a secret's value or which version is current (UpdateSecret and RotateSecret can too). */
export const SECRET_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:RotateSecret',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
] as const;
/** Scheduling a secret's deletion. */
export const SECRET_DELETE_ACTIONS = ['secretsmanager:DeleteSecret'] as const;

/** One statement of a secret's resource policy: every one denies, to all but `allowed`. */
export interface SecretPolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Deny';
  readonly Principal: '*';
  readonly Action: readonly string[];
  readonly Resource: '*';
  /** Absent when no role is exempt: the actions are denied to every principal. */
  readonly Condition?: { readonly ArnNotEquals: { readonly 'aws:PrincipalArn': readonly string[] } };
}

export interface SecretPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: readonly SecretPolicyStatement[];
}

/**
 * The resource policy of one kind of CA secret: it only denies, so it takes nothing from what IAM gives
 * the named roles and gives no one anything. Each denial exempts the roles of its grant by
 * `aws:PrincipalArn`, which for a role's session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`)
 * is the role's ARN; a `NotPrincipal` would have to name every session.
 *
 * - reading the value: denied to all but the readers and writers, for secrets that hold a private key
 *   (CA_SECRET_HOLDS_PRIVATE_KEY; the root secret holds certificates only and stays readable through IAM);
 * - writing it (PutSecretValue, UpdateSecret, UpdateSecretVersionStage, RotateSecret): all but the writers;
 * - deleting the secret: all but the deleters, or everyone when no function deletes that kind.
 *
 * Managing the policy itself (PutResourcePolicy, DeleteResourcePolicy) is left to IAM, so that an
 * administrator can always repair a policy that names roles which no longer exist (docs/security.md).
 * RangeError for an ARN that is not an IAM role's, or roles of more than one account.
 */
export function caSecretPolicy(kind: CaSecretKind, principals: CaSecretPolicyPrincipals): SecretPolicy {
  const grants = CA_SECRET_GRANTS[kind];
  const of = (grant: keyof typeof grants): string[] => {
    const name = grants[grant];
    return name === undefined ? [] : [...principals[name]];
  };
  const writers = of('write');
  const readers = [...of('read'), ...writers];
  checkRoles([...readers, ...of('delete')]);
  const statements: SecretPolicyStatement[] = [];
  if (CA_SECRET_HOLDS_PRIVATE_KEY[kind]) {
    statements.push(deny('OnlyNamedRolesReadThisSecret', SECRET_READ_ACTIONS, readers));
  }
  statements.push(deny('OnlyNamedRolesWriteThisSecret', SECRET_WRITE_ACTIONS, writers));
  statements.push(deny('OnlyNamedRolesDeleteThisSecret', SECRET_DELETE_ACTIONS, of('delete')));
  return { Version: '2012-10-17', Statement: statements };
}

function deny(sid: string, actions: readonly string[], allowed: readonly string[]): SecretPolicyStatement {
  const exempt = [...new Set(allowed)].sort();
  return {
    Sid: sid,
    Effect: 'Deny',
    Principal: '*',
    Action: [...actions],
    Resource: '*',
    ...(exempt.length > 0 && { Condition: { ArnNotEquals: { 'aws:PrincipalArn': exempt } } }),
  };
}

const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role\/[\w+=,.@/-]+$/;

function checkRoles(arns: readonly string[]): void {
  const accounts = new Set<string>();
  for (const arn of arns) {
    const match = ROLE_ARN.exec(arn);
    if (match === null) {
      throw new RangeError(
        `${JSON.stringify(arn)} is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>); a CA secret's policy names roles only`,
      );
    }
    accounts.add(`${match[1]}:${match[2]}`);
  }
  if (accounts.size > 1) {
    throw new RangeError(`A CA secret's roles must be of one account, got ${JSON.stringify([...accounts])}`);
  }
}
