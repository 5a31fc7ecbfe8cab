import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair } from '../../../../lambdas/core/pki/key-algorithm.js';
import { encodePem, parsePemBlocks } from '../../../../lambdas/core/pki/pem.js';
import {
  EncryptedKeyError,
  NotPemError,
  UnknownCurveError,
  UnsupportedKeyError,
  WrongBlockTypeError,
} from '../../../../lambdas/core/pki/pki-errors.js';
import {
  exportPrivateKeyPem,
  importPrivateKeyPem,
  publicKeyDerOf,
} from '../../../../lambdas/core/pki/private-key.js';
import { subtle } from '../../../../lambdas/core/pki/x509.js';

// Keys are generated at run time: no key literal ever lives in the repository.
function nodeKey(type: 'ec' | 'rsa', options: { namedCurve?: string; modulusLength?: number }) {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: options.namedCurve ?? 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 });
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

describe('exportPrivateKeyPem', () => {
  it('writes a single PKCS#8 PRIVATE KEY block that imports back to the same key', async () => {
    // Prepare
    const keys = await generateKeyPair('ecdsa-p256');
    const spki = new Uint8Array(await subtle.exportKey('spki', keys.publicKey));

    // Act
    const pem = await exportPrivateKeyPem(keys.privateKey);

    // Assess
    expect(parsePemBlocks(pem).map((block) => block.type)).toEqual(['PRIVATE KEY']);
    expect(publicKeyDerOf(await importPrivateKeyPem(pem))).toEqual(spki);
  });
});

describe('importPrivateKeyPem', () => {
  it('imports an SEC1 EC PRIVATE KEY as openssl ecparam -genkey writes it, EC PARAMETERS block included', async () => {
    // Prepare
    const { privateKey, spki } = nodeKey('ec', { namedCurve: 'secp384r1' });
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    const withParameters = `${encodePem('EC PARAMETERS', new Uint8Array([6, 5, 43, 129, 4, 0, 34]))}${sec1}`;

    // Act
    const key = await importPrivateKeyPem(withParameters);

    // Assess
    expect(key.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-384' });
    expect(publicKeyDerOf(key)).toEqual(spki);
  });

  it('imports a PKCS#1 RSA PRIVATE KEY as openssl genrsa (traditional) writes it', async () => {
    // Prepare
    const { privateKey, spki } = nodeKey('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

    // Act
    const key = await importPrivateKeyPem(pkcs1);

    // Assess
    expect(key.algorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048 });
    expect(publicKeyDerOf(key)).toEqual(spki);
  });

  it('imports a key that can sign (usage sign)', async () => {
    // Prepare
    const { privateKey } = nodeKey('ec', {});

    // Act
    const key = await importPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

    // Assess
    expect(key.usages).toEqual(['sign']);
  });

  it('refuses a PKCS#8 ENCRYPTED PRIVATE KEY and says to decrypt it', async () => {
    // Prepare
    const { privateKey } = nodeKey('ec', {});
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'test-only' })
      .toString();

    // Act
    const act = importPrivateKeyPem(encrypted, { file: 'ca-key.pem', cluster: 'west' });

    // Assess
    await expect(act).rejects.toThrow(EncryptedKeyError);
    await expect(act).rejects.toThrow(
      /ca-key.pem of cluster west holds an encrypted private key.*Decrypt it/,
    );
  });

  it('refuses a traditional key with Proc-Type ENCRYPTED', async () => {
    // Prepare
    const { privateKey } = nodeKey('rsa', {});
    const encrypted = privateKey
      .export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'test-only' })
      .toString();

    // Act / Assess
    expect(encrypted).toContain('Proc-Type: 4,ENCRYPTED');
    await expect(importPrivateKeyPem(encrypted)).rejects.toThrow(EncryptedKeyError);
  });

  it('refuses a key on an unknown curve, naming the curve', async () => {
    // Prepare
    const { privateKey } = nodeKey('ec', { namedCurve: 'secp256k1' });
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }).toString();

    // Act
    const act = importPrivateKeyPem(sec1, { file: 'ca-key.pem' });

    // Assess
    await expect(act).rejects.toThrow(UnknownCurveError);
    await expect(act).rejects.toThrow(
      /elliptic curve "secp256k1" is not supported.*Use ECDSA P-256 or P-384/,
    );
  });

  it('refuses an RSA key of an unsupported size', async () => {
    // Prepare
    const { privateKey } = nodeKey('rsa', { modulusLength: 1024 });

    // Act / Assess
    await expect(
      importPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).rejects.toThrow(/RSA with a 1024-bit modulus/);
  });

  it('refuses an Ed25519 key as unsupported', async () => {
    // Prepare
    const { privateKey } = generateKeyPairSync('ed25519');

    // Act / Assess
    await expect(
      importPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).rejects.toThrow(UnsupportedKeyError);
  });

  it('refuses a certificate where a key is expected', async () => {
    // Act / Assess
    await expect(importPrivateKeyPem(encodePem('CERTIFICATE', new Uint8Array([1, 2])))).rejects.toThrow(
      WrongBlockTypeError,
    );
  });

  it('refuses two keys in one file', async () => {
    // Prepare
    const one = (await exportPrivateKeyPem((await generateKeyPair('ecdsa-p256')).privateKey)).toString();

    // Act / Assess
    await expect(importPrivateKeyPem(one + one)).rejects.toThrow(NotPemError);
  });

  it('refuses a PRIVATE KEY block with garbage inside, without echoing its content', async () => {
    // Prepare
    const garbage = encodePem('PRIVATE KEY', new TextEncoder().encode('secret-looking-bytes'));

    // Act
    const error = (await importPrivateKeyPem(garbage).catch((caught: unknown) => caught)) as Error;

    // Assess
    expect(error).toBeInstanceOf(UnsupportedKeyError);
    expect(error.message).toMatch(/cannot be decoded as a private key/);
    expect(error.message).not.toContain('secret-looking-bytes');
    expect(error.message).not.toContain(Buffer.from('secret-looking-bytes').toString('base64'));
  });
});
