import {
  generateKeyPairSync,
  generateKeyPair as generateNodeKeyPair,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  DEFAULT_KEY_ALGORITHM,
  isKeyAlgorithm,
  KEY_ALGORITHMS,
  type KeyAlgorithm,
} from '../../contract/function-environment.js';
import {
  InvalidPkiArgumentError,
  type PkiContext,
  UnknownCurveError,
  UnsupportedKeyError,
} from './pki-errors.js';
import {
  type CryptoKey,
  type CryptoKeyPair,
  type EcKeyImportParams,
  type RsaHashedImportParams,
  type SigningAlgorithm,
  subtle,
} from './x509.js';

// Declared in the contract, which the stack shares (lib/ validates the keyAlgorithm prop with it) and
// the functions' configuration reads without loading the PKI core.
export { DEFAULT_KEY_ALGORITHM, isKeyAlgorithm, KEY_ALGORITHMS, type KeyAlgorithm };

/** F4, the public exponent of every RSA key meshtrust makes; WebCrypto takes it as big-endian bytes. */
const RSA_PUBLIC_EXPONENT = 0x10001;
const RSA_EXPONENT = new Uint8Array([
  RSA_PUBLIC_EXPONENT >> 16,
  (RSA_PUBLIC_EXPONENT >> 8) & 0xff,
  RSA_PUBLIC_EXPONENT & 0xff,
]);

/** WebCrypto parameters to generate or import a key of `algorithm`. */
export function keyParamsOf(algorithm: KeyAlgorithm): EcKeyImportParams | RsaHashedImportParams {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
}

/**
 * The signature algorithm a key of `algorithm` signs with: the hash matches the key's strength
 * (P-384 -> SHA-384); RSA uses PKCS#1 v1.5 with SHA-256, which every Istio and Go version accepts.
 */
export function signingAlgorithmOf(algorithm: KeyAlgorithm): SigningAlgorithm {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', hash: 'SHA-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', hash: 'SHA-384' };
    default:
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
}

/** The KeyAlgorithm of a WebCrypto key, or UnsupportedKeyError / UnknownCurveError. */
export function keyAlgorithmOf(key: CryptoKey, context: PkiContext = {}): KeyAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  if (algorithm.name === 'ECDSA') {
    if (algorithm.namedCurve === 'P-256') return 'ecdsa-p256';
    if (algorithm.namedCurve === 'P-384') return 'ecdsa-p384';
    throw new UnknownCurveError(String(algorithm.namedCurve), context);
  }
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') {
    const bits = algorithm.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa-${bits}` as KeyAlgorithm;
    throw new UnsupportedKeyError(`RSA with a ${bits}-bit modulus`, context);
  }
  throw new UnsupportedKeyError(`algorithm ${String(algorithm.name)}`, context);
}

/** WebCrypto's names of the hashes the PKI core uses, and node's for them. */
export const NODE_DIGESTS: Readonly<Record<string, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** The hash node's `crypto.sign` takes for a signature of `algorithm`: signingAlgorithmOf's, by node's name. */
export function nodeHashOf(algorithm: KeyAlgorithm): string {
  const hash = signingAlgorithmOf(algorithm).hash;
  return NODE_DIGESTS[typeof hash === 'string' ? hash : hash.name] as string;
}

/** A fresh, extractable key pair (extractable so the private key can be stored as PKCS#8 PEM). */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  requireKeyAlgorithm(algorithm);
  const params = algorithm.startsWith('rsa-')
    ? {
        name: 'RSASSA-PKCS1-v1_5',
        hash: 'SHA-256',
        modulusLength: Number(algorithm.slice(4)),
        publicExponent: RSA_EXPONENT,
      }
    : keyParamsOf(algorithm);
  return (await subtle.generateKey(params as webcrypto.RsaHashedKeyGenParams, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
}

const generateNodeKeyPairAsync = promisify(generateNodeKeyPair);

/**
 * A fresh key pair as node KeyObjects, for the certificate authority's own use, then exported and used
 * to sign synchronously, without the round trip to the thread pool WebCrypto makes for every operation
 * (docs/performance.md, "PKI"). An EC key takes a fraction of a millisecond: it is made in this thread
 * too; an RSA key's prime search can take seconds, so it runs in node's thread pool.
 */
export async function generateKeyObjects(
  algorithm: KeyAlgorithm,
): Promise<{ readonly privateKey: KeyObject; readonly publicKey: KeyObject }> {
  requireKeyAlgorithm(algorithm);
  switch (algorithm) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    default:
      return generateNodeKeyPairAsync('rsa', {
        modulusLength: Number(algorithm.slice('rsa-'.length)),
        publicExponent: RSA_PUBLIC_EXPONENT,
      });
  }
}

function requireKeyAlgorithm(algorithm: KeyAlgorithm): void {
  if (!isKeyAlgorithm(algorithm)) {
    throw new InvalidPkiArgumentError(
      `unknown key algorithm "${String(algorithm)}"; use one of ${KEY_ALGORITHMS.join(', ')}`,
    );
  }
}
