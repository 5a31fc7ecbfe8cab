import type * as X509 from '@peculiar/x509';
import { sha256Fingerprint } from './fingerprint.js';
import { parsePemBlocks } from './pem.js';
import { InvalidCertificateError, type PkiContext, WrongBlockTypeError } from './pki-errors.js';
import { x509 } from './x509.js';

/** A parsed certificate with the DER it came from (identity is always compared by DER). */
export interface ParsedCertificate {
  readonly certificate: X509.X509Certificate;
  readonly der: Uint8Array;
  readonly fingerprint: string;
}

/** Every certificate in `pem`, in order; any non-CERTIFICATE block is an error. */
export function parseCertificatesPem(pem: string, context: PkiContext = {}): ParsedCertificate[] {
  return parsePemBlocks(pem, context).map((block) => {
    if (block.type !== 'CERTIFICATE') throw new WrongBlockTypeError(['CERTIFICATE'], block.type, context);
    return certificateFromDer(block.der, context);
  });
}

/** The single certificate in `pem`. */
export function parseCertificatePem(pem: string, context: PkiContext = {}): ParsedCertificate {
  const certificates = parseCertificatesPem(pem, context);
  if (certificates.length !== 1) {
    throw new InvalidCertificateError(
      `expected exactly one certificate, found ${certificates.length}`,
      context,
    );
  }
  return certificates[0];
}

export function certificateFromDer(der: Uint8Array, context: PkiContext = {}): ParsedCertificate {
  try {
    return { certificate: new x509.X509Certificate(der), der, fingerprint: sha256Fingerprint(der) };
  } catch (error) {
    throw new InvalidCertificateError('its DER does not decode', context, { cause: error });
  }
}

export function sameBytes(a: Uint8Array | ArrayBuffer, b: Uint8Array | ArrayBuffer): boolean {
  return Buffer.from(a instanceof Uint8Array ? a : new Uint8Array(a)).equals(
    Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)),
  );
}

/** Subject and issuer compared as DER, as Go's x509 does when it links a chain. */
export function namesMatch(issuer: X509.Name, subject: X509.Name): boolean {
  return sameBytes(issuer.toArrayBuffer(), subject.toArrayBuffer());
}

/** Whether `child` names `parent` as its issuer and carries a valid signature by `parent`'s key. */
export async function isIssuedBy(
  child: X509.X509Certificate,
  parent: X509.X509Certificate,
): Promise<boolean> {
  if (!namesMatch(child.issuerName, parent.subjectName)) return false;
  try {
    return await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}
