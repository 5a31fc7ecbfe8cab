import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { POWERTOOLS_METRICS_NAMESPACE_ENV } from '../../contract/function-environment.js';
import { getStringFromEnv } from '../environment.js';
import type { AuditEvent } from './audit-event.js';
import { SERVICE_NAME } from './logger.js';

/** The CloudWatch namespace of meshtrust's metrics unless configured otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'MeshTrust';

/** The metric counting state changes, one per audit event. */
export const STATE_CHANGES_METRIC = 'StateChanges';

export interface MetricsOptions {
  /**
   * CloudWatch namespace.
   * @default POWERTOOLS_METRICS_NAMESPACE from the environment, else `MeshTrust`
   */
  readonly namespace?: string;
}

/** Powertools Metrics writing CloudWatch Embedded Metric Format lines to stdout. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const namespace =
    options.namespace ??
    getStringFromEnv({ key: POWERTOOLS_METRICS_NAMESPACE_ENV, defaultValue: DEFAULT_METRICS_NAMESPACE });
  return new Metrics({ namespace, serviceName: SERVICE_NAME });
}

/**
 * Counts one state change, dimensioned by phase and outcome, and writes it at once (single metric),
 * so the count survives a step that fails later. Cluster is left out of the dimensions on purpose:
 * one metric series per cluster would cost more than the audit log, which already names it.
 */
export function recordStateChange(metrics: Metrics, event: Pick<AuditEvent, 'phase' | 'outcome'>): void {
  const single = metrics.singleMetric();
  single.addDimension('phase', event.phase);
  single.addDimension('outcome', event.outcome);
  single.addMetric(STATE_CHANGES_METRIC, MetricUnit.Count, 1);
}
