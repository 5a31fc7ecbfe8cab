import { PreconditionFailed } from '../../core/rotation-errors.js';

/** A CA as stored in its secret: what istiod or the signer needs, plus its identity. */
export interface CaMaterial {
  readonly certificatePem: string;
  /** Unencrypted PEM. Only ever read in-process by the handler that signs with it. */
  readonly privateKeyPem: string;
  /** SHA-256 fingerprint of the certificate, as lambdas/core/pki computes it. */
  readonly fingerprint: string;
}

/** What a handler may pass on: where a secret version is and which certificate it holds. No key. */
export interface SecretVersionRef {
  readonly arn: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

/** A CA read from its secret, for use in-process. Pass `ref` on, never `material`. */
export interface StoredCa {
  readonly ref: SecretVersionRef;
  /** The staging labels of the version, e.g. ['AWSCURRENT']. */
  readonly stages: readonly string[];
  readonly material: CaMaterial;
}

export function serialiseCaMaterial(material: CaMaterial): string {
  const { certificatePem, privateKeyPem, fingerprint } = material;
  checkCaMaterial({ certificatePem, privateKeyPem, fingerprint }, 'the CA material to store');
  return JSON.stringify({ certificatePem, privateKeyPem, fingerprint });
}

/** Parses a secret string; the error says which secret is malformed, never what it holds. */
export function parseCaMaterial(secretString: string | undefined, where: string): CaMaterial {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new PreconditionFailed(
      `${where} does not hold JSON; it should hold { certificatePem, privateKeyPem, fingerprint }. ` +
        'Restore it from its previous version or re-create it with meshtrust.',
    );
  }
  return checkCaMaterial(parsed, where);
}

function checkCaMaterial(value: unknown, where: string): CaMaterial {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const problems = [
    typeof record.certificatePem === 'string' && record.certificatePem.includes('-----BEGIN CERTIFICATE-----')
      ? undefined
      : 'certificatePem is not a PEM certificate',
    typeof record.privateKeyPem === 'string' && record.privateKeyPem.includes('PRIVATE KEY-----')
      ? undefined
      : 'privateKeyPem is not a PEM private key',
    typeof record.fingerprint === 'string' && record.fingerprint !== ''
      ? undefined
      : 'fingerprint is missing',
  ].filter((problem) => problem !== undefined);
  if (problems.length > 0) {
    throw new PreconditionFailed(
      `${where} is not valid CA material: ${problems.join('; ')}. ` +
        'It should hold { certificatePem, privateKeyPem, fingerprint }.',
    );
  }
  return record as unknown as CaMaterial;
}
