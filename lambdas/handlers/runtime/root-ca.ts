import type { StoredCa } from '../../adapters/secrets/ca-material.js';
import type { CaSecretStore } from '../../adapters/secrets/ca-secret-store.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import type { SecretVersion } from './handler-input.js';

/**
 * Reads the root version an earlier step passed on and checks it still holds the certificate that
 * step saw. The material (with its key) stays in this process.
 */
export async function readRootVersion(
  store: CaSecretStore,
  version: SecretVersion,
  context: { readonly phase: string; readonly cluster?: string },
): Promise<StoredCa> {
  const stored = await store.readRootVersion(version.versionId);
  if (stored.ref.fingerprint !== version.fingerprint) {
    throw new PreconditionFailed(
      `Root secret version ${version.versionId} holds certificate ${stored.ref.fingerprint}, not ${version.fingerprint} ` +
        'as the execution recorded; someone changed the CA store. Roll back and start a new execution.',
      context,
    );
  }
  return stored;
}

/** A StoredCa reduced to what may leave a handler. */
export function secretVersionOf(stored: Pick<StoredCa, 'ref'>): SecretVersion {
  return { secretArn: stored.ref.arn, versionId: stored.ref.versionId, fingerprint: stored.ref.fingerprint };
}
