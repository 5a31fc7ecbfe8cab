import type { CacertsFiles } from '../pki/cacerts.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { type CacertsChange, changeTo } from './cacerts-change.js';

/**
 * distribute-bundle: root-cert becomes the cluster's current set plus the new root, everything else
 * stays byte for byte. The current set (not literally {A, B}) keeps any other root the cluster holds,
 * so the change is always a superset, which istiod's multiroot rule accepts.
 */
export function distributeBundleChange(current: CacertsFiles, newRootPem: string): CacertsChange {
  const roots = TrustBundle.parse(current['root-cert.pem']).add(newRootPem);
  return changeTo(
    current,
    { ...current, 'root-cert.pem': roots.toPem() },
    {
      write: 'root-cert.pem gains the new root',
      unchanged: 'root-cert.pem already holds the new root',
    },
  );
}
