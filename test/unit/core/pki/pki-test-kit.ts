import type * as X509 from '@peculiar/x509';
/**
 * Builds certificates with shapes our product code refuses to make (not a CA, wrong EKU, expired...)
 * so the validators can be shown to catch them. Uses @peculiar/x509 directly, not the code under test.
 */
import {
  type CaMaterial,
  exportPrivateKeyPem,
  generateKeyPair,
  type KeyAlgorithm,
  keyAlgorithmOf,
  signingAlgorithmOf,
} from '../../../../lambdas/core/pki/index.js';
import { encodePem } from '../../../../lambdas/core/pki/pem.js';
import { importPrivateKeyPem } from '../../../../lambdas/core/pki/private-key.js';
import { x509 } from '../../../../lambdas/core/pki/x509.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
export const NOW = new Date('2026-06-01T00:00:00Z');

export interface TestCertificateOptions {
  readonly subject: string;
  /** Self-signed when absent. */
  readonly issuer?: CaMaterial;
  readonly ca?: boolean;
  readonly pathLength?: number;
  /** undefined: no keyUsage extension. */
  readonly keyUsage?: X509.KeyUsageFlags;
  readonly extendedKeyUsage?: string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly algorithm?: KeyAlgorithm;
  /** Sign with this key instead of the issuer's (to forge a bad signature). */
  readonly signWith?: CaMaterial;
}

export async function issueTestCertificate(options: TestCertificateOptions): Promise<CaMaterial> {
  const algorithm = options.algorithm ?? 'ecdsa-p256';
  const keys = await generateKeyPair(algorithm);
  const signer = options.signWith ?? options.issuer;
  const signingKey = signer ? await importPrivateKeyPem(signer.privateKeyPem) : keys.privateKey;
  const issuerName = options.issuer
    ? new x509.Name(new x509.X509Certificate(options.issuer.certificatePem).subjectName.toArrayBuffer())
    : options.subject;
  const extensions: X509.Extension[] = [];
  if (options.ca !== undefined) {
    extensions.push(new x509.BasicConstraintsExtension(options.ca, options.pathLength, true));
  }
  if (options.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(options.keyUsage, true));
  if (options.extendedKeyUsage) {
    extensions.push(new x509.ExtendedKeyUsageExtension(options.extendedKeyUsage, false));
  }
  const certificate = await x509.X509CertificateGenerator.create({
    subject: options.subject,
    issuer: issuerName,
    notBefore: options.notBefore ?? new Date(NOW.getTime() - DAY_MS),
    notAfter: options.notAfter ?? new Date(NOW.getTime() + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: signingAlgorithmOf(keyAlgorithmOf(signingKey)),
    extensions,
  });
  return {
    certificatePem: encodePem('CERTIFICATE', certificate.rawData),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
  };
}

export const CA_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
