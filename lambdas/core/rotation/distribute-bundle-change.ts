import type { CacertsFiles } from '../pki/cacerts.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { appendRootPem } from '../pki/root-cert-bytes.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import type { CacertsChange } from './cacerts-change.js';

/**
 * distribute-bundle: root-cert.pem becomes its current text with the new root's PEM appended, byte for
 * byte, everything else unchanged. Appending (never re-encoding) keeps the old file inside the new one,
 * which Istio up to 1.29 requires (`bytes.Contains`); the current set (not literally {A, B}) keeps any
 * other root the cluster holds, so the change is also a superset, which 1.30 requires. When the set
 * already holds the new root (a retry), nothing is appended again.
 */
export function distributeBundleChange(current: CacertsFiles, newRootPem: string): CacertsChange {
  const newRoot = certificateFingerprint(newRootPem, { file: 'new root' });
  if (TrustBundle.parse(current['root-cert.pem'], { file: 'root-cert.pem' }).has(newRoot)) {
    return { write: false, files: current, reason: 'root-cert.pem already holds the new root' };
  }
  return {
    write: true,
    files: { ...current, 'root-cert.pem': appendRootPem(current['root-cert.pem'], newRootPem) },
    reason: 'root-cert.pem gains the new root, appended to its existing bytes',
  };
}
