import { MeshTrustError } from '../meshtrust-error.js';

/**
 * Errors raised by the PKI core. Each names the file and cluster it concerns (when known) and says
 * what to do. Messages never contain key material: at most a PEM block type or a fingerprint.
 */

/** Where a piece of PKI input came from, for messages and findings. */
export interface PkiContext {
  readonly cluster?: string;
  readonly file?: string;
}

/** "ca-cert.pem of cluster east", "ca-cert.pem", "input of cluster east" or "input". */
export function describeSource(context: PkiContext = {}): string {
  const file = context.file ?? 'input';
  return context.cluster ? `${file} of cluster ${context.cluster}` : file;
}

export class PkiError extends MeshTrustError {
  readonly cluster?: string;
  readonly file?: string;

  constructor(message: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PkiError';
    this.cluster = context.cluster;
    this.file = context.file;
  }
}

export class NotPemError extends PkiError {
  constructor(detail: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} is not PEM: ${detail}. Provide PEM text with -----BEGIN ...----- / -----END ...----- blocks (not DER, not base64 without armour).`,
      context,
      options,
    );
    this.name = 'NotPemError';
  }
}

export class TruncatedPemError extends PkiError {
  constructor(blockType: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} has a "${blockType}" PEM block without its matching END line; the file looks truncated. Copy the file again in full.`,
      context,
      options,
    );
    this.name = 'TruncatedPemError';
  }
}

export class WrongBlockTypeError extends PkiError {
  readonly expected: readonly string[];
  readonly actual: string;

  constructor(expected: readonly string[], actual: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} holds a "${actual}" PEM block where ${expected.map((t) => `"${t}"`).join(' or ')} is expected. Check that the right file was put under this name.`,
      context,
      options,
    );
    this.name = 'WrongBlockTypeError';
    this.expected = expected;
    this.actual = actual;
  }
}

export class InvalidCertificateError extends PkiError {
  constructor(detail: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} holds a CERTIFICATE block that is not a valid X.509 certificate (${detail}). Regenerate or re-export the certificate.`,
      context,
      options,
    );
    this.name = 'InvalidCertificateError';
  }
}

export class EncryptedKeyError extends PkiError {
  constructor(context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} holds an encrypted private key; istiod and meshtrust need it unencrypted. Decrypt it first (e.g. openssl pkey -in key.pem -out plain.pem) and keep the plain key only in the secret store.`,
      context,
      options,
    );
    this.name = 'EncryptedKeyError';
  }
}

export class UnsupportedKeyError extends PkiError {
  constructor(detail: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${describeSource(context)} holds an unsupported key (${detail}). Use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096.`,
      context,
      options,
    );
    this.name = 'UnsupportedKeyError';
  }
}

export class UnknownCurveError extends UnsupportedKeyError {
  readonly curve: string;

  constructor(curve: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(`elliptic curve "${curve}" is not supported`, context, options);
    this.name = 'UnknownCurveError';
    this.curve = curve;
  }
}

export class KeyCertMismatchError extends PkiError {
  constructor(keyFile: string, certFile: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `${keyFile} does not match the public key of ${certFile}${context.cluster ? ` in cluster ${context.cluster}` : ''}. Put the private key that belongs to this certificate (or reissue the certificate for this key).`,
      context,
      options,
    );
    this.name = 'KeyCertMismatchError';
  }
}

export class ExpiredCertificateError extends PkiError {
  readonly notAfter: Date;

  constructor(subject: string, notAfter: Date, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `certificate "${subject}" in ${describeSource(context)} expired at ${notAfter.toISOString()}. Replace it with a valid one (rotate this CA) before using it.`,
      context,
      options,
    );
    this.name = 'ExpiredCertificateError';
    this.notAfter = notAfter;
  }
}

export class NotACaError extends PkiError {
  constructor(subject: string, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `certificate "${subject}" in ${describeSource(context)} is not a CA (basicConstraints CA:TRUE and keyCertSign are required to sign certificates). Use a CA certificate as issuer.`,
      context,
      options,
    );
    this.name = 'NotACaError';
  }
}

export class PathLengthError extends PkiError {
  constructor(subject: string, pathLength: number, context: PkiContext = {}, options?: ErrorOptions) {
    super(
      `certificate "${subject}" in ${describeSource(context)} has pathlen:${pathLength} and cannot have another CA below it. Sign with a CA whose pathlen allows it (e.g. the root).`,
      context,
      options,
    );
    this.name = 'PathLengthError';
  }
}

export class InvalidPkiArgumentError extends PkiError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'InvalidPkiArgumentError';
  }
}
