import { createIntermediateCa, createRootCa } from '../../../../lambdas/core/pki/certificate-authority.js';
import { describeCertificate } from '../../../../lambdas/core/pki/certificate-info.js';
import { certificateFingerprint } from '../../../../lambdas/core/pki/fingerprint.js';
import { InvalidCertificateError, NotPemError } from '../../../../lambdas/core/pki/pki-errors.js';
import { x509 } from '../../../../lambdas/core/pki/x509.js';
import { issueTestCertificate, NOW } from './pki-test-kit.js';

describe('describeCertificate', () => {
  it('reports the public facts of an intermediate', async () => {
    // Prepare
    const root = await createRootCa({ now: NOW });
    const intermediate = await createIntermediateCa({ cluster: 'west', issuer: root, now: NOW });
    const certificate = new x509.X509Certificate(intermediate.certificatePem);

    // Act
    const info = describeCertificate(intermediate.certificatePem);

    // Assess
    expect(info).toMatchObject({
      subject: 'O=meshtrust, CN=Intermediate CA, L=west',
      issuer: 'O=meshtrust, CN=meshtrust Root CA',
      serialNumber: certificate.serialNumber.toLowerCase(),
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      fingerprint: certificateFingerprint(intermediate.certificatePem),
      isCa: true,
      pathLength: 0,
      keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
      subjectAlternativeNames: ['dns:istiod.istio-system.svc'],
    });
    expect(info).not.toHaveProperty('extendedKeyUsage');
  });

  it('names extended key usages and marks a non-CA', async () => {
    // Prepare
    const leaf = await issueTestCertificate({
      subject: 'CN=leaf',
      ca: false,
      extendedKeyUsage: [x509.ExtendedKeyUsage.clientAuth, '2.5.29.37.0', '1.2.3.4'],
    });

    // Act
    const info = describeCertificate(leaf.certificatePem);

    // Assess
    expect(info.isCa).toBe(false);
    expect(info.pathLength).toBeUndefined();
    expect(info.keyUsage).toEqual([]);
    expect(info.extendedKeyUsage).toEqual(['clientAuth', 'anyExtendedKeyUsage', '1.2.3.4']);
  });

  it('never exposes key material', async () => {
    // Prepare
    const root = await createRootCa();

    // Act
    const text = JSON.stringify(describeCertificate(root.certificatePem));

    // Assess
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN/);
  });

  it('refuses text that is not PEM', () => {
    // Act / Assess
    expect(() => describeCertificate('hello', { file: 'ca-cert.pem' })).toThrow(NotPemError);
  });

  it('refuses a CERTIFICATE block whose DER is not a certificate', () => {
    // Prepare
    const bogus = '-----BEGIN CERTIFICATE-----\nAQIDBA==\n-----END CERTIFICATE-----\n';

    // Act / Assess
    expect(() => describeCertificate(bogus, { file: 'ca-cert.pem', cluster: 'east' })).toThrow(
      InvalidCertificateError,
    );
  });
});
