import {
  CERT_CHAIN_EXPIRY_METRIC,
  earliestCertChainExpiry,
  type IstiodCaGauges,
} from '../istio/istiod-ca-metrics.js';
import { VerificationFailed } from '../rotation-errors.js';
import type { WatchedCertificate } from './expiry-headroom.js';

/**
 * A primary cluster's intermediate as check-expiry watches it: the earliest expiry its istiod replicas
 * report signing with (never cacerts, which holds the key). Refused (VerificationFailed, which fails the
 * check and raises its alarm) when no replica reports one: nothing then says what istiod signs with.
 */
export function watchedIntermediate(
  cluster: string,
  replicas: readonly IstiodCaGauges[],
): WatchedCertificate {
  const notAfter = earliestCertChainExpiry(replicas);
  if (notAfter === undefined) {
    throw new VerificationFailed(
      `No running istiod in ${cluster} reports ${CERT_CHAIN_EXPIRY_METRIC} (${replicas.length} replica(s) ` +
        'answered): nothing says which intermediate it signs with. Check istiod in istio-system.',
      { cluster, phase: 'check-expiry' },
    );
  }
  return { name: `intermediate/${cluster}`, notAfter };
}
