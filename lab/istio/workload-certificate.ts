// A workload certificate the way istiod's CA signs one for a sidecar's CSR: empty subject, the SPIFFE
// id as the only (critical) SAN, CA:FALSE, digitalSignature + keyEncipherment, EKU serverAuth and
// clientAuth, AKI = the intermediate's SKI. The key is a fresh ECDSA P-256 pair and stays in memory.
// A signer's first leaf for an id is built by @peculiar/x509, its next ones from that one
// (leaf-template.ts).
import { generateKeyPair as generateNodeKeyPair, KeyObject, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import type * as X509 from '@peculiar/x509';
import {
  encodePem,
  keyAlgorithmOf,
  randomSerialNumber,
  signingAlgorithmOf,
} from '../../lambdas/core/pki/index.js';
import { type CryptoKey, x509 } from '../../lambdas/core/pki/x509.js';
import { issueFromTemplate, type LeafFields, type LeafTemplate, leafTemplateOf } from './leaf-template.js';

const generateEcKeyPair = promisify(generateNodeKeyPair);

/** Leaf notBefore lies this far in the past, as istiod backdates, so small clock skews do not matter. */
export const WORKLOAD_CERT_BACKDATE_MS = 60_000;

export interface WorkloadSigner {
  /** The intermediate's certificate (parsed once per accepted cacerts). */
  readonly certificate: X509.X509Certificate;
  readonly privateKey: CryptoKey;
}

export interface IssueWorkloadCertificateInput {
  readonly signer: WorkloadSigner;
  readonly spiffeId: string;
  readonly issuedAt: Date;
  readonly ttlMs: number;
}

export interface IssuedWorkloadCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly expiresAt: Date;
}

/**
 * Each signer's leaf templates by SPIFFE id (null: its leaves cannot be made from a template). A signer
 * lives as long as the cacerts istiod accepted, so its templates go with it.
 */
const templates = new WeakMap<WorkloadSigner, Map<string, LeafTemplate | null>>();

export async function issueWorkloadCertificate(
  input: IssueWorkloadCertificateInput,
): Promise<IssuedWorkloadCertificate> {
  const keys = await generateEcKeyPair('ec', { namedCurve: 'prime256v1' });
  // X.509 times have whole seconds: round up, so a certificate never lives shorter than its TTL
  // (at a TTL of seconds, truncation would eat a good part of the renewal margin).
  const expiresAt = new Date(Math.ceil((input.issuedAt.getTime() + input.ttlMs) / 1000) * 1000);
  const fields: LeafFields = {
    serialNumberHex: randomSerialNumber(),
    notBefore: new Date(input.issuedAt.getTime() - WORKLOAD_CERT_BACKDATE_MS),
    notAfter: expiresAt,
    publicKeyDer: keys.publicKey.export({ type: 'spki', format: 'der' }),
  };
  const byId = templates.get(input.signer) ?? new Map<string, LeafTemplate | null>();
  templates.set(input.signer, byId);
  const template = byId.get(input.spiffeId);
  let der: Uint8Array;
  if (template) {
    der = await issueFromTemplate(template, fields);
  } else {
    der = await buildWorkloadCertificate(input.signer, input.spiffeId, fields);
    if (template === undefined)
      byId.set(input.spiffeId, leafTemplateOf(der, templateSigner(input.signer)) ?? null);
  }
  return {
    certificatePem: encodePem('CERTIFICATE', der),
    privateKeyPem: String(keys.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    expiresAt,
  };
}

/**
 * The certificate of these fields as @peculiar/x509 builds it: the first of a signer's leaves for an
 * id, and the template of the rest.
 */
export async function buildWorkloadCertificate(
  signer: WorkloadSigner,
  spiffeId: string,
  fields: LeafFields,
): Promise<Uint8Array> {
  const issuer = signer.certificate;
  const issuerSki = issuer.getExtension(x509.SubjectKeyIdentifierExtension);
  const publicKey = await webcrypto.subtle.importKey(
    'spki',
    fields.publicKeyDer,
    { name: 'ECDSA', namedCurve: 'P-256' },
    true,
    ['verify'],
  );
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: fields.serialNumberHex,
    subject: new x509.Name([]),
    issuer: new x509.Name(issuer.subjectName.toArrayBuffer()),
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    signingAlgorithm: signingAlgorithmOf(keyAlgorithmOf(signer.privateKey)),
    publicKey,
    signingKey: signer.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      // Critical because the subject is empty (RFC 5280 4.2.1.6), as in Istio's workload certificates.
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
      issuerSki
        ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId)
        : await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
    ],
  });
  return new Uint8Array(certificate.rawData);
}

/** The signer's key as node:crypto signs with it, and its hash by node:crypto's name. */
export function templateSigner(signer: WorkloadSigner): { key: KeyObject; hash: string } {
  const { hash } = signingAlgorithmOf(keyAlgorithmOf(signer.privateKey));
  return { key: KeyObject.from(signer.privateKey), hash: String(hash).replace('-', '').toLowerCase() };
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
