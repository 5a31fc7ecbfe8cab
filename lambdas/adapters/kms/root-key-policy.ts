import { ROOT_KEY_USER_ACTIONS } from '../../contract/root-keys.js';

/**
 * The key policy of a root key, set when stage-root creates it, so that access is decided the moment the
 * key exists and by nothing an attacker could add later (a tag or an alias on some other key):
 *
 * - the account may manage the key through IAM, as KMS's default policy allows (so an administrator can
 *   always recover it);
 * - the role that uses root keys may describe, sign, alias, disable and schedule the deletion of this
 *   key, and PutKeyPolicy, which KMS's lockout check requires of the creator. The stack denies that role
 *   kms:PutKeyPolicy in IAM, and an explicit deny wins, so it can never widen this policy.
 */
export function rootKeyPolicy(userArn: string): string {
  const account = /^arn:([a-z-]+):(?:iam|sts)::(\d{12}):/.exec(userArn);
  if (account === null) {
    throw new RangeError(
      `${JSON.stringify(userArn)} is not an IAM role ARN (arn:<partition>:iam::<account>:role/...)`,
    );
  }
  const [, partition, accountId] = account;
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
      {
        Sid: 'RotatorUsesThisRootKey',
        Effect: 'Allow',
        Principal: { AWS: userArn },
        Action: [...ROOT_KEY_USER_ACTIONS, 'kms:PutKeyPolicy'],
        Resource: '*',
      },
    ],
  });
}
