/**
 * The CA store facts that the stack (lib/), the handlers, the CLI and the lab share, declared once.
 * Nothing here imports anything, so lib/ can use it without pulling handler code into synthesis.
 */

/** The alias of the customer-managed key that encrypts a mesh's CA secrets (lib/ca-store.ts creates it). */
export function caStoreKeyAlias(meshId: string): string {
  return `alias/meshtrust/${meshId}/ca`;
}

/** The root secret's name after the mesh's prefix `meshtrust/<mesh>/`: certificates only, never a key. */
export const ROOT_SECRET_SUFFIX = 'root';
