import { generateKeyPairSync } from 'node:crypto';
import {
  assertNoPrivateKey,
  containsPrivateKey,
  PrivateKeyInLogError,
} from '../../../../lambdas/adapters/audit/private-key-guard.js';

// A real key, made at run time: the guard must recognise what Node and openssl actually write.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8Pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const sec1Pem = privateKey.export({ format: 'pem', type: 'sec1' }).toString();

describe('containsPrivateKey', () => {
  it.each([
    ['a PKCS#8 PEM', pkcs8Pem],
    ['an EC (SEC1) PEM', sec1Pem],
    ['a PEM inside other text', `cacerts: ${pkcs8Pem} end`],
    ['a base64 PEM, as in Kubernetes Secret data', Buffer.from(pkcs8Pem).toString('base64')],
    ['a base64 PEM after one byte', Buffer.from(`x${pkcs8Pem}`).toString('base64')],
    ['a base64 PEM after two bytes', Buffer.from(`xy${sec1Pem}`).toString('base64')],
  ])('finds %s', (_what, text) => {
    // Act / Assess
    expect(containsPrivateKey(text)).toBe(true);
  });

  it.each([
    ['a certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    ['a fingerprint', 'a3f1c0ffee'],
    ['a sentence about keys', 'the private key stays in Secrets Manager'],
  ])('does not flag %s', (_what, text) => {
    // Act / Assess
    expect(containsPrivateKey(text)).toBe(false);
  });
});

describe('assertNoPrivateKey', () => {
  it('refuses a value with a key nested deep, without quoting it', () => {
    // Prepare
    const event = { detail: { files: [{ name: 'ca-key.pem', data: pkcs8Pem }] } };
    // Act
    const check = () => assertNoPrivateKey(event, 'the distribute-bundle event');
    // Assess
    expect(check).toThrow(PrivateKeyInLogError);
    expect(check).toThrow(/Refused to log the distribute-bundle event/);
    let message = '';
    try {
      check();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('BEGIN');
  });

  it('looks into errors and their causes', () => {
    // Prepare
    const error = new Error('write failed', { cause: new Error(`payload was ${sec1Pem}`) });
    // Act / Assess
    expect(() => assertNoPrivateKey({ error }, 'an error')).toThrow(PrivateKeyInLogError);
  });

  it('lets ids and fingerprints through', () => {
    // Act / Assess
    expect(() => assertNoPrivateKey({ versionId: 'abc', fingerprint: 'a3f1' }, 'an event')).not.toThrow();
  });
});
