import {
  describeSource,
  EncryptedKeyError,
  ExpiredCertificateError,
  InvalidCertificateError,
  KeyCertMismatchError,
  NotACaError,
  NotPemError,
  PathLengthError,
  PkiError,
  TruncatedPemError,
  UnknownCurveError,
  UnsupportedKeyError,
  WrongBlockTypeError,
} from '../../../../lambdas/core/pki/pki-errors.js';

const where = { cluster: 'east', file: 'ca-key.pem' };

describe('describeSource', () => {
  it('names file and cluster when both are known, and falls back to "input"', () => {
    // Act / Assess
    expect(describeSource(where)).toBe('ca-key.pem of cluster east');
    expect(describeSource({ file: 'root-cert.pem' })).toBe('root-cert.pem');
    expect(describeSource({ cluster: 'west' })).toBe('input of cluster west');
    expect(describeSource()).toBe('input');
  });
});

describe('PkiError subclasses', () => {
  it.each([
    ['NotPemError', () => new NotPemError('no BEGIN line', where), /not PEM.*Provide PEM text/],
    [
      'TruncatedPemError',
      () => new TruncatedPemError('CERTIFICATE', where),
      /truncated.*Copy the file again/,
    ],
    [
      'WrongBlockTypeError',
      () => new WrongBlockTypeError(['CERTIFICATE'], 'PRIVATE KEY', where),
      /Check that the right file/,
    ],
    [
      'InvalidCertificateError',
      () => new InvalidCertificateError('bad DER', where),
      /Regenerate or re-export/,
    ],
    ['EncryptedKeyError', () => new EncryptedKeyError(where), /encrypted.*Decrypt it first/],
    [
      'UnsupportedKeyError',
      () => new UnsupportedKeyError('Ed25519', where),
      /unsupported key.*Use ECDSA P-256/,
    ],
    ['UnknownCurveError', () => new UnknownCurveError('secp256k1', where), /"secp256k1" is not supported/],
    [
      'KeyCertMismatchError',
      () => new KeyCertMismatchError('ca-key.pem', 'ca-cert.pem', where),
      /does not match.*Put the private key/,
    ],
    [
      'ExpiredCertificateError',
      () => new ExpiredCertificateError('CN=x', new Date(0), where),
      /expired at 1970.*Replace it/,
    ],
    ['NotACaError', () => new NotACaError('CN=x', where), /is not a CA.*Use a CA certificate/],
    ['PathLengthError', () => new PathLengthError('CN=x', 0, where), /pathlen:0.*Sign with a CA/],
  ])('%s is a PkiError with its own name, the context and a what-to-do message', (name, make, message) => {
    // Act
    const error = make();

    // Assess
    expect(error).toBeInstanceOf(PkiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.cluster).toBe('east');
    expect(error.file).toBe('ca-key.pem');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/ca-key.pem|cluster east/);
  });

  it('keeps the cause', () => {
    // Prepare
    const cause = new Error('inner');

    // Act
    const error = new InvalidCertificateError('bad DER', {}, { cause });

    // Assess
    expect(error.cause).toBe(cause);
  });

  it('an unknown curve is also an unsupported key', () => {
    // Act / Assess
    expect(new UnknownCurveError('brainpoolP256r1')).toBeInstanceOf(UnsupportedKeyError);
  });
});
