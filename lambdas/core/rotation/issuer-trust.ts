import type { Finding } from '../pki/findings.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { PreconditionFailed } from '../rotation-errors.js';

/**
 * A cluster switches to an intermediate only under a root its root-cert.pem trusts already: every
 * cluster has to trust the new root before any cluster issues under it, or mTLS with every peer breaks.
 */
export const ISSUER_TRUSTED_RULE = 'issuer-root-trusted';

/** Whether `rootCertPem`, a cluster's root-cert.pem, holds the root `issuerFingerprint`. */
export function issuerTrustFinding(cluster: string, rootCertPem: string, issuerFingerprint: string): Finding {
  const where = { cluster, file: 'root-cert.pem' };
  if (TrustBundle.parse(rootCertPem, where).has(issuerFingerprint)) {
    const reason = `root-cert.pem of cluster ${cluster} holds the issuing root ${issuerFingerprint}`;
    return { rule: ISSUER_TRUSTED_RULE, status: 'compliant', reason, ...where };
  }
  const reason =
    `root-cert.pem of cluster ${cluster} does not hold the issuing root ${issuerFingerprint}; switching the ` +
    'intermediate now would break mTLS with every peer. Run distribute-bundle and verify-trust for every cluster first.';
  return { rule: ISSUER_TRUSTED_RULE, status: 'non-compliant', reason, ...where };
}

/**
 * reissue-intermediate's refusal (PreconditionFailed) unless the cluster trusts the issuing root. It runs
 * it before an intermediate is stored (rollback takes a stored one as "switched"), and the change
 * decided after (reissue-intermediate-change.ts) runs it again on what the cluster holds then.
 */
export function requireIssuerTrusted(cluster: string, rootCertPem: string, issuerFingerprint: string): void {
  const finding = issuerTrustFinding(cluster, rootCertPem, issuerFingerprint);
  if (finding.status === 'non-compliant') {
    throw new PreconditionFailed(finding.reason, { cluster, phase: 'reissue-intermediate' });
  }
}
