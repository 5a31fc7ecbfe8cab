import type { CacertsFiles } from '../pki/cacerts.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { PreconditionFailed } from '../rotation-errors.js';
import { type CacertsChange, changeTo } from './cacerts-change.js';
import { chainRootOf } from './chain-root.js';

/**
 * retire-root: root-cert.pem becomes exactly the new root's PEM as stored when it was staged, the very
 * bytes distribute-bundle appended, so the old file contains the new one (Istio up to 1.29 compares
 * bytes) and {B} is a subset of the old set (1.30 compares sets); ca-cert/ca-key/cert-chain stay byte
 * for byte. Refused while the cluster's intermediate does not chain to B (istiod would then drop the
 * write, or worse, stop trusting itself), and while root-cert.pem does not contain B's PEM byte for byte
 * (istiod up to 1.29 would drop it).
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
  const change = changeTo(
    current,
    { ...current, 'root-cert.pem': newRootPem },
    {
      write: "root-cert.pem becomes the new root's PEM alone, the bytes distribute-bundle appended",
      unchanged: 'root-cert.pem already holds only the new root',
    },
  );
  if (change.write && !current['root-cert.pem'].includes(newRootPem)) {
    throw new PreconditionFailed(
      `root-cert.pem of cluster ${cluster} does not contain the new root ${newRoot} in the bytes it was staged with, ` +
        'as distribute-bundle appends it (someone re-encoded or replaced the file); istiod up to Istio 1.29 drops a ' +
        'root-cert.pem that is not part of the current one. Put back the text distribute-bundle wrote (the old ' +
        "root-cert.pem with the new root's PEM appended), then retry.",
      { cluster, phase: 'retire-root' },
    );
  }
  return change;
}
