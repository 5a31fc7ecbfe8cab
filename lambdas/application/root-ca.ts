import type { CaMaterial } from '../adapters/secrets/ca-material.js';
import type { CaSecretStore } from '../adapters/secrets/ca-secret-store.js';
import type { StoredRoot } from '../adapters/secrets/root-material.js';
import type { SigningIssuer } from '../core/pki/certificate-authority.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import type { RotationRuntime } from './runtime.js';

/**
 * A root version as the steps pass it on (an event's `currentRoot`, `stagedRoot`): where it is and which
 * certificate it holds, never a key. Declared here, the layer that reads it; the handlers' event schema
 * (handlers/handler-input.ts) is checked against it.
 */
export interface SecretVersion {
  readonly secretArn: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

/**
 * Reads the root version an earlier step passed on and checks it still holds the certificate that
 * step saw. (A root version holds no private key; see rootIssuer.)
 */
export async function readRootVersion(
  store: CaSecretStore,
  version: SecretVersion,
  context: { readonly phase: string; readonly cluster?: string },
): Promise<StoredRoot> {
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

/**
 * What signs as `root`: a signer over its KMS key, or an imported root's key read into this process.
 * A root whose key is offline cannot sign: PreconditionFailed says what to do instead.
 */
export async function rootIssuer(
  runtime: Pick<RotationRuntime, 'store' | 'rootKeys'>,
  root: StoredRoot,
  context: { readonly phase: string; readonly cluster?: string },
): Promise<CaMaterial | SigningIssuer> {
  const { key, certificatePem } = root.material;
  switch (key.kind) {
    case 'kms':
      return { certificatePem, signer: await runtime.rootKeys.signer(key.keyArn) };
    case 'secret':
      return runtime.store.readImportedRootKey(root);
    case 'offline':
      throw new PreconditionFailed(
        `Root ${root.ref.fingerprint} was imported without its private key, so meshtrust cannot sign with it. ` +
          'Run a scheduled rotation (it signs with a new root whose key is in KMS), or import the root again with its key.',
        context,
      );
  }
}

/** A stored root reduced to what may leave a handler. */
export function secretVersionOf(stored: Pick<StoredRoot, 'ref'>): SecretVersion {
  return { secretArn: stored.ref.arn, versionId: stored.ref.versionId, fingerprint: stored.ref.fingerprint };
}
