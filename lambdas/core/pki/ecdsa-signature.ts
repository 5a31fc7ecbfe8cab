// An ECDSA signature from KMS (or OpenSSL) is DER, ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
// (RFC 3279); WebCrypto's, which a CertificateSigner returns, is r || s, each unsigned and left-padded
// to the curve's size (IEEE P1363). Converted here without @peculiar/x509, so the KMS signer's module,
// which every function's runtime loads, does not bring the certificate library into functions that
// never sign (docs/performance.md, "Lambda handlers"); test/unit/core/pki/ecdsa-signature.test.ts checks
// it against the library's own converter.
import type { KeyAlgorithm } from '../../contract/function-environment.js';
import { InvalidPkiArgumentError } from './pki-errors.js';

/** Bytes of r and of s on each curve meshtrust signs with. */
const CURVE_BYTES: Partial<Record<KeyAlgorithm, number>> = { 'ecdsa-p256': 32, 'ecdsa-p384': 48 };

const SEQUENCE = 0x30;
const INTEGER = 0x02;

/** A DER ECDSA-Sig-Value of `algorithm`'s curve as r || s; InvalidPkiArgumentError for anything else. */
export function ecdsaSignatureFromDer(der: ArrayBuffer, algorithm: KeyAlgorithm): ArrayBuffer {
  const size = CURVE_BYTES[algorithm];
  if (size === undefined) throw new InvalidPkiArgumentError(`not an ECDSA signature of ${algorithm}`);
  const bytes = new Uint8Array(der);
  const invalid = (why: string) =>
    new InvalidPkiArgumentError(`not a DER ECDSA signature of ${algorithm} (${bytes.length} bytes): ${why}`);
  let offset = 0;
  const readLength = (): number => {
    const first = bytes[offset++];
    if (first === undefined) throw invalid('it ends inside a length');
    if (first < 0x80) return first;
    // A signature of these curves is at most 2 + 2 x (2 + 49) bytes: one length byte of long form.
    if (first !== 0x81) throw invalid('a length of more than one byte');
    const length = bytes[offset++];
    if (length === undefined || length < 0x80) throw invalid('a length not in its shortest form');
    return length;
  };
  const readInteger = (): Uint8Array => {
    if (bytes[offset++] !== INTEGER) throw invalid('r and s must be INTEGERs');
    const length = readLength();
    if (length === 0 || offset + length > bytes.length) throw invalid('an INTEGER longer than the signature');
    let value = bytes.subarray(offset, offset + length);
    offset += length;
    if ((value[0] as number) & 0x80) throw invalid('a negative INTEGER');
    if (value[0] === 0 && value.length > 1) {
      if (((value[1] as number) & 0x80) === 0) throw invalid('an INTEGER not in its shortest form');
      value = value.subarray(1);
    }
    if (value.length > size) throw invalid(`an INTEGER of more than ${size} bytes`);
    return value;
  };
  if (bytes[offset++] !== SEQUENCE) throw invalid('it is not a SEQUENCE');
  if (readLength() !== bytes.length - offset) throw invalid('the SEQUENCE length is not the rest of it');
  const r = readInteger();
  const s = readInteger();
  if (offset !== bytes.length) throw invalid('bytes after s');
  const raw = new Uint8Array(2 * size);
  raw.set(r, size - r.length);
  raw.set(s, 2 * size - s.length);
  return raw.buffer;
}
