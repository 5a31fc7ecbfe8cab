// The TLS material one real Kubernetes control plane needs, made fresh per lab run (never stored in
// git): a serving CA and the API server's certificate, a client CA with the lab admin's certificate
// (group system:masters, as kubeadm's admin.conf), and the service-account signing key pair.
// ECDSA P-256 throughout: quick to generate and accepted by Go's TLS stack and by kube-apiserver.
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { x509 } from '../../lambdas/core/pki/x509.js';
import { randomSerial } from '../tls/serving-certificates.js';

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface ControlPlanePki {
  /** The serving CA: what a kubeconfig's certificate-authority-data and EKS certificateAuthority hold. */
  readonly servingCaPem: string;
  readonly apiServerCertPem: string;
  readonly apiServerKeyPem: string;
  /** The CA kube-apiserver trusts for client certificates (`--client-ca-file`). */
  readonly clientCaPem: string;
  /** The lab's own administrator (CN lab-admin, O system:masters), for setting the cluster up. */
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
  /** Signs and verifies service-account tokens (`--service-account-signing-key-file` / `-key-file`). */
  readonly serviceAccountKeyPem: string;
  readonly serviceAccountPublicKeyPem: string;
  /** The node's kubelet streaming server: serverAuth for the node's InternalIP, from the serving CA. */
  readonly kubeletServingCertPem: string;
  readonly kubeletServingKeyPem: string;
  /** What kube-apiserver shows a kubelet (`--kubelet-client-certificate`), from the client CA. */
  readonly kubeletClientCertPem: string;
  readonly kubeletClientKeyPem: string;
}

export interface ControlPlanePkiOptions {
  readonly clusterName: string;
  /** The API server's address, in its certificate as an IP SAN. */
  readonly address: string;
  /** The first address of the service range (the `kubernetes` Service), also an IP SAN. */
  readonly serviceAddress: string;
  /** The node's InternalIP, in the kubelet serving certificate as an IP SAN. */
  readonly nodeAddress: string;
}

interface Issuer {
  readonly certificate: X509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
}

export async function createControlPlanePki(options: ControlPlanePkiOptions): Promise<ControlPlanePki> {
  const servingCa = await createCa(`${options.clusterName}-serving-ca`);
  const clientCa = await createCa(`${options.clusterName}-client-ca`);
  const apiServer = await issue(servingCa, {
    subject: `CN=${options.clusterName}-kube-apiserver`,
    usage: x509.ExtendedKeyUsage.serverAuth,
    names: [
      { type: 'ip', value: options.address },
      { type: 'ip', value: options.serviceAddress },
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'kubernetes' },
      { type: 'dns', value: 'kubernetes.default' },
      { type: 'dns', value: 'kubernetes.default.svc' },
      { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
    ],
  });
  const admin = await issue(clientCa, {
    subject: 'CN=lab-admin, O=system:masters',
    usage: x509.ExtendedKeyUsage.clientAuth,
    names: [],
  });
  const kubeletServing = await issue(servingCa, {
    subject: `CN=${options.clusterName}-node-kubelet`,
    usage: x509.ExtendedKeyUsage.serverAuth,
    names: [{ type: 'ip', value: options.nodeAddress }],
  });
  const kubeletClient = await issue(clientCa, {
    subject: 'CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins',
    usage: x509.ExtendedKeyUsage.clientAuth,
    names: [],
  });
  const serviceAccountKeys = await generateKeys();
  return {
    servingCaPem: servingCa.certificate.toString('pem'),
    apiServerCertPem: apiServer.certificatePem,
    apiServerKeyPem: apiServer.keyPem,
    clientCaPem: clientCa.certificate.toString('pem'),
    adminCertPem: admin.certificatePem,
    adminKeyPem: admin.keyPem,
    serviceAccountKeyPem: await privateKeyPem(serviceAccountKeys.privateKey),
    serviceAccountPublicKeyPem: x509.PemConverter.encode(
      await webcrypto.subtle.exportKey('spki', serviceAccountKeys.publicKey),
      'PUBLIC KEY',
    ),
    kubeletServingCertPem: kubeletServing.certificatePem,
    kubeletServingKeyPem: kubeletServing.keyPem,
    kubeletClientCertPem: kubeletClient.certificatePem,
    kubeletClientKeyPem: kubeletClient.keyPem,
  };
}

async function createCa(commonName: string): Promise<Issuer> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys };
}

interface LeafRequest {
  readonly subject: string;
  readonly usage: string;
  readonly names: ReadonlyArray<{ readonly type: 'ip' | 'dns'; readonly value: string }>;
}

async function issue(
  issuer: Issuer,
  request: LeafRequest,
): Promise<{ certificatePem: string; keyPem: string }> {
  const keys = await generateKeys();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([request.usage]),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
  ];
  if (request.names.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(request.names.map((name) => ({ ...name }))));
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: request.subject,
    issuer: issuer.certificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { certificatePem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}
