import { type ParsedCertificate, parseCertificatesPem } from './certificate.js';
import type { Finding } from './findings.js';
import { encodePem } from './pem.js';
import type { PkiContext } from './pki-errors.js';

/** One root of a bundle: public data only. */
export interface TrustedRoot {
  /** Canonical PEM (64-column base64, trailing newline). */
  readonly pem: string;
  readonly fingerprint: string;
  readonly subject: string;
  readonly notAfter: Date;
}

/**
 * An immutable, ordered set of root certificates (what `root-cert.pem` holds), with identity by DER:
 * two byte-different encodings of "the same" root are different roots, as istiod sees them.
 */
export class TrustBundle {
  /** Tolerant of whitespace, CRLF and text between blocks; duplicates collapse to the first. */
  static parse(pem: string, context: PkiContext = {}): TrustBundle {
    return new TrustBundle(parseCertificatesPem(pem, context));
  }

  static of(certificatePems: readonly string[], context: PkiContext = {}): TrustBundle {
    return new TrustBundle(certificatePems.flatMap((pem) => parseCertificatesPem(pem, context)));
  }

  static empty(): TrustBundle {
    return new TrustBundle([]);
  }

  readonly roots: readonly TrustedRoot[];
  private readonly entries: readonly ParsedCertificate[];

  private constructor(certificates: readonly ParsedCertificate[]) {
    const seen = new Set<string>();
    this.entries = certificates.filter((entry) => {
      if (seen.has(entry.fingerprint)) return false;
      seen.add(entry.fingerprint);
      return true;
    });
    this.roots = Object.freeze(
      this.entries.map((entry) =>
        Object.freeze({
          pem: encodePem('CERTIFICATE', entry.der),
          fingerprint: entry.fingerprint,
          subject: entry.certificate.subject,
          notAfter: entry.certificate.notAfter,
        }),
      ),
    );
    Object.freeze(this);
  }

  get size(): number {
    return this.entries.length;
  }

  fingerprints(): string[] {
    return this.entries.map((entry) => entry.fingerprint);
  }

  has(fingerprint: string): boolean {
    const wanted = fingerprint.toLowerCase().replace(/:/g, '');
    return this.entries.some((entry) => entry.fingerprint === wanted);
  }

  /** The parsed certificates, for chain verification inside the core. */
  certificates(): readonly ParsedCertificate[] {
    return this.entries;
  }

  /** This bundle followed by the roots of `other` it lacks. */
  add(other: TrustBundle | string): TrustBundle {
    const more = typeof other === 'string' ? TrustBundle.parse(other) : other;
    return new TrustBundle([...this.entries, ...more.entries]);
  }

  remove(fingerprint: string): TrustBundle {
    const wanted = fingerprint.toLowerCase().replace(/:/g, '');
    return new TrustBundle(this.entries.filter((entry) => entry.fingerprint !== wanted));
  }

  /** Same set of roots, order ignored. */
  equals(other: TrustBundle): boolean {
    return this.isSubsetOf(other) && other.isSubsetOf(this);
  }

  isSupersetOf(other: TrustBundle): boolean {
    return other.isSubsetOf(this);
  }

  isSubsetOf(other: TrustBundle): boolean {
    return this.entries.every((entry) => other.has(entry.fingerprint));
  }

  /** Canonical text: blocks joined by '\n' (each ends with one), so equal bundles serialise equally. */
  toPem(): string {
    return this.roots.map((root) => root.pem).join('');
  }
}

export const ROOT_TRANSITION_RULE = 'root-transition-superset-or-subset';

/**
 * Istio's multi-root rule (ISTIO_MULTIROOT_MESH): istiod accepts a new root-cert.pem only when its
 * set of roots is a superset or a subset of the previous one, and silently ignores anything else.
 */
export function checkRootTransition(
  previous: TrustBundle,
  next: TrustBundle,
  where: { readonly cluster?: string; readonly file?: string } = {},
): Finding {
  const base = { rule: ROOT_TRANSITION_RULE, ...where };
  if (next.size === 0) {
    return {
      ...base,
      status: 'non-compliant',
      reason: 'the new root-cert.pem holds no root; istiod would reject it. Keep at least one root.',
    };
  }
  if (next.equals(previous)) {
    return { ...base, status: 'compliant', reason: 'the root set is unchanged' };
  }
  if (next.isSupersetOf(previous)) {
    return {
      ...base,
      status: 'compliant',
      reason: `adds ${next.size - previous.size} root(s) and keeps every current root`,
    };
  }
  if (next.isSubsetOf(previous)) {
    return {
      ...base,
      status: 'compliant',
      reason: `removes ${previous.size - next.size} root(s) and adds none`,
    };
  }
  const added = next.fingerprints().filter((fingerprint) => !previous.has(fingerprint));
  const removed = previous.fingerprints().filter((fingerprint) => !next.has(fingerprint));
  return {
    ...base,
    status: 'non-compliant',
    reason:
      `the new root set both adds (${added.join(', ')}) and removes (${removed.join(', ')}) roots; istiod would ` +
      'silently keep the old set. First add the new roots (write old + new), then remove old ones in a later step.',
  };
}
