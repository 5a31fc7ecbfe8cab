import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '../adapters/audit/logger.js';
import { createMetrics } from '../adapters/audit/metrics.js';
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import { readIstiodCaGauges } from '../adapters/kube/istiod-metrics.js';
import { describeCertificate } from '../core/pki/certificate-info.js';
import { type ExpiryHeadroom, expiryHeadroom } from '../core/rotation/expiry-headroom.js';
import { watchedIntermediate } from '../core/rotation/intermediate-expiry.js';
import { primaryServing } from './remote-cluster.js';
import type { RotationRuntime } from './runtime.js';

/** The metric the expiry alarm watches (lib/expiry-metric.ts holds the same names). */
export const EXPIRY_METRIC_NAME = 'CaExpiryHeadroomDays';

export interface CheckExpiryOutput extends ExpiryHeadroom {
  /** How many CA certificates were checked (the root and one intermediate per cluster). */
  readonly certificates: number;
}

/**
 * check-expiry's sequence: the current root's expiry from the root secret, each primary's intermediate
 * from what its istiod reports (watchedIntermediate; a remote has none of its own: its primary's is
 * watched), the headroom published as metric CaExpiryHeadroomDays (dimension mesh) and a warning logged
 * below EXPIRY_WARNING_DAYS.
 */
export async function checkExpiry(runtime: RotationRuntime): Promise<CheckExpiryOutput> {
  const { store, config } = runtime;
  const { certificatePem } = (await store.readCurrentRoot()).material;
  const root = { name: 'root', notAfter: describeCertificate(certificatePem).notAfter };
  const primaries = (await runtime.fleet()).filter(({ name }) => primaryServing(runtime, name) === undefined);
  const intermediates = await mapWithConcurrency(primaries, 4, async ({ name }) =>
    watchedIntermediate(name, await readIstiodCaGauges(await runtime.clusterClient(name))),
  );
  const watched = [root, ...intermediates];
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
