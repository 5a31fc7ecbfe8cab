import {
  generateKeyPair,
  isKeyAlgorithm,
  KEY_ALGORITHMS,
  keyAlgorithmOf,
  signingAlgorithmOf,
} from '../../../../lambdas/core/pki/key-algorithm.js';
import {
  InvalidPkiArgumentError,
  UnknownCurveError,
  UnsupportedKeyError,
} from '../../../../lambdas/core/pki/pki-errors.js';
import { subtle } from '../../../../lambdas/core/pki/x509.js';

describe('generateKeyPair', () => {
  it.each([
    ['ecdsa-p256', { name: 'ECDSA', namedCurve: 'P-256' }],
    ['ecdsa-p384', { name: 'ECDSA', namedCurve: 'P-384' }],
    ['rsa-2048', { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048 }],
  ] as const)('makes an extractable %s key pair', async (algorithm, expected) => {
    // Act
    const keys = await generateKeyPair(algorithm);

    // Assess
    expect(keys.privateKey.algorithm).toMatchObject(expected);
    expect(keys.privateKey.extractable).toBe(true);
    expect(keyAlgorithmOf(keys.privateKey)).toBe(algorithm);
  });

  it('refuses an algorithm outside the supported list', async () => {
    // Act / Assess
    await expect(generateKeyPair('ed25519' as never)).rejects.toThrow(InvalidPkiArgumentError);
  });
});

describe('signingAlgorithmOf', () => {
  it.each([
    ['ecdsa-p256', { name: 'ECDSA', hash: 'SHA-256' }],
    ['ecdsa-p384', { name: 'ECDSA', hash: 'SHA-384' }],
    ['rsa-3072', { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }],
  ] as const)('matches the hash to the strength of a %s key', (algorithm, expected) => {
    // Act / Assess
    expect(signingAlgorithmOf(algorithm)).toEqual(expected);
  });
});

describe('keyAlgorithmOf', () => {
  it('refuses an ECDSA key on a curve we do not sign with', async () => {
    // Prepare
    const keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, true, ['sign'])) as {
      privateKey: Parameters<typeof keyAlgorithmOf>[0];
    };

    // Act / Assess
    expect(() => keyAlgorithmOf(keys.privateKey, { file: 'ca-key.pem' })).toThrow(UnknownCurveError);
  });

  it('refuses a key of another family', async () => {
    // Prepare
    const keys = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign'])) as {
      privateKey: Parameters<typeof keyAlgorithmOf>[0];
    };

    // Act / Assess
    expect(() => keyAlgorithmOf(keys.privateKey)).toThrow(UnsupportedKeyError);
  });
});

describe('isKeyAlgorithm', () => {
  it('accepts exactly the listed algorithms', () => {
    // Act / Assess
    expect(KEY_ALGORITHMS.every(isKeyAlgorithm)).toBe(true);
    expect(isKeyAlgorithm('rsa-1024')).toBe(false);
    expect(isKeyAlgorithm(undefined)).toBe(false);
  });
});
