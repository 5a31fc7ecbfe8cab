import { ROOT_KEY_ACTIONS, type RootKeyUse } from '../../contract/root-keys.js';

/** The role ARNs a root key's policy names for each use (the stack gives one role per function). */
export type RootKeyPrincipals = Readonly<Record<RootKeyUse, readonly string[]>>;

const STATEMENT_IDS: Readonly<Record<RootKeyUse, string>> = {
  create: 'CreatorNamesThisRootKey',
  sign: 'SignersSignWithThisRootKey',
  retire: 'RetirersRetireThisRootKey',
  find: 'FindersReadTheTagsOfThisRootKey',
};

/**
 * The key policy of a root key, set when stage-root creates it, so that access is decided the moment the
 * key exists and by nothing an attacker could add later (a tag or an alias on some other key):
 *
 * - the account may manage the key through IAM, as KMS's default policy allows (so an administrator can
 *   always recover it);
 * - each use's roles get that use's actions (ROOT_KEY_ACTIONS): the creator may describe and alias the
 *   key, and PutKeyPolicy, which KMS's lockout check requires of the creator (the stack denies it in
 *   IAM, and an explicit deny wins, so it can never widen this policy); the signers may sign; the
 *   retirers may disable the key and schedule its deletion; the finders (stage-root, rollback) may read
 *   its tags, which name its root version, to find it while no alias names it.
 *
 * Every role must be of one account; the creator list may not be empty (KMS would refuse the policy).
 */
export function rootKeyPolicy(principals: RootKeyPrincipals): string {
  const arns = Object.values(principals).flat();
  const accounts = new Set(arns.map(accountOf));
  if (accounts.size !== 1) {
    throw new RangeError(`A root key's roles must be of one account, got ${JSON.stringify([...accounts])}`);
  }
  if (principals.create.length === 0) {
    throw new RangeError("A root key's policy must name its creator (ROOT_KEY_CREATOR_ARNS)");
  }
  const [partition, accountId] = ([...accounts][0] as string).split(':');
  const statements = (Object.keys(STATEMENT_IDS) as RootKeyUse[])
    .filter((use) => principals[use].length > 0)
    .map((use) => ({
      Sid: STATEMENT_IDS[use],
      Effect: 'Allow',
      Principal: { AWS: principals[use].length === 1 ? principals[use][0] : [...principals[use]] },
      Action: [...ROOT_KEY_ACTIONS[use]],
      Resource: '*',
    }));
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AccountManagesThroughIam',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      ...statements,
    ],
  });
}

/** `<partition>:<account>` of an IAM role ARN; RangeError for anything else. */
function accountOf(arn: string): string {
  const match = /^arn:([a-z-]+):iam::(\d{12}):role\/.+$/.exec(arn);
  if (match === null) {
    throw new RangeError(
      `${JSON.stringify(arn)} is not an IAM role ARN (arn:<partition>:iam::<account>:role/...)`,
    );
  }
  return `${match[1]}:${match[2]}`;
}
