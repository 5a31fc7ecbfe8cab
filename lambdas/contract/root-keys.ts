/**
 * The facts of the mesh's root keys that the stack (lib/) and the handlers both need, declared once.
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/**
 * Environment key: days between retiring a root key (promote-root for the old root, rollback for a
 * staged one) and its deletion. A retired key is disabled at once; within the window an operator can
 * still cancel the deletion (docs/security.md).
 */
export const ROOT_KEY_DELETION_WINDOW_DAYS_ENV = 'ROOT_KEY_DELETION_WINDOW_DAYS';

/** KMS's bounds for a key's deletion window (Secrets Manager's recovery window has the same), and ours. */
export const ROOT_KEY_DELETION_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;

/** The prefix of every root key's alias: `alias/meshtrust/<meshId>/root/<rootVersionId>`. */
export function rootKeyAliasPrefix(meshId: string): string {
  return `alias/meshtrust/${meshId}/root/`;
}

/**
 * Environment key: ARN of the role that uses the root keys (the stack's rotator role). stage-root writes
 * it into each new key's key policy, so that role may use the keys it created and no other key: IAM
 * grants it only kms:CreateKey and aliases under the mesh's prefix (docs/security.md). Unset outside a
 * deployed stack: keys then get KMS's default key policy.
 */
export const ROOT_KEY_USER_ARN_ENV = 'ROOT_KEY_USER_ARN';

/** What the key policy lets the rotator do with a root key it created. */
export const ROOT_KEY_USER_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetPublicKey',
  'kms:Sign',
  'kms:CreateAlias',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
] as const;

/** The KMS key specs a root key may have (the stack allows kms:CreateKey of these only). */
export const ROOT_KEY_SPECS = ['ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type RootKeySpec = (typeof ROOT_KEY_SPECS)[number];
