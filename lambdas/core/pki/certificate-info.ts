import type * as X509 from '@peculiar/x509';
import { parseCertificatePem } from './certificate.js';
import type { PkiContext } from './pki-errors.js';
import { x509 } from './x509.js';

/** The public facts of a certificate, for plans, reports and audit events. */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** Lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  readonly isCa: boolean;
  readonly pathLength?: number;
  /** Names of the keyUsage bits set, e.g. `keyCertSign`; empty when the extension is absent. */
  readonly keyUsage: readonly string[];
  /** Purpose names (serverAuth, ...) or OIDs; undefined when the extension is absent. */
  readonly extendedKeyUsage?: readonly string[];
  readonly subjectAlternativeNames: readonly string[];
  readonly subjectKeyId?: string;
  readonly authorityKeyId?: string;
}

const KEY_USAGE_NAMES: readonly [X509.KeyUsageFlags, string][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const EKU_NAMES: Record<string, string> = {
  [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth',
  [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth',
  [x509.ExtendedKeyUsage.codeSigning]: 'codeSigning',
  [x509.ExtendedKeyUsage.emailProtection]: 'emailProtection',
  [x509.ExtendedKeyUsage.timeStamping]: 'timeStamping',
  [x509.ExtendedKeyUsage.ocspSigning]: 'ocspSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

export function keyUsageNames(usages: X509.KeyUsageFlags): string[] {
  return KEY_USAGE_NAMES.filter(([flag]) => (usages & flag) !== 0).map(([, name]) => name);
}

export function extendedKeyUsageNames(certificate: X509.X509Certificate): string[] | undefined {
  const extension = certificate.getExtension(x509.ExtendedKeyUsageExtension);
  return extension?.usages.map((usage) => EKU_NAMES[String(usage)] ?? String(usage));
}

export function describeCertificate(pem: string, context: PkiContext = {}): CertificateInfo {
  const { certificate, fingerprint } = parseCertificatePem(pem, context);
  return describeParsedCertificate(certificate, fingerprint);
}

export function describeParsedCertificate(
  certificate: X509.X509Certificate,
  fingerprint: string,
): CertificateInfo {
  const basicConstraints = certificate.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = certificate.getExtension(x509.KeyUsagesExtension);
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = certificate.getExtension(x509.AuthorityKeyIdentifierExtension);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprint,
    isCa: basicConstraints?.ca ?? false,
    ...(basicConstraints?.ca && basicConstraints.pathLength !== undefined
      ? { pathLength: basicConstraints.pathLength }
      : {}),
    keyUsage: keyUsage ? keyUsageNames(keyUsage.usages) : [],
    ...(extendedKeyUsageNames(certificate) ? { extendedKeyUsage: extendedKeyUsageNames(certificate) } : {}),
    subjectAlternativeNames: san ? san.names.items.map((name) => `${name.type}:${name.value}`) : [],
    ...(ski ? { subjectKeyId: ski.keyId.toLowerCase() } : {}),
    ...(aki?.keyId ? { authorityKeyId: aki.keyId.toLowerCase() } : {}),
  };
}
