import {
  CLOCK_SKEW_ALLOWANCE_MS,
  createIntermediateCa,
  createRootCa,
  ISTIOD_DNS_NAME,
  intermediateIssuer,
  randomSerialNumber,
} from '../../../../lambdas/core/pki/certificate-authority.js';
import { describeCertificate } from '../../../../lambdas/core/pki/certificate-info.js';
import {
  ExpiredCertificateError,
  InvalidPkiArgumentError,
  KeyCertMismatchError,
  NotACaError,
  PathLengthError,
} from '../../../../lambdas/core/pki/pki-errors.js';
import { importPrivateKeyPem, publicKeyDerOf } from '../../../../lambdas/core/pki/private-key.js';
import { x509 } from '../../../../lambdas/core/pki/x509.js';
import { CA_USAGE, DAY_MS, issueTestCertificate, NOW } from './pki-test-kit.js';

const parse = (pem: string) => new x509.X509Certificate(pem);

describe('createRootCa', () => {
  it('makes a self-signed ECDSA P-256 root with critical CA basicConstraints, keyCertSign+cRLSign and SKI', async () => {
    // Act
    const root = await createRootCa({ now: NOW });

    // Assess
    const info = describeCertificate(root.certificatePem);
    const certificate = parse(root.certificatePem);
    expect(info.subject).toBe('O=meshtrust, CN=meshtrust Root CA');
    expect(info.issuer).toBe(info.subject);
    expect(info.isCa).toBe(true);
    expect(info.pathLength).toBeUndefined();
    expect(info.keyUsage).toEqual(['keyCertSign', 'cRLSign']);
    expect(info.extendedKeyUsage).toBeUndefined();
    expect(info.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(certificate.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
    expect(certificate.getExtension(x509.KeyUsagesExtension)?.critical).toBe(true);
    expect(certificate.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(certificate.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(await certificate.verify({ signatureOnly: true })).toBe(true);
  });

  it('applies organization, common name, validity and the clock, backdating notBefore for clock skew', async () => {
    // Act
    const root = await createRootCa({
      organization: 'Acme',
      commonName: 'Acme Mesh Root',
      validityDays: 30,
      now: NOW,
    });

    // Assess
    const info = describeCertificate(root.certificatePem);
    expect(info.subject).toBe('O=Acme, CN=Acme Mesh Root');
    expect(info.notBefore).toEqual(new Date(NOW.getTime() - CLOCK_SKEW_ALLOWANCE_MS));
    expect(info.notAfter).toEqual(new Date(NOW.getTime() + 30 * DAY_MS));
  });

  it('defaults to ten years of validity', async () => {
    // Act
    const root = await createRootCa({ now: NOW });

    // Assess
    expect(describeCertificate(root.certificatePem).notAfter).toEqual(
      new Date(NOW.getTime() + 3650 * DAY_MS),
    );
  });

  it('signs a P-384 root with SHA-384', async () => {
    // Act
    const certificate = parse((await createRootCa({ algorithm: 'ecdsa-p384' })).certificatePem);

    // Assess
    expect(certificate.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-384' } });
  });

  it('signs an RSA root with SHA-256 PKCS#1 v1.5', async () => {
    // Act
    const certificate = parse((await createRootCa({ algorithm: 'rsa-2048' })).certificatePem);

    // Assess
    expect(certificate.signatureAlgorithm).toMatchObject({
      name: 'RSASSA-PKCS1-v1_5',
      hash: { name: 'SHA-256' },
    });
    expect(certificate.publicKey.algorithm).toMatchObject({ modulusLength: 2048 });
  });

  it('returns the private key of the certificate as PKCS#8 PEM', async () => {
    // Act
    const root = await createRootCa();

    // Assess
    // `[ ]` keeps this assertion from reading as a committed key to secret scanners.
    expect(root.privateKeyPem).toMatch(/^-----BEGIN PRIVATE[ ]KEY-----\n/);
    const key = await importPrivateKeyPem(root.privateKeyPem);
    expect(Buffer.from(publicKeyDerOf(key))).toEqual(
      Buffer.from(parse(root.certificatePem).publicKey.rawData),
    );
  });

  it('gives every root a different serial number', async () => {
    // Act
    const [a, b] = await Promise.all([createRootCa(), createRootCa()]);

    // Assess
    expect(parse(a.certificatePem).serialNumber).not.toBe(parse(b.certificatePem).serialNumber);
  });

  it.each([
    [{ organization: '' }, /organization must be a non-empty single-line string/],
    [{ commonName: 'a\nb' }, /commonName must be a non-empty single-line string/],
    [{ validityDays: 0 }, /validityDays must be a positive number, got 0/],
  ])('refuses bad options %j', async (options, message) => {
    // Act / Assess
    await expect(createRootCa(options)).rejects.toThrow(message);
  });
});

describe('randomSerialNumber', () => {
  it('is 16 bytes, positive and without a leading zero byte', () => {
    // Act
    const serials = Array.from({ length: 200 }, randomSerialNumber);

    // Assess
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9a-f]{32}$/);
      expect(Number.parseInt(serial.slice(0, 2), 16)).toBeGreaterThanOrEqual(0x40);
      expect(Number.parseInt(serial.slice(0, 2), 16)).toBeLessThan(0x80);
    }
    expect(new Set(serials).size).toBe(serials.length);
  });
});

describe('createIntermediateCa', () => {
  let root: Awaited<ReturnType<typeof createRootCa>>;
  beforeAll(async () => {
    root = await createRootCa({ now: NOW, validityDays: 3650 });
  });

  it('makes an Istio plug-in intermediate: CA pathlen:0 critical, keyCertSign, istiod SAN, L=<cluster>, no EKU', async () => {
    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east-1', issuer: root, now: NOW });

    // Assess
    const info = describeCertificate(intermediate.certificatePem);
    const certificate = parse(intermediate.certificatePem);
    expect(info.subject).toBe('O=meshtrust, CN=Intermediate CA, L=east-1');
    expect(info.issuer).toBe(describeCertificate(root.certificatePem).subject);
    expect(info.isCa).toBe(true);
    expect(info.pathLength).toBe(0);
    expect(certificate.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
    expect(info.keyUsage).toEqual(expect.arrayContaining(['keyCertSign', 'cRLSign']));
    expect(certificate.getExtension(x509.KeyUsagesExtension)?.critical).toBe(true);
    expect(info.subjectAlternativeNames).toEqual([`dns:${ISTIOD_DNS_NAME}`]);
    expect(info.extendedKeyUsage).toBeUndefined();
    expect(info.authorityKeyId).toBe(describeCertificate(root.certificatePem).subjectKeyId);
    expect(info.subjectKeyId).toMatch(/^[0-9a-f]{40}$/);
    expect(
      await certificate.verify({ publicKey: parse(root.certificatePem).publicKey, signatureOnly: true }),
    ).toBe(true);
  });

  it("names its key by RFC 5280's identifier, as @peculiar/x509 computes it with WebCrypto", async () => {
    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root, now: NOW });

    // Assess: the core digests in node's thread (certificate-signer.ts); the library's own way, on the
    // default WebCrypto provider, must give the same SHA-1 of the subjectPublicKey bits.
    const certificate = parse(intermediate.certificatePem);
    const expected = Buffer.from(await certificate.publicKey.getKeyIdentifier()).toString('hex');
    expect(describeCertificate(intermediate.certificatePem).subjectKeyId).toBe(expected);
    const rootCertificate = parse(root.certificatePem);
    expect(describeCertificate(root.certificatePem).subjectKeyId).toBe(
      Buffer.from(await rootCertificate.publicKey.getKeyIdentifier()).toString('hex'),
    );
  });

  it('copies the issuer name bytes verbatim so Go links the chain', async () => {
    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root, now: NOW });

    // Assess
    expect(Buffer.from(parse(intermediate.certificatePem).issuerName.toArrayBuffer())).toEqual(
      Buffer.from(parse(root.certificatePem).subjectName.toArrayBuffer()),
    );
  });

  it('is valid for one year by default', async () => {
    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root, now: NOW });

    // Assess
    expect(describeCertificate(intermediate.certificatePem).notAfter).toEqual(
      new Date(NOW.getTime() + 365 * DAY_MS),
    );
  });

  it('never outlives its issuer: notAfter is clamped to the root notAfter', async () => {
    // Prepare
    const shortRoot = await createRootCa({ now: NOW, validityDays: 10 });

    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: shortRoot, now: NOW });

    // Assess
    expect(describeCertificate(intermediate.certificatePem).notAfter).toEqual(
      describeCertificate(shortRoot.certificatePem).notAfter,
    );
  });

  it('signs with SHA-384 under a P-384 issuer, whatever its own key', async () => {
    // Prepare
    const p384Root = await createRootCa({ algorithm: 'ecdsa-p384' });

    // Act
    const intermediate = await createIntermediateCa({
      cluster: 'east',
      issuer: p384Root,
      algorithm: 'ecdsa-p256',
    });

    // Assess
    const certificate = parse(intermediate.certificatePem);
    expect(certificate.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-384' } });
    expect(certificate.publicKey.algorithm).toMatchObject({ namedCurve: 'P-256' });
  });

  it('signs an ECDSA intermediate with an RSA root', async () => {
    // Prepare
    const rsaRoot = await createRootCa({ algorithm: 'rsa-2048' });

    // Act
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: rsaRoot });

    // Assess
    expect(parse(intermediate.certificatePem).signatureAlgorithm).toMatchObject({
      name: 'RSASSA-PKCS1-v1_5',
    });
  });

  it('refuses an issuer key that does not belong to the issuer certificate', async () => {
    // Prepare
    const other = await createRootCa();

    // Act
    const act = createIntermediateCa({
      cluster: 'east',
      issuer: { certificatePem: root.certificatePem, privateKeyPem: other.privateKeyPem },
    });

    // Assess
    await expect(act).rejects.toThrow(KeyCertMismatchError);
    await expect(act).rejects.toThrow(/in cluster east/);
  });

  it('refuses an issuer that is not a CA', async () => {
    // Prepare
    const leaf = await issueTestCertificate({ subject: 'CN=leaf', ca: false, keyUsage: CA_USAGE });

    // Act / Assess
    await expect(createIntermediateCa({ cluster: 'east', issuer: leaf, now: NOW })).rejects.toThrow(
      NotACaError,
    );
  });

  it('refuses an issuer whose keyUsage lacks keyCertSign', async () => {
    // Prepare
    const issuer = await issueTestCertificate({
      subject: 'CN=signer',
      ca: true,
      keyUsage: x509.KeyUsageFlags.cRLSign,
    });

    // Act / Assess
    await expect(createIntermediateCa({ cluster: 'east', issuer, now: NOW })).rejects.toThrow(NotACaError);
  });

  it('refuses to sign under an issuer with pathlen:0 (an intermediate cannot sign another)', async () => {
    // Prepare
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root, now: NOW });

    // Act / Assess
    await expect(createIntermediateCa({ cluster: 'east', issuer: intermediate, now: NOW })).rejects.toThrow(
      PathLengthError,
    );
  });

  it('refuses an expired issuer', async () => {
    // Prepare
    const later = new Date(NOW.getTime() + 3651 * DAY_MS);

    // Act / Assess
    await expect(createIntermediateCa({ cluster: 'east', issuer: root, now: later })).rejects.toThrow(
      ExpiredCertificateError,
    );
  });

  it('refuses an empty cluster name', async () => {
    // Act / Assess
    await expect(createIntermediateCa({ cluster: ' ', issuer: root })).rejects.toThrow(
      InvalidPkiArgumentError,
    );
  });
});

describe('intermediateIssuer', () => {
  let root: Awaited<ReturnType<typeof createRootCa>>;
  beforeAll(async () => {
    root = await createRootCa({ now: NOW, validityDays: 3650 });
  });

  it("signs several clusters' intermediates from one reading of the issuer, each with its own key", async () => {
    // Prepare
    const issuer = await intermediateIssuer(root);

    // Act
    const east = await issuer.createIntermediateCa({ cluster: 'east', now: NOW });
    const west = await issuer.createIntermediateCa({ cluster: 'west', now: NOW, algorithm: 'ecdsa-p384' });

    // Assess
    const rootKey = parse(root.certificatePem).publicKey;
    for (const [intermediate, cluster] of [
      [east, 'east'],
      [west, 'west'],
    ] as const) {
      const certificate = parse(intermediate.certificatePem);
      expect(describeCertificate(intermediate.certificatePem).subject).toBe(
        `O=meshtrust, CN=Intermediate CA, L=${cluster}`,
      );
      expect(await certificate.verify({ publicKey: rootKey, signatureOnly: true })).toBe(true);
      const key = publicKeyDerOf(await importPrivateKeyPem(intermediate.privateKeyPem));
      expect(Buffer.from(key).equals(Buffer.from(certificate.publicKey.rawData))).toBe(true);
    }
    expect(parse(east.certificatePem).serialNumber).not.toBe(parse(west.certificatePem).serialNumber);
    expect(east.privateKeyPem).not.toBe(west.privateKeyPem);
    expect(parse(west.certificatePem).publicKey.algorithm).toMatchObject({ namedCurve: 'P-384' });
  });

  it("checks the issuer's expiry at each intermediate's clock, naming that cluster", async () => {
    // Prepare
    const issuer = await intermediateIssuer(root);
    const later = new Date(NOW.getTime() + 3651 * DAY_MS);

    // Act
    const act = issuer.createIntermediateCa({ cluster: 'east', now: later });

    // Assess
    await expect(act).rejects.toThrow(ExpiredCertificateError);
    await expect(act).rejects.toThrow(/of cluster east/);
    await expect(issuer.createIntermediateCa({ cluster: 'east', now: NOW })).resolves.toBeDefined();
  });

  it('refuses an issuer that may not sign intermediates before any is asked for', async () => {
    // Prepare
    const intermediate = await createIntermediateCa({ cluster: 'east', issuer: root, now: NOW });
    const other = await createRootCa();

    // Act / Assess
    await expect(intermediateIssuer(intermediate)).rejects.toThrow(PathLengthError);
    await expect(
      intermediateIssuer({ certificatePem: root.certificatePem, privateKeyPem: other.privateKeyPem }),
    ).rejects.toThrow(KeyCertMismatchError);
  });

  it('refuses a name of a cluster that is empty', async () => {
    // Prepare
    const issuer = await intermediateIssuer(root);

    // Act / Assess
    await expect(issuer.createIntermediateCa({ cluster: '' })).rejects.toThrow(InvalidPkiArgumentError);
  });
});
