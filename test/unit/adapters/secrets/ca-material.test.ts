import { generateKeyPairSync } from 'node:crypto';
import { parseCaMaterial, serialiseCaMaterial } from '../../../../lambdas/adapters/secrets/ca-material.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

const privateKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();
const certificatePem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('CA material in a secret', () => {
  it('round-trips exactly the three fields', () => {
    // Prepare
    const material = { certificatePem, privateKeyPem, fingerprint: 'ab12', extra: 'dropped' };
    // Act
    const parsed = parseCaMaterial(serialiseCaMaterial(material), 'secret x');
    // Assess
    expect(parsed).toEqual({ certificatePem, privateKeyPem, fingerprint: 'ab12' });
  });

  it('names the secret and what is wrong, without quoting the stored value', () => {
    // Prepare
    const stored = JSON.stringify({ certificatePem: 'not a cert', privateKeyPem, fingerprint: '' });
    // Act
    let error: unknown;
    try {
      parseCaMaterial(stored, 'root secret meshtrust/m/root');
    } catch (caught) {
      error = caught;
    }
    // Assess
    expect(error).toBeInstanceOf(PreconditionFailed);
    const message = (error as Error).message;
    expect(message).toContain('root secret meshtrust/m/root is not valid CA material');
    expect(message).toContain('certificatePem is not a PEM certificate; fingerprint is missing');
    expect(message).not.toContain('PRIVATE KEY');
  });

  it('refuses a value that is not JSON', () => {
    // Act / Assess
    expect(() => parseCaMaterial(privateKeyPem, 'secret y')).toThrow(/secret y does not hold JSON/);
    expect(() => parseCaMaterial(privateKeyPem, 'secret y')).not.toThrow(/PRIVATE KEY/);
  });
});
