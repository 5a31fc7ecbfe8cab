import type { CacertsFiles } from '../pki/cacerts.js';
import { TrustBundle } from '../pki/trust-bundle.js';

/**
 * What a phase should do to one cluster's `cacerts`: write `files`, or nothing because the cluster is
 * already in the desired state (an idempotent re-run). `files` is the desired content either way.
 */
export type CacertsChange =
  | { readonly write: true; readonly files: CacertsFiles; readonly reason: string }
  | { readonly write: false; readonly files: CacertsFiles; readonly reason: string };

/**
 * Whether two `cacerts` hold the same CA for istiod: the same bytes in ca-cert, ca-key and
 * cert-chain, and the same set of roots in root-cert (istiod compares roots by DER, in any order).
 */
export function sameCacerts(a: CacertsFiles, b: CacertsFiles): boolean {
  return (
    a['ca-cert.pem'] === b['ca-cert.pem'] &&
    a['ca-key.pem'] === b['ca-key.pem'] &&
    a['cert-chain.pem'] === b['cert-chain.pem'] &&
    TrustBundle.parse(a['root-cert.pem']).equals(TrustBundle.parse(b['root-cert.pem']))
  );
}

/** Every key byte for byte: what rollback's last stage promises. */
export function identicalCacerts(a: CacertsFiles, b: CacertsFiles): boolean {
  return (
    a['ca-cert.pem'] === b['ca-cert.pem'] &&
    a['ca-key.pem'] === b['ca-key.pem'] &&
    a['cert-chain.pem'] === b['cert-chain.pem'] &&
    a['root-cert.pem'] === b['root-cert.pem']
  );
}

/** Decides between writing `desired` and leaving `current` as it is. */
export function changeTo(
  current: CacertsFiles,
  desired: CacertsFiles,
  reasons: { readonly write: string; readonly unchanged: string },
  same: (a: CacertsFiles, b: CacertsFiles) => boolean = sameCacerts,
): CacertsChange {
  return same(current, desired)
    ? { write: false, files: current, reason: reasons.unchanged }
    : { write: true, files: desired, reason: reasons.write };
}
