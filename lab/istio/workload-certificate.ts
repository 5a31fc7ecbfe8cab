// A workload certificate the way istiod's CA signs one for a sidecar's CSR: empty subject, the SPIFFE
// id as the only (critical) SAN, CA:FALSE, digitalSignature + keyEncipherment, EKU serverAuth and
// clientAuth, AKI = the intermediate's SKI. The key is a fresh ECDSA P-256 pair and stays in memory.
import type * as X509 from '@peculiar/x509';
import {
  encodePem,
  exportPrivateKeyPem,
  generateKeyPair,
  keyAlgorithmOf,
  randomSerialNumber,
  signingAlgorithmOf,
} from '../../lambdas/core/pki/index.js';
import { type CryptoKey, x509 } from '../../lambdas/core/pki/x509.js';

/** Leaf notBefore lies this far in the past, as istiod backdates, so small clock skews do not matter. */
export const WORKLOAD_CERT_BACKDATE_MS = 60_000;

export interface WorkloadSigner {
  /** The intermediate's certificate (parsed once per accepted cacerts). */
  readonly certificate: X509.X509Certificate;
  readonly privateKey: CryptoKey;
}

export interface IssueWorkloadCertificateInput {
  readonly signer: WorkloadSigner;
  readonly spiffeId: string;
  readonly issuedAt: Date;
  readonly ttlMs: number;
}

export interface IssuedWorkloadCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly expiresAt: Date;
}

export async function issueWorkloadCertificate(
  input: IssueWorkloadCertificateInput,
): Promise<IssuedWorkloadCertificate> {
  const keys = await generateKeyPair('ecdsa-p256');
  const issuer = input.signer.certificate;
  const issuerSki = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  // X.509 times have whole seconds: round up, so a certificate never lives shorter than its TTL
  // (at a TTL of seconds, truncation would eat a good part of the renewal margin).
  const expiresAt = new Date(Math.ceil((input.issuedAt.getTime() + input.ttlMs) / 1000) * 1000);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: new x509.Name([]),
    issuer: new x509.Name(issuer.subjectName.toArrayBuffer()),
    notBefore: new Date(input.issuedAt.getTime() - WORKLOAD_CERT_BACKDATE_MS),
    notAfter: expiresAt,
    signingAlgorithm: signingAlgorithmOf(keyAlgorithmOf(input.signer.privateKey)),
    publicKey: keys.publicKey,
    signingKey: input.signer.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      // Critical because the subject is empty (RFC 5280 4.2.1.6), as in Istio's workload certificates.
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: input.spiffeId }], true),
      issuerSki
        ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
    ],
  });
  return {
    certificatePem: encodePem('CERTIFICATE', certificate.rawData),
    privateKeyPem: await exportPrivateKeyPem(keys.privateKey),
    expiresAt,
  };
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
