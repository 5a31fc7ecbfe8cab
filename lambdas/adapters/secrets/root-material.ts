import { PreconditionFailed } from '../../core/rotation-errors.js';
import type { SecretVersionRef } from './ca-material.js';

/**
 * Where a root's private key is. Never in the root secret: its versions hold the certificate and this
 * reference only, so every step may read a root without reading a key (issue 13, docs/security.md).
 *
 * - `kms`: an asymmetric KMS key that signs and never leaves KMS; every root stage-root makes.
 * - `secret`: the key of a root brought in with `meshtrust import-root`, kept in a secret of its own
 *   until the first rotation retires that root and deletes the secret.
 * - `offline`: a root brought in as a certificate only; its key stays with its owner. It cannot sign,
 *   so intermediate mode is refused; a scheduled or emergency rotation moves the mesh to a KMS root.
 */
export type RootKey =
  | { readonly kind: 'kms'; readonly keyArn: string }
  | { readonly kind: 'secret'; readonly secretName: string }
  | { readonly kind: 'offline' };

/** One version of the root secret. */
export interface RootMaterial {
  readonly certificatePem: string;
  /** SHA-256 fingerprint of the certificate, as lambdas/core/pki computes it. */
  readonly fingerprint: string;
  readonly key: RootKey;
}

/** A root read from its secret. Holds no private key, so it may be passed around in-process freely. */
export interface StoredRoot {
  readonly ref: SecretVersionRef;
  /** The staging labels of the version, e.g. ['AWSCURRENT']. */
  readonly stages: readonly string[];
  readonly material: RootMaterial;
}

export function serialiseRootMaterial(material: RootMaterial): string {
  const { certificatePem, fingerprint, key } = material;
  return JSON.stringify(checkRootMaterial({ certificatePem, fingerprint, key }, 'the root to store'));
}

/** Parses a root secret string; the error names the secret and what is wrong, never what it holds. */
export function parseRootMaterial(secretString: string | undefined, where: string): RootMaterial {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new PreconditionFailed(
      `${where} does not hold JSON; it should hold { certificatePem, fingerprint, key }. Restore it from its ` +
        'previous version, or import the root again (meshtrust import-root).',
    );
  }
  return checkRootMaterial(parsed, where);
}

function checkRootMaterial(value: unknown, where: string): RootMaterial {
  const record = asRecord(value);
  if ('privateKeyPem' in record) {
    // Refused rather than read: a root key must not sit next to the certificate every step reads.
    throw new PreconditionFailed(
      `${where} holds a private key next to the root certificate, where every step that reads the root would ` +
        'read it too. Move the root in again with meshtrust import-root (which keeps an imported key in a ' +
        'secret of its own), then delete this version.',
    );
  }
  const key = asRecord(record.key);
  const problems = [
    typeof record.certificatePem === 'string' && record.certificatePem.includes('-----BEGIN CERTIFICATE-----')
      ? undefined
      : 'certificatePem is not a PEM certificate',
    typeof record.fingerprint === 'string' && record.fingerprint !== ''
      ? undefined
      : 'fingerprint is missing',
    isRootKey(key)
      ? undefined
      : 'key is not { kind: "kms", keyArn } | { kind: "secret", secretName } | { kind: "offline" }',
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) {
    throw new PreconditionFailed(`${where} is not a valid root: ${problems.join('; ')}.`);
  }
  return {
    certificatePem: record.certificatePem as string,
    fingerprint: record.fingerprint as string,
    key: key as unknown as RootKey,
  };
}

function isRootKey(key: Record<string, unknown>): boolean {
  switch (key.kind) {
    case 'kms':
      return typeof key.keyArn === 'string' && key.keyArn !== '' && Object.keys(key).length === 2;
    case 'secret':
      return typeof key.secretName === 'string' && key.secretName !== '' && Object.keys(key).length === 2;
    case 'offline':
      return Object.keys(key).length === 1;
    default:
      return false;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
