// The model lab's leaves made from a template are the leaves @peculiar/x509 makes of the same fields:
// byte for byte under an RSA signer (PKCS#1 v1.5 signatures are deterministic), and under ECDSA (whose
// signatures are not) the same certificate by every field node:crypto (OpenSSL) reads, verified.
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { issueFromTemplate, type LeafFields, leafTemplateOf } from '../../../lab/istio/leaf-template.js';
import {
  buildWorkloadCertificate,
  issueWorkloadCertificate,
  templateSigner,
  type WorkloadSigner,
} from '../../../lab/istio/workload-certificate.js';
import {
  createIntermediateCa,
  createRootCa,
  importPrivateKeyPem,
  type KeyAlgorithm,
  randomSerialNumber,
} from '../../../lambdas/core/pki/index.js';
import { x509 } from '../../../lambdas/core/pki/x509.js';

const SPIFFE_ID = 'spiffe://cluster.local/ns/shop/sa/web';

async function signerOf(algorithm: KeyAlgorithm): Promise<{ signer: WorkloadSigner; pem: string }> {
  const root = await createRootCa({ algorithm });
  const intermediate = await createIntermediateCa({ cluster: 'lab-1', issuer: root, algorithm });
  return {
    signer: {
      certificate: new x509.X509Certificate(intermediate.certificatePem),
      privateKey: await importPrivateKeyPem(intermediate.privateKeyPem),
    },
    pem: intermediate.certificatePem,
  };
}

function fieldsAt(issuedAt: string): LeafFields {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = new Date(issuedAt);
  return {
    serialNumberHex: randomSerialNumber(),
    notBefore,
    notAfter: new Date(notBefore.getTime() + 3_600_000),
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

describe('issueFromTemplate', () => {
  it("is @peculiar/x509's certificate of the same fields, byte for byte, under an RSA signer", async () => {
    // Prepare
    const { signer } = await signerOf('rsa-2048');
    const first = await buildWorkloadCertificate(signer, SPIFFE_ID, fieldsAt('2026-12-03T10:00:00Z'));
    const template = leafTemplateOf(first, templateSigner(signer));
    const next = fieldsAt('2026-12-03T10:20:07Z');
    // Act
    const made = template && (await issueFromTemplate(template, next));
    // Assess
    expect(template).toBeDefined();
    expect(made?.toString('hex')).toBe(
      Buffer.from(await buildWorkloadCertificate(signer, SPIFFE_ID, next)).toString('hex'),
    );
  });

  it('makes under an ECDSA signer the certificate of the new fields, its signature verified', async () => {
    // Prepare
    const { signer, pem } = await signerOf('ecdsa-p256');
    const first = await buildWorkloadCertificate(signer, SPIFFE_ID, fieldsAt('2026-12-03T10:00:00Z'));
    const template = leafTemplateOf(first, templateSigner(signer));
    const next = fieldsAt('2026-12-03T10:20:07Z');
    const reference = new X509Certificate(await buildWorkloadCertificate(signer, SPIFFE_ID, next));
    // Act
    const made = template && new X509Certificate(await issueFromTemplate(template, next));
    // Assess
    const intermediate = new X509Certificate(pem);
    expect(made?.checkIssued(intermediate)).toBe(true);
    expect(made?.verify(intermediate.publicKey)).toBe(true);
    expect(made?.serialNumber).toBe(next.serialNumberHex.toUpperCase());
    expect(made?.validFrom).toBe(reference.validFrom);
    expect(made?.validTo).toBe('Dec  3 11:20:07 2026 GMT');
    expect(made?.publicKey.export({ type: 'spki', format: 'der' })).toEqual(next.publicKeyDer);
    // Every field but those over the whole DER (the signatures differ).
    const fields = (certificate: X509Certificate | undefined) => {
      const { raw, fingerprint, fingerprint256, fingerprint512, ...rest } =
        certificate?.toLegacyObject() ?? {};
      return rest;
    };
    expect(Object.keys(fields(made)).length).toBeGreaterThan(8);
    expect(fields(made)).toEqual(fields(reference));
  });

  it('offers no template for a leaf whose validity does not fit a UTCTime (from 2050 on)', async () => {
    // Prepare
    const { signer } = await signerOf('ecdsa-p256');
    const fields = { ...fieldsAt('2049-12-31T23:00:00Z'), notAfter: new Date('2050-01-01T01:00:00Z') };
    const late = await buildWorkloadCertificate(signer, SPIFFE_ID, fields);
    // Act
    const template = leafTemplateOf(late, templateSigner(signer));
    // Assess
    expect(template).toBeUndefined();
  });
});

describe('issueWorkloadCertificate', () => {
  it("makes each renewal for an id from the first leaf, each one the signer's, fresh and of the pod's id", async () => {
    // Prepare
    const { signer, pem } = await signerOf('ecdsa-p256');
    const intermediate = new X509Certificate(pem);
    const issuedAt = new Date('2026-12-03T10:00:00.250Z');
    // Act
    const leaves = [];
    for (let renewal = 0; renewal < 3; renewal += 1) {
      leaves.push(await issueWorkloadCertificate({ signer, spiffeId: SPIFFE_ID, issuedAt, ttlMs: 8_000 }));
    }
    // Assess
    const certificates = leaves.map((leaf) => new X509Certificate(leaf.certificatePem));
    for (const [index, certificate] of certificates.entries()) {
      expect(certificate.verify(intermediate.publicKey)).toBe(true);
      expect(certificate.subjectAltName).toBe(`URI:${SPIFFE_ID}`);
      expect(certificate.validTo).toBe('Dec  3 10:00:09 2026 GMT');
      expect(leaves[index]?.expiresAt).toEqual(new Date('2026-12-03T10:00:09Z'));
      expect(certificate.checkPrivateKey(createPrivateKey(leaves[index]?.privateKeyPem ?? ''))).toBe(true);
    }
    expect(new Set(certificates.map((certificate) => certificate.serialNumber)).size).toBe(3);
    expect(new Set(leaves.map((leaf) => leaf.privateKeyPem)).size).toBe(3);
  });
});
