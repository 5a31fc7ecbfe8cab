import { createHash } from 'node:crypto';
import { createRootCa } from '../../../../lambdas/core/pki/certificate-authority.js';
import { certificateFingerprint, sha256Fingerprint } from '../../../../lambdas/core/pki/fingerprint.js';
import { parsePemBlocks } from '../../../../lambdas/core/pki/pem.js';
import { WrongBlockTypeError } from '../../../../lambdas/core/pki/pki-errors.js';

describe('sha256Fingerprint', () => {
  it('is the lowercase hex SHA-256 of the bytes (known vector for "abc")', () => {
    // Prepare
    const abc = new TextEncoder().encode('abc');

    // Act
    const fingerprint = sha256Fingerprint(abc);

    // Assess
    expect(fingerprint).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('gives the same result for an ArrayBuffer', () => {
    // Act
    const abc = new TextEncoder().encode('abc');

    // Assess
    expect(sha256Fingerprint(abc.buffer)).toBe(sha256Fingerprint(abc));
  });
});

describe('certificateFingerprint', () => {
  it('hashes the DER of the certificate, not its PEM text', async () => {
    // Prepare
    const { certificatePem } = await createRootCa();
    const der = parsePemBlocks(certificatePem)[0].der;

    // Act
    const fingerprint = certificateFingerprint(`# comment\r\n${certificatePem.replace(/\n/g, '\r\n')}`);

    // Assess
    expect(fingerprint).toBe(createHash('sha256').update(der).digest('hex'));
  });

  it('refuses a private key where a certificate is expected', async () => {
    // Prepare
    const { privateKeyPem } = await createRootCa();

    // Act / Assess
    expect(() => certificateFingerprint(privateKeyPem, { file: 'root-cert.pem' })).toThrow(
      WrongBlockTypeError,
    );
  });
});
