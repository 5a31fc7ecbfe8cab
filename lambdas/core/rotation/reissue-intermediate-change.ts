import { assembleCacerts, type CacertsFiles } from '../pki/cacerts.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { PreconditionFailed } from '../rotation-errors.js';
import { type CacertsChange, changeTo } from './cacerts-change.js';

export interface ReissueIntermediateInput {
  readonly cluster: string;
  readonly current: CacertsFiles;
  /** The cluster's new intermediate, signed by the issuer root. */
  readonly intermediate: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** The root that signed it: the new root, or the current root in intermediate mode. */
  readonly issuerRootPem: string;
}

/**
 * reissue-intermediate: ca-cert/ca-key = the new intermediate, cert-chain = intermediate + its root,
 * root-cert.pem unchanged byte for byte (it must already trust the issuer: every cluster has to trust
 * the new root before any cluster issues under it). Byte for byte, because istiod compares root-cert.pem
 * before anything else: equal bytes are no root change at all, while re-encoded ones are a root change
 * that Istio up to 1.29 drops together with the new intermediate.
 */
export function reissueIntermediateChange(input: ReissueIntermediateInput): CacertsChange {
  const { cluster, current, intermediate, issuerRootPem } = input;
  const trusted = TrustBundle.parse(current['root-cert.pem'], { cluster, file: 'root-cert.pem' });
  const issuer = certificateFingerprint(issuerRootPem, { cluster, file: 'issuer root' });
  if (!trusted.has(issuer)) {
    throw new PreconditionFailed(
      `root-cert.pem of cluster ${cluster} does not hold the issuing root ${issuer}; switching the intermediate ` +
        'now would break mTLS with every peer. Run distribute-bundle and verify-trust for every cluster first.',
      { cluster, phase: 'reissue-intermediate' },
    );
  }
  const desired = assembleCacerts({
    intermediate,
    chainAbove: [issuerRootPem],
    trustedRoots: current['root-cert.pem'],
  });
  return changeTo(current, desired, {
    write: 'the intermediate switches to one issued under the issuing root',
    unchanged: 'the cluster already runs on this intermediate',
  });
}
