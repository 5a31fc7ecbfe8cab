import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { type KeyAlgorithm, keyParamsOf } from './key-algorithm.js';
import { encodePem, parsePemBlocks } from './pem.js';
import {
  EncryptedKeyError,
  NotPemError,
  type PkiContext,
  UnknownCurveError,
  UnsupportedKeyError,
  WrongBlockTypeError,
} from './pki-errors.js';
import { type CryptoKey, subtle } from './x509.js';

/** Key encodings found in the wild: PKCS#8 (ours), SEC1 and PKCS#1 (openssl and Istio's tools). */
const KEY_BLOCK_FORMATS = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
} as const;
type KeyBlockType = keyof typeof KEY_BLOCK_FORMATS;
const KEY_BLOCK_TYPES = Object.keys(KEY_BLOCK_FORMATS);

const CURVES: Record<string, KeyAlgorithm> = { prime256v1: 'ecdsa-p256', secp384r1: 'ecdsa-p384' };
const RSA_SIZES = new Set([2048, 3072, 4096]);

/** PKCS#8 PEM (`PRIVATE KEY`), the form meshtrust writes to `ca-key.pem` and the secret store. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return encodePem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/**
 * A signing CryptoKey from PEM in PKCS#8, SEC1 (`EC PRIVATE KEY`, optionally after the
 * `EC PARAMETERS` block `openssl ecparam -genkey` writes) or PKCS#1 (`RSA PRIVATE KEY`).
 * Encrypted keys, unknown curves and unsupported sizes are refused with a PkiError.
 */
export async function importPrivateKeyPem(pem: string, context: PkiContext = {}): Promise<CryptoKey> {
  const { der, algorithm } = decodePrivateKeyPem(pem, context);
  return subtle.importKey('pkcs8', der, keyParamsOf(algorithm), true, ['sign']);
}

/** The SubjectPublicKeyInfo DER of a private key, to compare with a certificate's public key. */
export function publicKeyDerOf(privateKey: CryptoKey): Uint8Array {
  const keyObject = KeyObject.from(privateKey as Parameters<typeof KeyObject.from>[0]);
  return new Uint8Array(createPublicKey(keyObject).export({ type: 'spki', format: 'der' }));
}

/** The key as PKCS#8 DER plus its algorithm; shared by import and key/cert matching. */
export function decodePrivateKeyPem(
  pem: string,
  context: PkiContext = {},
): { der: Uint8Array; algorithm: KeyAlgorithm } {
  const { keyObject, algorithm } = privateKeyObjectOfPem(pem, context);
  return { der: new Uint8Array(keyObject.export({ type: 'pkcs8', format: 'der' })), algorithm };
}

/** The key as a node KeyObject plus its algorithm, refused as importPrivateKeyPem refuses. */
export function privateKeyObjectOfPem(
  pem: string,
  context: PkiContext = {},
): { keyObject: KeyObject; algorithm: KeyAlgorithm } {
  const blocks = parsePemBlocks(pem, context).filter((block) => block.type !== 'EC PARAMETERS');
  if (
    blocks.some((block) => block.type === 'ENCRYPTED PRIVATE KEY' || isEncryptedTraditional(block.headers))
  ) {
    throw new EncryptedKeyError(context);
  }
  const wrong = blocks.find((block) => !KEY_BLOCK_TYPES.includes(block.type));
  if (wrong) throw new WrongBlockTypeError(KEY_BLOCK_TYPES, wrong.type, context);
  if (blocks.length !== 1) {
    throw new NotPemError(`expected exactly one private key block, found ${blocks.length}`, context);
  }
  const block = blocks[0];

  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({
      key: Buffer.from(block.der),
      format: 'der',
      type: KEY_BLOCK_FORMATS[block.type as KeyBlockType],
    });
  } catch (error) {
    // Never pass the decoder's message on verbatim: keep the error free of anything key-derived.
    throw new UnsupportedKeyError(`the "${block.type}" block cannot be decoded as a private key`, context, {
      cause: error instanceof Error ? new Error(error.name) : undefined,
    });
  }
  return { keyObject, algorithm: algorithmOfKeyObject(keyObject, context) };
}

/** A KeyObject's private key as PKCS#8 PEM (`PRIVATE KEY`), as exportPrivateKeyPem writes a CryptoKey. */
export function privateKeyObjectPem(keyObject: KeyObject): string {
  return encodePem('PRIVATE KEY', keyObject.export({ type: 'pkcs8', format: 'der' }));
}

function algorithmOfKeyObject(keyObject: KeyObject, context: PkiContext): KeyAlgorithm {
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'explicit curve parameters';
    const algorithm = CURVES[curve];
    if (!algorithm) throw new UnknownCurveError(curve, context);
    return algorithm;
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (!RSA_SIZES.has(bits)) throw new UnsupportedKeyError(`RSA with a ${bits}-bit modulus`, context);
    return `rsa-${bits}` as KeyAlgorithm;
  }
  throw new UnsupportedKeyError(`key type ${String(keyObject.asymmetricKeyType)}`, context);
}

function isEncryptedTraditional(headers: Readonly<Record<string, string>>): boolean {
  return /ENCRYPTED/i.test(headers['Proc-Type'] ?? '');
}
