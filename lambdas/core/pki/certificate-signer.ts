// Who signs a CA certificate: a private key in memory, or one that never leaves a KMS (issue 13). The
// PKI core builds every certificate with @peculiar/x509, which signs through WebCrypto's
// `subtle.sign(algorithm, key, tbs)`; a signer is handed to it as a key of its own whose `sign` goes to
// the signer, every other operation staying WebCrypto's. So no DER is encoded by hand: the library
// writes the TBSCertificate and the signature field, the signer only signs bytes.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { type KeyAlgorithm, keyAlgorithmOf, keyParamsOf, signingAlgorithmOf } from './key-algorithm.js';
import type { PkiContext } from './pki-errors.js';
import { publicKeyDerOf } from './private-key.js';
import { type CryptoKey, subtle } from './x509.js';

/** The crypto provider @peculiar/x509's generators take. */
export type X509Crypto = NonNullable<Parameters<typeof X509.X509CertificateGenerator.create>[1]>;

export interface CertificateSigner {
  readonly algorithm: KeyAlgorithm;
  /** The signer's public key, SubjectPublicKeyInfo DER. */
  publicKeySpki(): Promise<ArrayBuffer>;
  /**
   * A signature over `data` (the DER of a TBSCertificate) with the algorithm's hash, as WebCrypto
   * returns it: RSASSA-PKCS1-v1_5 bytes, or ECDSA as r || s (IEEE P1363), not DER.
   */
  sign(data: ArrayBuffer): Promise<ArrayBuffer>;
}

/** A signer whose private key is a WebCrypto key in this process (its algorithm read from the key). */
export function inMemorySigner(privateKey: CryptoKey, context: PkiContext = {}): CertificateSigner {
  const algorithm = keyAlgorithmOf(privateKey, context);
  return {
    algorithm,
    publicKeySpki: async () => publicKeyDerOf(privateKey).slice().buffer,
    sign: (data) => subtle.sign(signingAlgorithmOf(algorithm), privateKey, data),
  };
}

/**
 * What @peculiar/x509's generator takes to sign with `signer`: a stand-in `signingKey` (it reads only
 * its `algorithm`) and a `crypto` whose `subtle.sign` of that key is the signer's.
 */
export function signingWith(signer: CertificateSigner): { signingKey: CryptoKey; crypto: X509Crypto } {
  // `rsa-4096` -> 4096: the modulus a stand-in RSA key reports, as a real one would.
  const bits = signer.algorithm.startsWith('rsa-')
    ? Number(signer.algorithm.slice('rsa-'.length))
    : undefined;
  const signingKey = {
    type: 'private',
    extractable: false,
    usages: ['sign'],
    algorithm: { ...keyParamsOf(signer.algorithm), ...(bits === undefined ? {} : { modulusLength: bits }) },
  } as unknown as CryptoKey;
  const delegated = new Proxy(subtle, {
    get(target, property) {
      if (property === 'sign') {
        return (algorithm: unknown, key: unknown, data: ArrayBuffer | ArrayBufferView) =>
          key === signingKey
            ? signer.sign(toArrayBuffer(data))
            : target.sign(algorithm as never, key as CryptoKey, data as never);
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const crypto = {
    subtle: delegated,
    getRandomValues: (array: never) => webcrypto.getRandomValues(array),
    randomUUID: () => webcrypto.randomUUID(),
  } as unknown as X509Crypto;
  return { signingKey, crypto };
}

function toArrayBuffer(data: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
}
