import type { CacertsFiles } from '../pki/cacerts.js';
import { parseCertificatesPem } from '../pki/certificate.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { TrustBundle } from '../pki/trust-bundle.js';

/** The public identity of a `cacerts`, for audit events and handler outputs. Never key material. */
export interface CacertsFingerprints {
  /** `ca-cert.pem`, the cluster's intermediate. */
  readonly intermediate: string;
  /** `cert-chain.pem`, in order. */
  readonly chain: string[];
  /** `root-cert.pem`, in order. */
  readonly roots: string[];
}

export function cacertsFingerprints(files: CacertsFiles, cluster?: string): CacertsFingerprints {
  const context = cluster === undefined ? {} : { cluster };
  return {
    intermediate: certificateFingerprint(files['ca-cert.pem'], { ...context, file: 'ca-cert.pem' }),
    chain: parseCertificatesPem(files['cert-chain.pem'], { ...context, file: 'cert-chain.pem' }).map(
      (certificate) => certificate.fingerprint,
    ),
    roots: TrustBundle.parse(files['root-cert.pem'], { ...context, file: 'root-cert.pem' }).fingerprints(),
  };
}

/** The flat list an audit event carries: `intermediate:<fp>` then `root:<fp>` per root. */
export function auditFingerprints(fingerprints: CacertsFingerprints): string[] {
  return [`intermediate:${fingerprints.intermediate}`, ...fingerprints.roots.map((root) => `root:${root}`)];
}
