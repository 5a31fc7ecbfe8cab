import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '../adapters/audit/logger.js';
import { createMetrics } from '../adapters/audit/metrics.js';
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import { readIstiodCaGauges } from '../adapters/kube/istiod-metrics.js';
import { primaryServing } from '../application/remote-cluster.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { CERT_CHAIN_EXPIRY_METRIC, earliestCertChainExpiry } from '../core/istio/istiod-ca-metrics.js';
import { describeCertificate } from '../core/pki/certificate-info.js';
import {
  type ExpiryHeadroom,
  expiryHeadroom,
  type WatchedCertificate,
} from '../core/rotation/expiry-headroom.js';
import { VerificationFailed } from '../core/rotation-errors.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'check-expiry';

/** The metric the expiry alarm watches (lib/expiry-metric.ts holds the same names). */
export const EXPIRY_METRIC_NAME = 'CaExpiryHeadroomDays';

export interface CheckExpiryOutput extends ExpiryHeadroom {
  /** How many CA certificates were checked (the root and one intermediate per cluster). */
  readonly certificates: number;
}

/**
 * The daily expiry check (EventBridge Scheduler, no input): the smallest number of days until the
 * current root or any cluster's intermediate expires, as metric CaExpiryHeadroomDays with dimensions
 * service and mesh. The root comes from the CA store's root secret (a certificate, no key); each
 * intermediate's expiry from what istiod itself reports signing with (its /metrics), so the check
 * reads no secret in any cluster (its role is mapped to group meshtrust-expiry-check). An unreachable
 * cluster, or one whose istiod reports no signing chain, fails the check, which has its own alarm.
 */
export async function handler(_event?: unknown, context?: LambdaContext): Promise<CheckExpiryOutput> {
  return runHandler({ phase: PHASE, lambdaContext: context }, (runtime) => checkExpiry(runtime));
}

async function checkExpiry(runtime: HandlerRuntime): Promise<CheckExpiryOutput> {
  const { store, config } = runtime;
  const root = await store.readCurrentRoot();
  const watched: WatchedCertificate[] = [
    { name: 'root', notAfter: describeCertificate(root.material.certificatePem).notAfter },
  ];
  // A remote cluster has no istiod nor intermediate of its own: its primary's is watched.
  const clusters = (await runtime.fleet()).filter(({ name }) => primaryServing(runtime, name) === undefined);
  const intermediates = await mapWithConcurrency(clusters, 4, async ({ name }) => {
    const replicas = await readIstiodCaGauges(await runtime.clusterClient(name));
    const notAfter = earliestCertChainExpiry(replicas);
    if (notAfter === undefined) {
      throw new VerificationFailed(
        `No running istiod in ${name} reports ${CERT_CHAIN_EXPIRY_METRIC} (${replicas.length} replica(s) ` +
          'answered): nothing says which intermediate it signs with. Check istiod in istio-system.',
        { cluster: name, phase: PHASE },
      );
    }
    return { name: `intermediate/${name}`, notAfter };
  });
  watched.push(...intermediates);
  const headroom = expiryHeadroom(watched, new Date());

  const metrics = createMetrics();
  metrics.addDimension('mesh', config.meshId);
  metrics.addMetric(EXPIRY_METRIC_NAME, MetricUnit.Count, headroom.days);
  metrics.publishStoredMetrics();
  if (headroom.days < config.expiryWarningDays) {
    logger.warn('a CA expires soon: rotate the root (or rekey the intermediate)', { ...headroom });
  }
  return { ...headroom, certificates: watched.length };
}
