import type { CacertsFiles } from '../pki/cacerts.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { PreconditionFailed } from '../rotation-errors.js';
import { type CacertsChange, changeTo } from './cacerts-change.js';
import { chainRootOf } from './chain-root.js';

/**
 * retire-root: root-cert becomes exactly the new root, ca-cert/ca-key/cert-chain stay byte for byte.
 * {B} is a subset of anything before it, so istiod takes it; refused while the cluster's intermediate
 * does not chain to B, because istiod would then drop the write (or, worse, stop trusting itself).
 */
export async function retireRootChange(
  cluster: string,
  current: CacertsFiles,
  newRootPem: string,
): Promise<CacertsChange> {
  const keep = TrustBundle.parse(newRootPem, { cluster, file: 'new root' });
  const newRoot = certificateFingerprint(newRootPem, { cluster, file: 'new root' });
  if ((await chainRootOf(current, keep, cluster)) !== newRoot) {
    throw new PreconditionFailed(
      `The intermediate of cluster ${cluster} does not chain to the new root ${newRoot}; retiring the old root ` +
        'now would leave istiod without a valid chain. Run reissue-intermediate (and restart-workloads) first.',
      { cluster, phase: 'retire-root' },
    );
  }
  return changeTo(
    current,
    { ...current, 'root-cert.pem': keep.toPem() },
    {
      write: 'root-cert.pem drops every root but the new one',
      unchanged: 'root-cert.pem already holds only the new root',
    },
  );
}
