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
