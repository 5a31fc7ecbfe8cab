import { createHash } from 'node:crypto';
import { parseSinglePemBlock } from './pem.js';
import type { PkiContext } from './pki-errors.js';

/** SHA-256 of DER bytes, lowercase hex without separators: the identity of a certificate in reports. */
export function sha256Fingerprint(der: Uint8Array | ArrayBuffer): string {
  return createHash('sha256')
    .update(der instanceof Uint8Array ? der : new Uint8Array(der))
    .digest('hex');
}

/** Fingerprint of the single certificate in `pem`. */
export function certificateFingerprint(pem: string, context: PkiContext = {}): string {
  return sha256Fingerprint(parseSinglePemBlock(pem, ['CERTIFICATE'], context).der);
}
