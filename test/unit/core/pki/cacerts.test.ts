import { assembleCacerts, CACERTS_KEYS, publicPartsOf } from '../../../../lambdas/core/pki/cacerts.js';
import { createIntermediateCa, createRootCa } from '../../../../lambdas/core/pki/certificate-authority.js';
import { WrongBlockTypeError } from '../../../../lambdas/core/pki/pki-errors.js';
import { TrustBundle } from '../../../../lambdas/core/pki/trust-bundle.js';

describe('assembleCacerts', () => {
  it('writes the four istiod keys: intermediate, its key, intermediate + chain above, trusted roots', async () => {
    // Prepare
    const rootA = await createRootCa();
    const rootB = await createRootCa();
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: rootB });
    const trustedRoots = TrustBundle.of([rootA.certificatePem, rootB.certificatePem]);

    // Act
    const files = assembleCacerts({ intermediate, chainAbove: [rootB.certificatePem], trustedRoots });

    // Assess
    expect(Object.keys(files).sort()).toEqual([...CACERTS_KEYS].sort());
    expect(files['ca-cert.pem']).toBe(intermediate.certificatePem);
    expect(files['ca-key.pem']).toBe(intermediate.privateKeyPem);
    expect(files['cert-chain.pem']).toBe(intermediate.certificatePem + rootB.certificatePem);
    expect(files['root-cert.pem']).toBe(rootA.certificatePem + rootB.certificatePem);
  });

  it('re-encodes certificates canonically (CRLF and comments dropped)', async () => {
    // Prepare
    const root = await createRootCa();
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root });

    // Act
    const files = assembleCacerts({
      intermediate: {
        ...intermediate,
        certificatePem: `# mine\r\n${intermediate.certificatePem.replace(/\n/g, '\r\n')}`,
      },
      chainAbove: [root.certificatePem],
      trustedRoots: TrustBundle.of([root.certificatePem]),
    });

    // Assess
    expect(files['ca-cert.pem']).toBe(intermediate.certificatePem);
  });

  it('refuses a key where the chain expects a certificate', async () => {
    // Prepare
    const root = await createRootCa();
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root });

    // Act / Assess
    expect(() =>
      assembleCacerts({
        intermediate,
        chainAbove: [root.privateKeyPem],
        trustedRoots: TrustBundle.of([root.certificatePem]),
      }),
    ).toThrow(WrongBlockTypeError);
  });
});

describe('publicPartsOf', () => {
  it('drops ca-key.pem and keeps the three public files', async () => {
    // Prepare
    const root = await createRootCa();
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root });
    const files = assembleCacerts({
      intermediate,
      chainAbove: [root.certificatePem],
      trustedRoots: TrustBundle.of([root.certificatePem]),
    });

    // Act
    const publicFiles = publicPartsOf(files);

    // Assess
    expect(Object.keys(publicFiles).sort()).toEqual(['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem']);
    expect(JSON.stringify(publicFiles)).not.toContain('PRIVATE KEY');
  });
});
