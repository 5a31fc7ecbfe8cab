import type { Finding } from './findings.js';

/**
 * `root-cert.pem` as bytes, not as a set of roots. Istio up to 1.29 takes a changed root-cert.pem only
 * when one file's raw bytes contain the other's (`bytes.Contains` in pilot's handleEvent); 1.30 compares
 * certificate sets. Bytes that contain each other satisfy both, so every phase keeps them: distribute
 * appends to the existing text, retire writes the new root's PEM exactly as it was appended, nothing
 * re-encodes. Strings here are the decoded Secret values; PEM is ASCII, so string containment is byte
 * containment.
 */

export const ROOT_CERT_BYTES_RULE = 'root-cert-bytes-contained';

/**
 * `existing` followed by `addedPem`, both byte for byte. When `existing` does not end with a line
 * break one is inserted first (CRLF when the file uses CRLF), so the appended BEGIN line starts a line.
 */
export function appendRootPem(existing: string, addedPem: string): string {
  if (existing === '' || existing.endsWith('\n')) return existing + addedPem;
  return existing + (existing.includes('\r\n') ? '\r\n' : '\n') + addedPem;
}

/**
 * Istio's byte rule for a root-cert.pem change: compliant when the bytes are equal (no root change at
 * all) or one file contains the other; otherwise istiod up to 1.29 drops the whole cacerts write.
 */
export function checkRootCertBytes(
  previous: string,
  next: string,
  where: { readonly cluster?: string; readonly file?: string } = {},
): Finding {
  const base = { rule: ROOT_CERT_BYTES_RULE, ...where };
  if (previous === next) return { ...base, status: 'compliant', reason: 'root-cert.pem is byte-identical' };
  if (next.includes(previous)) {
    return {
      ...base,
      status: 'compliant',
      reason: 'the new root-cert.pem contains the current one byte for byte',
    };
  }
  if (previous.includes(next)) {
    return {
      ...base,
      status: 'compliant',
      reason: 'the current root-cert.pem contains the new one byte for byte',
    };
  }
  return {
    ...base,
    status: 'non-compliant',
    reason:
      'neither root-cert.pem contains the other byte for byte; Istio up to 1.29 compares raw bytes and would drop ' +
      'the write. Append new roots to the existing text and remove roots by writing a part of it, never re-encode it.',
  };
}
