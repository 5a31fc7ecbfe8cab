// What makes two CA certificates "the same kind": the facts a verifier (Go's x509, istiod) looks at,
// read with the PKI core's parser. The PKI bench compares ours and openssl's with it, so the ratio it
// prints compares like with like.
import { X509Certificate } from 'node:crypto';
import {
  describeParsedCertificate,
  type PkiContext,
  parseCertificatePem,
} from '../lambdas/core/pki/index.js';

export interface CaProfile {
  readonly subject: string;
  /** `ec prime256v1`, `rsa 4096`. */
  readonly key: string;
  /** `ECDSA SHA-256`, `RSASSA-PKCS1-v1_5 SHA-256`. */
  readonly signature: string;
  readonly isCa: boolean;
  readonly pathLength: string;
  readonly keyUsage: string;
  readonly extendedKeyUsage: string;
  readonly subjectAlternativeNames: string;
  readonly subjectKeyId: boolean;
  readonly authorityKeyId: boolean;
}

export function caProfileOf(pem: string, context: PkiContext = {}): CaProfile {
  const { certificate, fingerprint } = parseCertificatePem(pem, context);
  const info = describeParsedCertificate(certificate, fingerprint);
  const publicKey = new X509Certificate(pem).publicKey;
  const signature = certificate.signatureAlgorithm as { name: string; hash?: string | { name: string } };
  const hash = typeof signature.hash === 'string' ? signature.hash : signature.hash?.name;
  return {
    subject: info.subject,
    // Node's KeyObject, because WebCrypto's view of a parsed RSA key has no modulus size.
    key: `${publicKey.asymmetricKeyType} ${publicKey.asymmetricKeyDetails?.namedCurve ?? publicKey.asymmetricKeyDetails?.modulusLength}`,
    signature: `${signature.name} ${hash ?? ''}`.trim(),
    isCa: info.isCa,
    pathLength: info.pathLength === undefined ? 'none' : String(info.pathLength),
    keyUsage: [...info.keyUsage].sort().join(', '),
    extendedKeyUsage: info.extendedKeyUsage === undefined ? 'absent' : info.extendedKeyUsage.join(', '),
    subjectAlternativeNames: info.subjectAlternativeNames.join(', '),
    subjectKeyId: info.subjectKeyId !== undefined,
    authorityKeyId: info.authorityKeyId !== undefined,
  };
}

/** `field: ours vs theirs` for every fact that differs; empty when the profiles match. */
export function profileDifferences(ours: CaProfile, theirs: CaProfile): string[] {
  return (Object.keys(ours) as (keyof CaProfile)[])
    .filter((field) => ours[field] !== theirs[field])
    .map((field) => `${field}: ${String(ours[field])} vs ${String(theirs[field])}`);
}
