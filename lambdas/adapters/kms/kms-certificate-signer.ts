// A certificate signer whose key never leaves AWS KMS (issue 13): the public key from GetPublicKey,
// each signature from Sign over the raw TBSCertificate (MessageType RAW, KMS hashes it), so the root's
// private key exists nowhere else. RAW takes up to 4096 bytes, which a TBSCertificate of ours fits;
// DIGEST is not used (moto 5.2.1 would hash a digest again).
import {
  GetPublicKeyCommand,
  type KeySpec,
  type KMSClient,
  SignCommand,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import type { RootKeySpec } from '../../contract/root-keys.js';
import { MeshTrustError } from '../../core/meshtrust-error.js';
// Not the PKI core's index: this module is in every function's runtime (through RootKeys), and these
// three leave @peculiar/x509 out of the functions that never sign.
import type { CertificateSigner } from '../../core/pki/certificate-signer.js';
import { ecdsaSignatureFromDer } from '../../core/pki/ecdsa-signature.js';
import type { KeyAlgorithm } from '../../core/pki/key-algorithm.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';

/** KMS's largest RAW message. */
export const KMS_RAW_MESSAGE_LIMIT = 4096;

/** The key specs meshtrust signs with, the key algorithm each is, and KMS's name for its signature. */
export const KMS_SIGNING_KEYS: Readonly<
  Record<RootKeySpec, { readonly algorithm: KeyAlgorithm; readonly signing: SigningAlgorithmSpec }>
> = {
  ECC_NIST_P256: { algorithm: 'ecdsa-p256', signing: 'ECDSA_SHA_256' },
  ECC_NIST_P384: { algorithm: 'ecdsa-p384', signing: 'ECDSA_SHA_384' },
  RSA_2048: { algorithm: 'rsa-2048', signing: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_3072: { algorithm: 'rsa-3072', signing: 'RSASSA_PKCS1_V1_5_SHA_256' },
  RSA_4096: { algorithm: 'rsa-4096', signing: 'RSASSA_PKCS1_V1_5_SHA_256' },
};

export async function kmsCertificateSigner(client: KMSClient, keyId: string): Promise<CertificateSigner> {
  const described = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  // KeySpec, or the deprecated CustomerMasterKeySpec it replaced (same values; moto returns only that).
  const keySpec = (described.KeySpec ?? described.CustomerMasterKeySpec) as KeySpec | undefined;
  const spec = keySpec === undefined ? undefined : KMS_SIGNING_KEYS[keySpec as RootKeySpec];
  if (described.KeyUsage !== 'SIGN_VERIFY' || spec === undefined || described.PublicKey === undefined) {
    throw new PreconditionFailed(
      `KMS key ${keyId} cannot sign certificates: it is ${keySpec ?? 'of no key spec'} for ` +
        `${described.KeyUsage ?? 'no usage'}; meshtrust needs SIGN_VERIFY with one of ${Object.keys(KMS_SIGNING_KEYS).join(', ')}`,
    );
  }
  const publicKey = described.PublicKey.slice().buffer;
  return {
    algorithm: spec.algorithm,
    publicKeySpki: async () => publicKey,
    sign: async (data) => {
      if (data.byteLength > KMS_RAW_MESSAGE_LIMIT) {
        throw new PreconditionFailed(
          `a certificate of ${data.byteLength} bytes to sign is more than KMS signs raw (${KMS_RAW_MESSAGE_LIMIT})`,
        );
      }
      const signed = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: new Uint8Array(data),
          MessageType: 'RAW',
          SigningAlgorithm: spec.signing,
        }),
      );
      if (signed.Signature === undefined)
        throw new MeshTrustError(`KMS returned no signature for key ${keyId}`);
      const der = signed.Signature.slice().buffer;
      return spec.algorithm.startsWith('ecdsa-') ? ecdsaSignatureFromDer(der, spec.algorithm) : der;
    },
  };
}
