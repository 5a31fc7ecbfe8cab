import { connectEksCluster } from '../adapters/kube/eks-cluster-connector.js';
import { type CheckExpiryOutput, checkExpiry } from '../application/check-expiry.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export { type CheckExpiryOutput, EXPIRY_METRIC_NAME } from '../application/check-expiry.js';

const PHASE = 'check-expiry';

/**
 * The daily expiry check (EventBridge Scheduler, no input): the smallest number of days until the
 * current root or any cluster's intermediate expires, as metric CaExpiryHeadroomDays with dimensions
 * service and mesh. The root comes from the CA store's root secret (a certificate, no key); each
 * intermediate's expiry from what istiod itself reports signing with (its /metrics), so the check
 * reads no secret in any cluster (its role is mapped to group meshtrust-expiry-check). An unreachable
 * cluster, or one whose istiod reports no signing chain, fails the check, which has its own alarm.
 */
export async function handler(_event?: unknown, context?: LambdaContext): Promise<CheckExpiryOutput> {
  return runHandler({ phase: PHASE, lambdaContext: context, connectCluster: connectEksCluster }, (runtime) =>
    checkExpiry(runtime),
  );
}
