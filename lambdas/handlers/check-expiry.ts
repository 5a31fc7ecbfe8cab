import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '../adapters/audit/logger.js';
import { createMetrics } from '../adapters/audit/metrics.js';
import { mapWithConcurrency } from '../adapters/eks/map-with-concurrency.js';
import { describeCertificate } from '../core/pki/certificate-info.js';
import {
  type ExpiryHeadroom,
  expiryHeadroom,
  type WatchedCertificate,
} from '../core/rotation/expiry-headroom.js';
import { readClusterCacerts } from './runtime/cluster-cacerts.js';
import { runHandler } from './runtime/run-handler.js';
import type { HandlerRuntime } from './runtime/runtime.js';

const PHASE = 'check-expiry';

/** The metric the expiry alarm watches (lib/expiry-metric.ts holds the same names). */
export const EXPIRY_METRIC_NAME = 'CaExpiryHeadroomDays';

export interface CheckExpiryOutput extends ExpiryHeadroom {
  /** How many CA certificates were checked (the root and one intermediate per cluster). */
  readonly certificates: number;
}

/**
 * The daily expiry check (EventBridge Scheduler, no input): the smallest number of days until the
 * current root or any cluster's intermediate (as istiod uses it, from cacerts) expires, as metric
 * CaExpiryHeadroomDays with dimensions service and mesh. An unreachable cluster fails the check, which
 * has its own alarm.
 */
export async function handler(): Promise<CheckExpiryOutput> {
  return runHandler({ phase: PHASE }, (runtime) => checkExpiry(runtime));
}

async function checkExpiry(runtime: HandlerRuntime): Promise<CheckExpiryOutput> {
  const { store, config } = runtime;
  const root = await store.readCurrentRoot();
  const watched: WatchedCertificate[] = [
    { name: 'root', notAfter: describeCertificate(root.material.certificatePem).notAfter },
  ];
  const clusters = await runtime.fleet();
  const intermediates = await mapWithConcurrency(clusters, 4, async ({ name }) => {
    const { files } = await readClusterCacerts(await runtime.clusterClient(name), PHASE);
    return {
      name: `intermediate/${name}`,
      notAfter: describeCertificate(files['ca-cert.pem'], { cluster: name, file: 'ca-cert.pem' }).notAfter,
    };
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
