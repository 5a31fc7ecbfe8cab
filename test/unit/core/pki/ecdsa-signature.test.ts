import { generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { ecdsaSignatureFromDer } from '../../../../lambdas/core/pki/ecdsa-signature.js';
import { InvalidPkiArgumentError } from '../../../../lambdas/core/pki/pki-errors.js';
import { x509 } from '../../../../lambdas/core/pki/x509.js';

const CURVES = [
  { algorithm: 'ecdsa-p256', curve: 'prime256v1', webCurve: 'P-256', hash: 'sha256', size: 32 },
  { algorithm: 'ecdsa-p384', curve: 'secp384r1', webCurve: 'P-384', hash: 'sha384', size: 48 },
] as const;

/** DER of SEQUENCE { r INTEGER, s INTEGER } from two unsigned big-endian integers, as KMS writes it. */
function derSignature(r: Uint8Array, s: Uint8Array): Uint8Array {
  const integer = (value: Uint8Array) => {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start += 1;
    const trimmed = value.subarray(start);
    const body = (trimmed[0] as number) & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed;
    return Uint8Array.of(0x02, body.length, ...body);
  };
  const content = Uint8Array.of(...integer(r), ...integer(s));
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return Uint8Array.of(0x30, ...length, ...content);
}

describe('ecdsaSignatureFromDer', () => {
  it.each(CURVES)(
    "turns $algorithm signatures node makes as DER into ones node verifies as r || s, as @peculiar/x509's converter does",
    ({ algorithm, curve, webCurve, hash, size }) => {
      // Prepare: a signature's r or s starts with a zero byte about 1 time in 256, so 400 signatures
      // cover shorter integers as well as ones that need a leading zero in DER.
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const formatter = new x509.AsnEcSignatureFormatter();
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (message) => {
          const der = sign(hash, message, { key: privateKey, dsaEncoding: 'der' });

          // Act
          const raw = new Uint8Array(ecdsaSignatureFromDer(der.slice().buffer, algorithm));

          // Assess
          expect(raw.length).toBe(2 * size);
          expect(verify(hash, message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
          const library = formatter.toWebSignature(
            { name: 'ECDSA', namedCurve: webCurve } as never,
            der.slice().buffer,
          );
          expect(library).not.toBeNull();
          expect(Buffer.from(raw).equals(Buffer.from(library as ArrayBuffer))).toBe(true);
        }),
        { numRuns: 400 },
      );
    },
  );

  it('pads short integers on the left to the curve size', () => {
    // Prepare: r = 1, s = 0x80 (a leading zero byte in DER)
    const der = derSignature(Uint8Array.of(1), Uint8Array.of(0x80));

    // Act
    const raw = new Uint8Array(ecdsaSignatureFromDer(der.slice().buffer, 'ecdsa-p256'));

    // Assess
    expect(raw.length).toBe(64);
    expect(raw[31]).toBe(1);
    expect(raw[63]).toBe(0x80);
    expect(raw.filter((byte) => byte !== 0)).toEqual(Uint8Array.of(1, 0x80));
  });

  it.each([
    ['an RSA algorithm', derSignature(Uint8Array.of(1), Uint8Array.of(2)), 'rsa-2048'],
    ['not a SEQUENCE', Uint8Array.of(0x31, 6, 2, 1, 1, 2, 1, 1), 'ecdsa-p256'],
    ['a SEQUENCE length that is not the rest', Uint8Array.of(0x30, 7, 2, 1, 1, 2, 1, 1), 'ecdsa-p256'],
    ['bytes after s', Uint8Array.of(0x30, 6, 2, 1, 1, 2, 1, 1, 0), 'ecdsa-p256'],
    ['r not an INTEGER', Uint8Array.of(0x30, 6, 4, 1, 1, 2, 1, 1), 'ecdsa-p256'],
    ['a negative INTEGER', Uint8Array.of(0x30, 6, 2, 1, 0x81, 2, 1, 1), 'ecdsa-p256'],
    ['a needless leading zero', Uint8Array.of(0x30, 7, 2, 2, 0, 1, 2, 1, 1), 'ecdsa-p256'],
    ['an empty INTEGER', Uint8Array.of(0x30, 5, 2, 0, 2, 1, 1), 'ecdsa-p256'],
    ['an INTEGER past the end', Uint8Array.of(0x30, 6, 2, 9, 1, 2, 1, 1), 'ecdsa-p256'],
    ['r longer than the curve', derSignature(new Uint8Array(33).fill(1), Uint8Array.of(1)), 'ecdsa-p256'],
    ['nothing', new Uint8Array(0), 'ecdsa-p384'],
  ] as const)('refuses %s', (_what, der, algorithm) => {
    // Act
    const convert = () => ecdsaSignatureFromDer(der.slice().buffer, algorithm);

    // Assess
    expect(convert).toThrow(InvalidPkiArgumentError);
  });
});
