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

/** A root key's tag that says what it is (its value ROOT_KEY_KIND), beside the mesh's tag (resource-tags.ts). */
export const ROOT_KEY_KIND_TAG_KEY = 'meshtrust.io/kind';
export const ROOT_KEY_KIND = 'root-ca-key';

/**
 * A root key's tag naming the root version it was made for (the execution's ClientRequestToken of the
 * root): how a retried stage-root finds the key an earlier attempt made before it was named by its alias.
 */
export const ROOT_KEY_VERSION_TAG_KEY = 'meshtrust.io/root-version';

/**
 * At most this many keys with no alias, in the stack's account and region, are read for their tags when
 * stage-root looks for a key an earlier attempt made (one ListResourceTags each); with more, stage-root
 * refuses rather than risk a second root key (docs/security.md, "Finding a root key made twice").
 */
export const ROOT_KEY_SEARCH_LIMIT = 1000;

/** The KMS key specs a root key may have (the stack allows kms:CreateKey of these only). */
export const ROOT_KEY_SPECS = ['ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type RootKeySpec = (typeof ROOT_KEY_SPECS)[number];

/**
 * What a function does with root keys: create (and name) them, sign with them, retire them, find the
 * keys of a root version that no alias names by their tags (stage-root, for a key an earlier attempt
 * made; rollback, for every key of the root version it drops).
 */
export type RootKeyUse = 'create' | 'sign' | 'retire' | 'find';

/**
 * What a root key's own policy lets the functions of each use do with it (stage-root writes that policy
 * when it creates the key). The creator needs kms:PutKeyPolicy for KMS's lockout check; the stack
 * denies every function kms:PutKeyPolicy in IAM, so none can ever change a key policy. The finders read
 * its tags (kms:ListResourceTags), which say whose root version it is, and nothing else: only a root
 * key's own policy grants that, so they read no other key's tags.
 */
export const ROOT_KEY_ACTIONS: Readonly<Record<RootKeyUse, readonly string[]>> = {
  create: ['kms:DescribeKey', 'kms:CreateAlias', 'kms:PutKeyPolicy'],
  sign: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Sign'],
  retire: ['kms:DescribeKey', 'kms:DisableKey', 'kms:ScheduleKeyDeletion'],
  find: ['kms:ListResourceTags'],
};

/**
 * Environment keys: the role ARNs (comma separated) a new root key's policy names for each use. Unset
 * outside a deployed stack: keys then get KMS's default key policy.
 */
export const ROOT_KEY_PRINCIPALS_ENV = {
  create: 'ROOT_KEY_CREATOR_ARNS',
  sign: 'ROOT_KEY_SIGNER_ARNS',
  retire: 'ROOT_KEY_RETIRER_ARNS',
  find: 'ROOT_KEY_FINDER_ARNS',
} as const satisfies Record<RootKeyUse, string>;
