// Who signs a CA certificate: a private key in memory, or one that never leaves a KMS (issue 13). The
// PKI core builds every certificate with @peculiar/x509, which signs through WebCrypto's
// `subtle.sign(algorithm, key, tbs)`; a signer is handed to it as a key of its own whose `sign` goes to
// the signer, digests computed in this thread and every other operation staying WebCrypto's. So no DER
// is encoded by hand: the library writes the TBSCertificate and the signature field, the signer only
// signs bytes.
import { createHash, createPublicKey, KeyObject, sign, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { type KeyAlgorithm, keyAlgorithmOf, keyParamsOf, NODE_DIGESTS, nodeHashOf } from './key-algorithm.js';
import type { PkiContext } from './pki-errors.js';
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
  return keyObjectSigner(KeyObject.from(privateKey as Parameters<typeof KeyObject.from>[0]), algorithm);
}

/**
 * A signer over a node KeyObject of `algorithm` (the caller has checked they agree): it signs in this
 * thread, as WebCrypto's `sign` would (RSASSA-PKCS1-v1_5, or ECDSA as r || s), without a round trip to
 * the thread pool per certificate.
 */
export function keyObjectSigner(privateKey: KeyObject, algorithm: KeyAlgorithm): CertificateSigner {
  const spki = new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const hash = nodeHashOf(algorithm);
  return {
    algorithm,
    publicKeySpki: async () => spki.slice().buffer,
    sign: async (data) =>
      bufferOf(sign(hash, new Uint8Array(data), { key: privateKey, dsaEncoding: 'ieee-p1363' })),
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
      // Digests (a key identifier's SHA-1) in this thread: WebCrypto's is a thread-pool job each.
      if (property === 'digest') {
        return async (algorithm: string | { name: string }, data: ArrayBuffer | ArrayBufferView) => {
          const name = NODE_DIGESTS[typeof algorithm === 'string' ? algorithm : algorithm.name];
          return name === undefined
            ? target.digest(algorithm, data as never)
            : bufferOf(createHash(name).update(bytesOf(data)).digest());
        };
      }
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
  return bytesOf(data).slice().buffer;
}

function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A Buffer's bytes as an ArrayBuffer of their own (a small Buffer shares node's pool). */
function bufferOf(buffer: Buffer): ArrayBuffer {
  return bytesOf(buffer).slice().buffer;
}
