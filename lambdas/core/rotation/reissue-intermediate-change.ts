import { assembleCacerts, type CacertsFiles } from '../pki/cacerts.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { appendRootPem, checkRootCertBytes } from '../pki/root-cert-bytes.js';
import { PreconditionFailed } from '../rotation-errors.js';
import { type CacertsChange, changeTo } from './cacerts-change.js';
import { requireIssuerTrusted } from './issuer-trust.js';

export interface ReissueIntermediateInput {
  readonly cluster: string;
  readonly current: CacertsFiles;
  /** The cluster's new intermediate, signed by the issuer root. */
  readonly intermediate: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** The root that signed it: the new root, or the current root in intermediate mode. */
  readonly issuerRootPem: string;
  /**
   * The cluster's rotation strategy (lambdas/core/istio/rotation-strategy.ts). `resign` appends the
   * issuer root's PEM to root-cert.pem once more (A+B -> A+B+B), so that istiod pushes a changed trust
   * anchor and every running proxy asks the new intermediate for a certificate at once.
   * @default 'restart': root-cert.pem unchanged
   */
  readonly strategy?: 'resign' | 'restart';
}

/**
 * reissue-intermediate: ca-cert/ca-key = the new intermediate, cert-chain = intermediate + its root,
 * root-cert.pem unchanged byte for byte (it must already trust the issuer: every cluster has to trust
 * the new root before any cluster issues under it). Byte for byte, because istiod compares root-cert.pem
 * before anything else: equal bytes are no root change at all, while re-encoded ones are a root change
 * that Istio up to 1.29 drops together with the new intermediate.
 *
 * With strategy `resign`, root-cert.pem is the current bytes with the issuer root's PEM appended once
 * more (step 2 of resign-root-cert-writes.ts): it contains the current file, so every Istio version
 * takes it, and its set is the same. A cluster already on this intermediate (a re-run) is left as it is,
 * so the root is never appended twice.
 */
export function reissueIntermediateChange(input: ReissueIntermediateInput): CacertsChange {
  const { cluster, current, intermediate, issuerRootPem } = input;
  const issuer = certificateFingerprint(issuerRootPem, { cluster, file: 'issuer root' });
  requireIssuerTrusted(cluster, current['root-cert.pem'], issuer);
  const alreadySwitched = current['ca-cert.pem'] === intermediate.certificatePem;
  const trustedRoots =
    input.strategy === 'resign' && !alreadySwitched
      ? appendRootPem(current['root-cert.pem'], issuerRootPem)
      : current['root-cert.pem'];
  // By construction the new file contains the current one; a check keeps it so should that change.
  const accepted = checkRootCertBytes(current['root-cert.pem'], trustedRoots, {
    cluster,
    file: 'root-cert.pem',
  });
  if (accepted.status !== 'compliant') {
    throw new PreconditionFailed(`cluster ${cluster}: istiod would drop this cacerts: ${accepted.reason}`, {
      cluster,
      phase: 'reissue-intermediate',
    });
  }
  const desired = assembleCacerts({ intermediate, chainAbove: [issuerRootPem], trustedRoots });
  return changeTo(current, desired, {
    write: 'the intermediate switches to one issued under the issuing root',
    unchanged: 'the cluster already runs on this intermediate',
  });
}
