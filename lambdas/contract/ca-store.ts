/**
 * The CA store facts that the stack (lib/), the handlers, the CLI and the lab share, declared once.
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/** The alias of the customer-managed key that encrypts a mesh's CA secrets (lib/ca-store.ts creates it). */
export function caStoreKeyAlias(meshId: string): string {
  return `alias/meshtrust/${meshId}/ca`;
}

/**
 * The CA store's secret names after the mesh's prefix `meshtrust/<mesh>/` (the layout is described in
 * lambdas/adapters/secrets/secret-names.ts; the stack scopes each function's IAM to these parts).
 */
export const CA_SECRET_NAMES = {
  /** The root secret: certificates and where each root's key is, never a key. */
  root: 'root',
  /** `intermediate/<cluster>`: each cluster's intermediate, with its key. */
  intermediates: 'intermediate/',
  /** `backup/<execution>/<cluster>`: cacerts as an execution found it, keys included. */
  backups: 'backup/',
  /** `root-key/<rootVersionId>`: the key of a root imported with its key. */
  importedRootKeys: 'root-key/',
} as const;

export type CaSecretPart = 'root' | 'intermediates' | 'backups';

/** The kinds of CA secret a resource policy is written for: the store's parts, and imported root keys. */
export type CaSecretKind = CaSecretPart | 'importedRootKeys';

/**
 * Environment keys: the role ARNs (comma separated) each kind of CA secret's resource policy exempts,
 * per access: `Read` may read the value, `Write` may write it (and read it), `Delete` may schedule the
 * secret's deletion. The stack sets them from lib/function-access.ts; the handlers put the policy on
 * every secret they create (lambdas/core/access/secret-policy.ts). Kinds without a `Delete` key are
 * deleted by no function: their policy denies deletion to every principal. Unset outside a deployed
 * stack: secrets are created without a resource policy.
 */
export const CA_SECRET_POLICY_ENV = {
  rootRead: 'CA_ROOT_SECRET_READER_ARNS',
  rootWrite: 'CA_ROOT_SECRET_WRITER_ARNS',
  intermediatesRead: 'CA_INTERMEDIATE_SECRET_READER_ARNS',
  intermediatesWrite: 'CA_INTERMEDIATE_SECRET_WRITER_ARNS',
  backupsRead: 'CA_BACKUP_SECRET_READER_ARNS',
  backupsWrite: 'CA_BACKUP_SECRET_WRITER_ARNS',
  backupsDelete: 'CA_BACKUP_SECRET_DELETER_ARNS',
  importedRootKeysRead: 'CA_ROOT_KEY_SECRET_READER_ARNS',
  importedRootKeysDelete: 'CA_ROOT_KEY_SECRET_DELETER_ARNS',
} as const;
export type CaSecretGrant = keyof typeof CA_SECRET_POLICY_ENV;

/** The role ARNs a CA secret's resource policy exempts, per grant (from the CA_SECRET_POLICY_ENV keys). */
export type CaSecretPolicyPrincipals = Readonly<Record<CaSecretGrant, readonly string[]>>;

/** The grants of one kind of secret, and which access each is. */
export const CA_SECRET_GRANTS: Readonly<
  Record<CaSecretKind, Partial<Record<'read' | 'write' | 'delete', CaSecretGrant>>>
> = {
  root: { read: 'rootRead', write: 'rootWrite' },
  intermediates: { read: 'intermediatesRead', write: 'intermediatesWrite' },
  backups: { read: 'backupsRead', write: 'backupsWrite', delete: 'backupsDelete' },
  importedRootKeys: { read: 'importedRootKeysRead', delete: 'importedRootKeysDelete' },
};

/**
 * Whether a kind of secret holds a private key. Its policy denies reading the value to every principal
 * but the named roles; the root secret (certificates and where each root's key is, never a key) is left
 * readable to whoever IAM allows, because operators' `meshtrust plan` and `verify` read it.
 */
export const CA_SECRET_HOLDS_PRIVATE_KEY: Readonly<Record<CaSecretKind, boolean>> = {
  root: false,
  intermediates: true,
  backups: true,
  importedRootKeys: true,
};
