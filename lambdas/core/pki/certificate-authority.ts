import type * as X509 from '@peculiar/x509';
import { parseCertificatePem, sameBytes } from './certificate.js';
import { type CertificateSigner, keyObjectSigner, signingWith } from './certificate-signer.js';
import {
  DEFAULT_KEY_ALGORITHM,
  generateKeyObjects,
  type KeyAlgorithm,
  signingAlgorithmOf,
} from './key-algorithm.js';
import { encodePem } from './pem.js';
import {
  ExpiredCertificateError,
  InvalidPkiArgumentError,
  KeyCertMismatchError,
  NotACaError,
  PathLengthError,
} from './pki-errors.js';
import { privateKeyObjectOfPem, privateKeyObjectPem } from './private-key.js';
import { x509 } from './x509.js';

/** A CA certificate with its key, both PEM. Only ever lives inside handlers, never in payloads. */
export interface CaMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface RootCaOptions {
  /** @default 'meshtrust' */
  readonly organization?: string;
  /** @default 'meshtrust Root CA' */
  readonly commonName?: string;
  /** @default 3650 */
  readonly validityDays?: number;
  /** @default DEFAULT_KEY_ALGORITHM (ecdsa-p256) */
  readonly algorithm?: KeyAlgorithm;
  /** The clock; @default new Date() */
  readonly now?: Date;
}

/** An issuer whose key is not at hand: its certificate, and a signer for its key (e.g. in KMS). */
export interface SigningIssuer {
  readonly certificatePem: string;
  readonly signer: CertificateSigner;
}

export interface IntermediateCaOptions {
  /** The cluster this intermediate serves; written to the subject as L=<cluster> like Istio's tools. */
  readonly cluster: string;
  /** The root (or parent) that signs: with its private key, or through a signer. */
  readonly issuer: CaMaterial | SigningIssuer;
  /** @default 'meshtrust' */
  readonly organization?: string;
  /** @default 'Intermediate CA' */
  readonly commonName?: string;
  /** Clamped so the intermediate never outlives its issuer. @default 365 */
  readonly validityDays?: number;
  /** @default DEFAULT_KEY_ALGORITHM (ecdsa-p256) */
  readonly algorithm?: KeyAlgorithm;
  /** The clock; @default new Date() */
  readonly now?: Date;
}

/** istiod's own identity; Istio's tools put it in every plug-in intermediate. */
export const ISTIOD_DNS_NAME = 'istiod.istio-system.svc';

/**
 * Certificates start a little in the past so that a cluster whose clock lags ours still accepts them:
 * istiod rejects a not-yet-valid cacerts silently.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

export async function createRootCa(options: RootCaOptions = {}): Promise<CaMaterial> {
  const algorithm = options.algorithm ?? DEFAULT_KEY_ALGORITHM;
  const keys = await generateKeyObjects(algorithm);
  const { certificatePem } = await createRootCertificate(
    keyObjectSigner(keys.privateKey, algorithm),
    options,
  );
  return { certificatePem, privateKeyPem: privateKeyObjectPem(keys.privateKey) };
}

/**
 * A root certificate for a key the caller cannot see (a KMS key): self-signed through `signer`, with
 * the profile of createRootCa. `options.algorithm` is the signer's.
 */
export async function createRootCertificate(
  signer: CertificateSigner,
  options: Omit<RootCaOptions, 'algorithm'> = {},
): Promise<{ readonly certificatePem: string }> {
  const organization = requireName('organization', options.organization ?? 'meshtrust');
  const commonName = requireName('commonName', options.commonName ?? 'meshtrust Root CA');
  const validityDays = requireValidity(options.validityDays ?? 3650);
  const now = options.now ?? new Date();

  const publicKey = await signer.publicKeySpki();
  const { signingKey, crypto } = signingWith(signer);
  const name: X509.JsonName = [{ O: [organization] }, { CN: [commonName] }];
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: name,
      issuer: name,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS),
      notAfter: new Date(now.getTime() + validityDays * DAY_MS),
      signingAlgorithm: signingAlgorithmOf(signer.algorithm),
      publicKey,
      signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certificatePem: encodePem('CERTIFICATE', certificate.rawData) };
}

/**
 * A per-cluster intermediate in Istio's plug-in CA profile: CA:TRUE pathlen:0 (it signs only workload
 * certificates), keyCertSign, SAN istiod.istio-system.svc, no EKU (Go's verifier then accepts it for
 * any usage), signed by `issuer` and never valid beyond it.
 */
export async function createIntermediateCa(options: IntermediateCaOptions): Promise<CaMaterial> {
  const cluster = requireName('cluster', options.cluster);
  return (await intermediateIssuer(options.issuer, cluster)).createIntermediateCa(options);
}

/**
 * An issuer read and checked once, to sign several clusters' intermediates (a fleet's, a bench's). It
 * holds the issuer's key in memory for as long as it is referenced, as the CaMaterial it came from does.
 */
export interface IntermediateIssuer {
  /** createIntermediateCa by this issuer. */
  createIntermediateCa(options: Omit<IntermediateCaOptions, 'issuer'>): Promise<CaMaterial>;
}

/**
 * `issuer` ready to sign intermediates: its certificate parsed, its key matched to it, and it checked to
 * be a CA that may sign one (its expiry is checked per intermediate, at that one's `now`). Reading the
 * certificate and key is most of one intermediate's work in JavaScript, so a caller making several
 * reads them once here. `cluster` only names the cluster in the errors of this check.
 */
export async function intermediateIssuer(
  issuer: CaMaterial | SigningIssuer,
  cluster?: string,
): Promise<IntermediateIssuer> {
  const issuerContext = { cluster, file: 'issuer certificate' };
  const certificate = parseCertificatePem(issuer.certificatePem, issuerContext).certificate;
  const signer = await issuerSigner(issuer, cluster);
  assertCanIssueIntermediate(certificate, new Uint8Array(await signer.publicKeySpki()), issuerContext);
  const { signingKey, crypto } = signingWith(signer);
  const issuerSki = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyIdentifier = issuerSki
    ? new x509.AuthorityKeyIdentifierExtension(issuerSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey, false, crypto);
  // The issuer's subject DER verbatim: Go links chains by comparing raw name bytes.
  const issuerName = new x509.Name(certificate.subjectName.toArrayBuffer());
  const profile = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: ISTIOD_DNS_NAME }]),
  ];

  return {
    async createIntermediateCa(options) {
      const cluster = requireName('cluster', options.cluster);
      const organization = requireName('organization', options.organization ?? 'meshtrust');
      const commonName = requireName('commonName', options.commonName ?? 'Intermediate CA');
      const validityDays = requireValidity(options.validityDays ?? 365);
      const algorithm = options.algorithm ?? DEFAULT_KEY_ALGORITHM;
      const now = options.now ?? new Date();
      if (certificate.notAfter.getTime() <= now.getTime()) {
        throw new ExpiredCertificateError(certificate.subject, certificate.notAfter, {
          cluster,
          file: 'issuer certificate',
        });
      }

      const keys = await generateKeyObjects(algorithm);
      const publicKey = new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' }));
      const notAfter = Math.min(now.getTime() + validityDays * DAY_MS, certificate.notAfter.getTime());
      const intermediate = await x509.X509CertificateGenerator.create(
        {
          serialNumber: randomSerialNumber(),
          subject: [{ O: [organization] }, { CN: [commonName] }, { L: [cluster] }],
          issuer: issuerName,
          notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS),
          notAfter: new Date(notAfter),
          signingAlgorithm: signingAlgorithmOf(signer.algorithm),
          publicKey,
          signingKey,
          extensions: [
            ...profile,
            await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
            authorityKeyIdentifier,
          ],
        },
        crypto,
      );
      return {
        certificatePem: encodePem('CERTIFICATE', intermediate.rawData),
        privateKeyPem: privateKeyObjectPem(keys.privateKey),
      };
    },
  };
}

/** 16 random bytes, high bit clear (positive) and second-highest set (no leading zero byte). */
export function randomSerialNumber(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

/** The issuer's signer: its own, or one over its private key (whose algorithm the key says). */
async function issuerSigner(
  issuer: CaMaterial | SigningIssuer,
  cluster: string | undefined,
): Promise<CertificateSigner> {
  if ('signer' in issuer) return issuer.signer;
  const { keyObject, algorithm } = privateKeyObjectOfPem(issuer.privateKeyPem, {
    cluster,
    file: 'issuer key',
  });
  return keyObjectSigner(keyObject, algorithm);
}

function assertCanIssueIntermediate(
  issuer: X509.X509Certificate,
  issuerPublicKey: Uint8Array,
  context: { cluster?: string; file: string },
): void {
  if (!sameBytes(issuerPublicKey, issuer.publicKey.rawData)) {
    throw new KeyCertMismatchError('the issuer key', 'the issuer certificate', context);
  }
  const basicConstraints = issuer.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = issuer.getExtension(x509.KeyUsagesExtension);
  if (!basicConstraints?.ca || (keyUsage && !(keyUsage.usages & x509.KeyUsageFlags.keyCertSign))) {
    throw new NotACaError(issuer.subject, context);
  }
  if (basicConstraints.pathLength === 0) throw new PathLengthError(issuer.subject, 0, context);
}

function requireName(field: string, value: string): string {
  if (
    typeof value !== 'string' ||
    value.trim() === '' ||
    [...value].some((char) => char.charCodeAt(0) < 0x20)
  ) {
    throw new InvalidPkiArgumentError(
      `${field} must be a non-empty single-line string, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function requireValidity(days: number): number {
  if (!Number.isFinite(days) || days <= 0) {
    throw new InvalidPkiArgumentError(`validityDays must be a positive number, got ${days}`);
  }
  return days;
}
