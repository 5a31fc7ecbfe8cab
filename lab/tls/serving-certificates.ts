// The per-cluster API server's TLS material, built directly on @peculiar/x509 + WebCrypto (the PKI
// core's certificate authority API was not ready); it only has to satisfy Go's TLS stack (kubectl) and
// node:https. The library is reached through the core's x509 entry point, which installs the Reflect
// polyfill tsyringe (inside @peculiar/x509) insists on and sets the WebCrypto provider.
import { webcrypto } from 'node:crypto';
import { x509 } from '../../lambdas/core/pki/x509.js';

/** PEMs a node:https server serves and a client trusts. */
export interface ServingCertificates {
  /** The self-signed serving CA, to put in a kubeconfig's certificate-authority-data or EKS certificateAuthority.data. */
  readonly caPem: string;
  /** The server certificate (leaf first, then the CA) for IP 127.0.0.1 and DNS localhost. */
  readonly certChainPem: string;
  /** The server key, PKCS#8 PEM; keep it in memory only. */
  readonly keyPem: string;
}

export interface ServingCertificatesOptions {
  /** Names the CA (`<clusterName>-serving-ca`) so that a CA is recognisable per cluster. */
  readonly clusterName: string;
  /** @default 365 */
  readonly validityDays?: number;
}

// ECDSA P-256: fast to generate (one CA per lab cluster per test run) and accepted by Go and Node.
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Creates a fresh serving CA and a server certificate for 127.0.0.1 / localhost signed by it. */
export async function createServingCertificates(
  options: ServingCertificatesOptions,
): Promise<ServingCertificates> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + (options.validityDays ?? 365) * 86_400_000);
  const caKeys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const caName = `CN=${options.clusterName}-serving-ca`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys as webcrypto.CryptoKeyPair,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as webcrypto.CryptoKey),
    ],
  });

  const serverKeys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${options.clusterName}-kube-apiserver`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey as webcrypto.CryptoKey,
    signingKey: caKeys.privateKey as webcrypto.CryptoKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });

  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey as webcrypto.CryptoKey);
  return {
    caPem: ca.toString('pem'),
    certChainPem: `${server.toString('pem')}\n${ca.toString('pem')}\n`,
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}

/** A positive 128-bit serial number, as hex. */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString('hex');
}
