// The root key stays in KMS (issue 13): a root certificate and a cluster intermediate signed through
// kms:Sign on moto, for an EC P-256 and an RSA 4096 key, must be what openssl accepts (self-signature,
// chain, strict X.509), carry the KMS key's own public key, and no private key ever exists here.
import {
  CreateKeyCommand,
  GetPublicKeyCommand,
  type KeySpec,
  type KeyUsageType,
  KMSClient,
} from '@aws-sdk/client-kms';
import { kmsCertificateSigner } from '../../../lambdas/adapters/kms/kms-certificate-signer.js';
import {
  createIntermediateCa,
  createRootCertificate,
  parseCertificatePem,
} from '../../../lambdas/core/pki/index.js';
import { PreconditionFailed } from '../../../lambdas/core/rotation-errors.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { ScratchDir } from '../openssl/openssl-kit.js';

const kms = new KMSClient(motoClientConfig());

async function kmsKey(spec: KeySpec, usage: KeyUsageType = 'SIGN_VERIFY'): Promise<string> {
  const created = await kms.send(
    new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage, Description: `meshtrust test ${spec}` }),
  );
  return created.KeyMetadata?.KeyId as string;
}

let scratch: ScratchDir;
beforeAll(async () => {
  scratch = await ScratchDir.create();
});
afterAll(async () => {
  kms.destroy();
  await scratch?.remove();
});

describe.each([
  ['ECC_NIST_P256', 'ecdsa-p256', 'ecdsa-with-SHA256'],
  ['RSA_4096', 'rsa-4096', 'sha256WithRSAEncryption'],
] as const)('a root whose key is the KMS key %s', (spec, algorithm, signatureName) => {
  it('signs itself and a cluster intermediate through kms:Sign, and openssl verifies both strictly', async () => {
    // Prepare
    const keyId = await kmsKey(spec);
    const signer = await kmsCertificateSigner(kms, keyId);

    // Act
    const root = await createRootCertificate(signer, { commonName: `KMS root ${spec}` });
    const intermediate = await createIntermediateCa({
      cluster: 'eu-prod',
      issuer: { certificatePem: root.certificatePem, signer },
    });

    // Assess
    expect(signer.algorithm).toBe(algorithm);
    expect(root).not.toHaveProperty('privateKeyPem');
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const rootCertificate = parseCertificatePem(root.certificatePem).certificate;
    expect(Buffer.from(rootCertificate.publicKey.rawData)).toEqual(Buffer.from(PublicKey as Uint8Array));
    await scratch.write({
      [`root-${spec}.pem`]: root.certificatePem,
      [`int-${spec}.pem`]: intermediate.certificatePem,
    });
    const selfSigned = await scratch.openssl(
      'verify',
      '-x509_strict',
      '-check_ss_sig',
      '-CAfile',
      `root-${spec}.pem`,
      `root-${spec}.pem`,
    );
    expect(selfSigned).toMatchObject({ code: 0, stdout: expect.stringContaining(': OK') });
    const chained = await scratch.openssl(
      'verify',
      '-x509_strict',
      '-CAfile',
      `root-${spec}.pem`,
      `int-${spec}.pem`,
    );
    expect(chained).toMatchObject({ code: 0, stdout: expect.stringContaining(': OK') });
    const text = await scratch.mustOpenssl('x509', '-in', `int-${spec}.pem`, '-noout', '-text');
    expect(text).toContain(`Signature Algorithm: ${signatureName}`);
  });
});

describe('a KMS key that cannot sign certificates', () => {
  it('is refused before anything is signed, naming the key and what it is', async () => {
    // Prepare
    const keyId = await kmsKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT');

    // Act
    const signer = kmsCertificateSigner(kms, keyId);

    // Assess
    await expect(signer).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(signer).rejects.toThrow(`KMS key ${keyId} cannot sign certificates`);
  });
});
